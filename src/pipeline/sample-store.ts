import type { DockerStats } from '../docker/stats-types.js';
import type { ContainerReading } from '../reduce/batch.js';
import { sampleReadMs } from '../reduce/sample-time.js';

/** What the watcher knows about a container when one of its samples arrives. */
export interface ContainerRef {
  readonly id: string;
  readonly name: string;
  readonly startedAtMs: number | undefined;
}

export type RecordOutcome = 'recorded' | 'empty' | 'stale';

/**
 * Holds, per container, the latest real sample since the last tick. The watcher records every
 * sample as it arrives; the tick takes the whole interval at once. A container whose stream has
 * closed meanwhile (it died, or was removed) still reports its last sample at the next tick.
 * Memory is bounded by the number of containers seen in one interval.
 */
export class SampleStore {
  #latest = new Map<string, ContainerReading>();

  /**
   * 'empty': a stopped container's placeholder sample (never a metric). 'stale': older than the
   * sample already held (can happen across a stream reopen), ignored.
   */
  record(ref: ContainerRef, sample: DockerStats): RecordOutcome {
    const readMs = sampleReadMs(sample);
    if (readMs === undefined) return 'empty';
    const held = this.#latest.get(ref.id);
    if (held && held.readMs > readMs) return 'stale';
    this.#latest.set(ref.id, { id: ref.id, name: ref.name, startedAtMs: ref.startedAtMs, sample, readMs });
    return 'recorded';
  }

  /** Number of containers with a sample waiting for the next tick. */
  get size(): number {
    return this.#latest.size;
  }

  /** Hands over the interval's readings and starts a new interval. */
  take(): ContainerReading[] {
    const readings = [...this.#latest.values()];
    this.#latest.clear();
    return readings;
  }
}

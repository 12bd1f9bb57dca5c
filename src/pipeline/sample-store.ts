import type { DockerStats } from '../docker/stats-types.js';
import type { ContainerReading } from '../reduce/batch.js';
import type { ContainerFacts } from '../reduce/container-metrics.js';
import { countersWentBack } from '../reduce/docker-math.js';
import { sampleValues, type SampleValues } from '../reduce/sample-values.js';

/** What the watcher knows about a container when one of its samples arrives. */
export interface ContainerRef {
  readonly id: string;
  readonly name: string;
  readonly facts: ContainerFacts;
}

export type RecordOutcome = 'recorded' | 'reset' | 'empty' | 'stale';

/**
 * Holds, per container, the earliest and the latest real sample since the last tick. The watcher
 * records every sample as it arrives; the tick takes the whole interval at once. A container whose
 * stream has closed meanwhile (it died, or was removed) still reports at the next tick. When a
 * counter goes backwards (the container restarted), the interval's earliest sample becomes the
 * first one after the reset, so that rates never span a restart. Memory is bounded by the number
 * of containers seen in one interval: a sample is held as its values (sample-values.ts), never as
 * its parsed JSON, which is garbage as soon as record() returns.
 */
export class SampleStore {
  #held = new Map<string, { ref: ContainerRef; first: SampleValues; latest: SampleValues }>();
  /** With `carryBaseline`: each container's latest sample of the previous interval. */
  #baseline = new Map<string, SampleValues>();
  readonly #carry: boolean;

  /**
   * `carryBaseline`: an interval's rates start from the previous interval's latest sample (one-shot
   * mode, where an interval holds a single sample per container).
   */
  constructor(opts: { carryBaseline?: boolean } = {}) {
    this.#carry = opts.carryBaseline ?? false;
  }

  /**
   * 'empty': a stopped container's placeholder sample (never a metric). 'stale': older than the
   * latest sample held (possible across a stream reopen), ignored. 'reset': counters went back.
   */
  record(ref: ContainerRef, sample: DockerStats): RecordOutcome {
    const latest = sampleValues(sample);
    if (latest === undefined) return 'empty';
    const held = this.#held.get(ref.id);
    if (held && latest.readMs < held.latest.readMs) return 'stale';
    if (!held) {
      const base = this.#baseline.get(ref.id);
      const usable = base && base.readMs < latest.readMs && !countersWentBack(base, latest);
      this.#held.set(ref.id, { ref, first: usable ? base : latest, latest });
      return 'recorded';
    }
    held.ref = ref;
    const reset = countersWentBack(held.latest, latest);
    if (reset) held.first = latest;
    held.latest = latest;
    return reset ? 'reset' : 'recorded';
  }

  /** Number of containers with a sample waiting for the next tick. */
  get size(): number {
    return this.#held.size;
  }

  /** Hands over the interval's readings and starts a new interval. */
  take(): ContainerReading[] {
    const readings: ContainerReading[] = [];
    if (this.#carry) this.#baseline.clear();
    for (const [id, h] of this.#held) {
      readings.push({ id, name: h.ref.name, facts: h.ref.facts, first: h.first, latest: h.latest });
      if (this.#carry) this.#baseline.set(id, h.latest);
    }
    this.#held.clear();
    return readings;
  }
}

import type { ContainerRef } from '../docker/container.js';
import type { SampleValues } from '../docker/sample-values.js';
import { countersWentBack } from './docker-math.js';
import { copySample, overwriteSample } from './sample-copy.js';
import type { ContainerReading } from './tick.js';

/** `latest` is always the store's own copy of a sample; while it is also `first`, it is not written into. */
interface Held {
  container: ContainerRef;
  first: SampleValues;
  latest: SampleValues;
}

export type RecordOutcome = 'recorded' | 'reset' | 'empty' | 'stale';

/**
 * Holds, per container, the earliest and the latest real sample since the last tick, and the
 * container as of the latest. The collector records every sample as it arrives; the tick takes the
 * whole interval at once. A container whose samples have stopped meanwhile (it died, or was
 * removed) still reports at the next tick. When a counter goes backwards (the container
 * restarted), the interval's earliest sample becomes the first one after the reset, so that rates
 * never span a restart. Memory is bounded by the number of containers seen in one interval.
 */
export class SampleStore {
  #held = new Map<string, Held>();
  /** With `carryBaseline`: each container's latest sample of the previous interval. */
  #baseline = new Map<string, SampleValues>();
  readonly #carry: boolean;

  /**
   * `carryBaseline`: an interval's rates start from the previous interval's latest sample (for a
   * collector that takes one sample per container per tick).
   */
  constructor(opts: { carryBaseline?: boolean } = {}) {
    this.#carry = opts.carryBaseline ?? false;
  }

  /**
   * `values` undefined: a stopped container's placeholder sample (never a metric), 'empty'.
   * 'stale': older than the latest sample held (possible across a stream reopen), ignored.
   * 'reset': counters went back.
   */
  record(container: ContainerRef, values: SampleValues | undefined): RecordOutcome {
    if (values === undefined) return 'empty';
    const held = this.#held.get(container.id);
    if (held && values.readMs < held.latest.readMs) return 'stale';
    if (!held) {
      const base = this.#baseline.get(container.id);
      const usable = base && base.readMs < values.readMs && !countersWentBack(base, values);
      const latest = copySample(values);
      const first = usable ? base : latest;
      this.#held.set(container.id, { container, first, latest });
      return 'recorded';
    }
    held.container = container;
    const reset = countersWentBack(held.latest, values);
    if (reset) {
      held.first = copySample(values);
      held.latest = held.first;
    } else if (held.latest !== held.first) {
      // Into the copy, which nothing else holds (sample-copy.ts says why).
      overwriteSample(held.latest, values);
    } else held.latest = copySample(values);
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
      readings.push({ container: h.container, first: h.first, latest: h.latest });
      if (this.#carry) this.#baseline.set(id, h.latest);
    }
    this.#held.clear();
    return readings;
  }
}

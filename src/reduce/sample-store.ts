import type { ContainerRef } from '../model/container.js';
import type { SampleValues } from '../model/sample-values.js';
import { countersWentBack } from './docker-math.js';
import { copySample, overwriteSample } from './sample-copy.js';
import type { ContainerReading } from './tick.js';

/** `latest` is always the store's own copy of a sample; while it is also `first`, it is not written into. */
interface Held {
  container: ContainerRef;
  first: SampleValues;
  latest: SampleValues;
  /** Held back once already because its second had been sent: not held back again. */
  deferred?: true;
}

export type RecordOutcome = 'recorded' | 'reset' | 'empty' | 'stale';

/**
 * Holds, per container, the earliest and the latest real sample since the last tick, and the
 * container as of the latest. The collector records every sample as it arrives; the tick takes the
 * whole interval at once. A container whose samples have stopped meanwhile (it died, or was
 * removed) still reports at the next tick. When a counter goes backwards (the container
 * restarted), the interval's earliest sample becomes the first one after the reset, so that rates
 * never span a restart. An interval of a single sample has its rates from the previous interval's
 * latest sample: at a poll as short as the sampling (cgroup mode reads once a second; --poll 1s) most
 * intervals hold one sample, and without this they would have no rate at all. Memory is bounded by
 * the number of containers seen in two intervals.
 *
 * Metrics are stamped with their sample's whole second, and Graphite keeps one value per path and
 * second: a container's sample read in the second its previous tick's sample was read (a 1 s poll,
 * samples about a second apart) would overwrite those points with other values. Such a sample is
 * held back for one tick (a newer one takes its place, the interval spanning both), and given up
 * if none comes.
 */
export class SampleStore {
  #held = new Map<string, Held>();
  /** Per container, the second of the sample last handed over, for the containers of the last two takes. */
  #sent = new Map<string, number>();
  #sentBefore = new Map<string, number>();
  /** Each container's latest sample of the previous interval (handed over by the last take). */
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
      const latest = copySample(values);
      this.#held.set(container.id, { container, first: latest, latest });
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

  /** Hands over the interval's readings and starts a new interval (with any reading held back). */
  take(): ContainerReading[] {
    const readings: ContainerReading[] = [];
    const kept = new Map<string, Held>();
    const sent = new Map<string, number>();
    const previous = this.#baseline;
    const baseline = new Map<string, SampleValues>();
    for (const [id, h] of this.#held) {
      const second = Math.floor(h.latest.readMs / 1000);
      const last = this.#sent.get(id) ?? this.#sentBefore.get(id);
      if (last !== undefined && second <= last) {
        if (!h.deferred) kept.set(id, { ...h, deferred: true });
        sent.set(id, last);
        // Its interval goes on into the next take, from the same baseline.
        const base = previous.get(id);
        if (base) baseline.set(id, base);
        continue;
      }
      // From the previous interval's latest: always with carryBaseline, else for a lone sample.
      const base = previous.get(id);
      const fromBase =
        (this.#carry || h.first === h.latest) &&
        base !== undefined &&
        base.readMs < h.first.readMs &&
        !countersWentBack(base, h.first);
      readings.push({ container: h.container, first: fromBase ? base : h.first, latest: h.latest });
      sent.set(id, second);
      baseline.set(id, h.latest);
    }
    this.#baseline = baseline;
    this.#held = kept;
    this.#sentBefore = this.#sent;
    this.#sent = sent;
    return readings;
  }
}

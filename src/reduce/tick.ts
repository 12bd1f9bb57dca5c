import type { ContainerRef } from '../model/container.js';
import type { KernelCounters } from '../model/kernel-counters.js';
import type { SampleValues } from '../model/sample-values.js';
import { containerMetrics, type MetricOptions } from './container-metrics.js';
import { HOST, type Metric } from '../model/metric.js';

/** One container's interval: its earliest and latest real samples, and the container as of the latest. */
export interface ContainerReading {
  readonly container: ContainerRef;
  /** The interval's earliest real sample after any counter reset (the same as `latest` when alone). */
  readonly first: SampleValues;
  readonly latest: SampleValues;
}

export interface TickOptions {
  /** The tick's time, Unix seconds: the timestamp of the host metrics. */
  readonly tickSeconds: number;
  readonly metrics: MetricOptions;
  /** The category the naming rules give a container (`containers.<category>`), if any. */
  readonly categoryOf: (container: ContainerRef) => string | undefined;
  /** The kernel's counters read at this tick, by container id (none for a remote Engine). */
  readonly kernel?: ReadonlyMap<string, KernelCounters> | undefined;
}

/**
 * One interval's readings → the tick's metrics, made as they are read. Per container, the metrics
 * of its interval, stamped with its latest sample's `read` time (whole seconds); per host,
 * `containers` per category (`total`, and each rule category) counted over the containers of this
 * tick, stamped with the tick; then `extra` (the daemon's own metrics).
 *
 * Each pass over it makes the container metrics again, one container at a time, instead of the
 * tick holding all of them at once: held, they lived (and so were promoted to V8's old space) until
 * every sink had encoded the tick; made this way they die young (docs/architecture.md §6). A pass
 * is cheap next to sending; the readings are not changed.
 */
export function tickMetrics(
  readings: readonly ContainerReading[],
  opts: TickOptions,
  extra: readonly Metric[] = [],
): Iterable<Metric> {
  const categories = new Map<string, number>();
  for (const r of readings) {
    const category = opts.categoryOf(r.container);
    if (category !== undefined) categories.set(category, (categories.get(category) ?? 0) + 1);
  }
  const host = (category: string, value: number): Metric => ({
    subject: HOST,
    name: 'containers',
    per: { key: 'category', value: category },
    kind: 'gauge',
    value,
    time: opts.tickSeconds,
  });
  const tail = [
    ...[...categories].map(([category, count]) => host(category, count)),
    host('total', readings.length),
    ...extra,
  ];
  const metricsOf = (r: ContainerReading): Metric[] =>
    containerMetrics(
      r.first,
      r.latest,
      r.container.facts,
      opts.metrics,
      {
        subject: { kind: 'container', container: r.container },
        time: Math.floor(r.latest.readMs / 1000),
      },
      opts.kernel?.get(r.container.id),
    );
  return { [Symbol.iterator]: () => new TickIterator(readings, metricsOf, tail) };
}

/**
 * A pass over a tick's metrics: each container's in turn, then the tail. Written out rather than
 * a generator: a generator's resume per metric cost more than making the metric.
 */
class TickIterator implements Iterator<Metric> {
  readonly #readings: readonly ContainerReading[];
  readonly #metricsOf: (r: ContainerReading) => Metric[];
  readonly #tail: readonly Metric[];
  #next = 0;
  #current: readonly Metric[] = [];
  #at = 0;
  #tailDone = false;

  constructor(
    readings: readonly ContainerReading[],
    metricsOf: (r: ContainerReading) => Metric[],
    tail: readonly Metric[],
  ) {
    this.#readings = readings;
    this.#metricsOf = metricsOf;
    this.#tail = tail;
  }

  next(): IteratorResult<Metric, undefined> {
    while (this.#at >= this.#current.length) {
      if (this.#next < this.#readings.length) this.#current = this.#metricsOf(this.#readings[this.#next++]!);
      else if (!this.#tailDone) {
        this.#current = this.#tail;
        this.#tailDone = true;
      } else return { done: true, value: undefined };
      this.#at = 0;
    }
    return { done: false, value: this.#current[this.#at++]! };
  }
}

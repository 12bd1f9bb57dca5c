import type { ContainerRef } from '../docker/container.js';
import type { SampleValues } from '../docker/sample-values.js';
import { containerMetrics, type MetricOptions } from './container-metrics.js';
import { HOST, type Metric } from './metric.js';

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
}

/**
 * Pure: one interval's readings → the tick's metrics. Per container, the metrics of its interval,
 * stamped with its latest sample's `read` time (whole seconds); per host, `containers` per
 * category (`total`, and each rule category) counted over the containers of this tick, stamped with
 * the tick.
 */
export function tickMetrics(readings: Iterable<ContainerReading>, opts: TickOptions): Metric[] {
  const out: Metric[] = [];
  const categories = new Map<string, number>();
  let total = 0;
  for (const r of readings) {
    const subject = { kind: 'container', container: r.container } as const;
    for (const m of containerMetrics(r.first, r.latest, r.container.facts, opts.metrics, { subject, time: Math.floor(r.latest.readMs / 1000) })) out.push(m);
    total += 1;
    const category = opts.categoryOf(r.container);
    if (category !== undefined) categories.set(category, (categories.get(category) ?? 0) + 1);
  }
  const host = (category: string, value: number): void => {
    out.push({ subject: HOST, name: 'containers', per: { key: 'category', value: category }, kind: 'gauge', value, time: opts.tickSeconds });
  };
  for (const [category, count] of categories) host(category, count);
  host('total', total);
  return out;
}

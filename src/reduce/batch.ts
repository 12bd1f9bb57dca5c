import { containerPath, type Rule } from '../naming/rules.js';
import {
  containerMetrics,
  DEFAULT_METRIC_OPTIONS,
  type ContainerFacts,
  type MetricOptions,
} from './container-metrics.js';
import type { Metric } from './metric.js';
import type { SampleValues } from './sample-values.js';

/** One container's interval: the values of its earliest and latest real samples, and what is known about it. */
export interface ContainerReading {
  readonly id: string;
  /** Current container name, with or without the leading `/`. */
  readonly name: string;
  readonly facts: ContainerFacts;
  /** The interval's earliest real sample after any counter reset (the same as `latest` when alone). */
  readonly first: SampleValues;
  readonly latest: SampleValues;
}

export interface BatchOptions {
  readonly rules: readonly Rule[];
  /** Sanitised path put in front of every path ('' for none). */
  readonly pathPrefix: string;
  /** Sanitised host path (the host name with dots replaced by `_`). */
  readonly hostPath: string;
  /** The tick's time, Unix seconds: the timestamp of the per-host metrics. */
  readonly tickSeconds: number;
  readonly metrics?: MetricOptions;
}

/**
 * Pure: one interval's readings → the batch for that tick. Per container, the metrics of its
 * interval (containerMetrics) stamped with its latest sample's `read` time (whole seconds); per host, `containers.total`
 * and `containers.<category>` counted over the containers in this batch, stamped with the tick.
 */
export function buildBatch(readings: Iterable<ContainerReading>, opts: BatchOptions): Metric[] {
  const prefix = opts.pathPrefix === '' ? '' : `${opts.pathPrefix}.`;
  const out: Metric[] = [];
  const categories = new Map<string, number>();
  let total = 0;
  for (const r of readings) {
    const { path, category } = containerPath(opts.rules, r.name, r.id.slice(0, 12));
    // Built once per container: each metric's path is then a single concatenation.
    const base = `${prefix}${path}.`;
    const time = Math.floor(r.latest.readMs / 1000);
    for (const { name, value } of containerMetrics(r.first, r.latest, r.facts, opts.metrics ?? DEFAULT_METRIC_OPTIONS)) {
      out.push({ path: base + name, value, time });
    }
    total += 1;
    if (category !== undefined) categories.set(category, (categories.get(category) ?? 0) + 1);
  }
  const host = (name: string, value: number): void => {
    out.push({ path: `${prefix}${opts.hostPath}.containers.${name}`, value, time: opts.tickSeconds });
  };
  for (const [category, count] of categories) host(category, count);
  host('total', total);
  return out;
}

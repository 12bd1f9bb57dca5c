import type { DockerStats } from '../docker/stats-types.js';
import { containerPath, type Rule } from '../naming/rules.js';
import { containerMetrics } from './container-metrics.js';
import type { Metric } from './metric.js';

/** The latest real sample of one container in an interval, with what is known about it. */
export interface ContainerReading {
  readonly id: string;
  /** Current container name, with or without the leading `/`. */
  readonly name: string;
  readonly startedAtMs: number | undefined;
  readonly sample: DockerStats;
  /** The sample's `read` time, epoch ms. */
  readonly readMs: number;
}

export interface BatchOptions {
  readonly rules: readonly Rule[];
  /** Sanitised path put in front of every path ('' for none). */
  readonly pathPrefix: string;
  /** Sanitised host path (the host name with dots replaced by `_`). */
  readonly hostPath: string;
  /** The tick's time, Unix seconds: the timestamp of the per-host metrics. */
  readonly tickSeconds: number;
}

/**
 * Pure: one interval's readings → the batch for that tick. Per container, the metrics of its latest
 * real sample stamped with that sample's `read` time (whole seconds); per host, `containers.total`
 * and `containers.<category>` counted over the containers in this batch, stamped with the tick.
 */
export function buildBatch(readings: Iterable<ContainerReading>, opts: BatchOptions): Metric[] {
  const join = (path: string): string => (opts.pathPrefix === '' ? path : `${opts.pathPrefix}.${path}`);
  const out: Metric[] = [];
  const categories = new Map<string, number>();
  let total = 0;
  for (const r of readings) {
    const { path, category } = containerPath(opts.rules, r.name, r.id.slice(0, 12));
    const time = Math.floor(r.readMs / 1000);
    for (const { name, value } of containerMetrics(r.sample, r.readMs, { startedAtMs: r.startedAtMs })) {
      out.push({ path: join(`${path}.${name}`), value, time });
    }
    total += 1;
    if (category !== undefined) categories.set(category, (categories.get(category) ?? 0) + 1);
  }
  const host = (name: string, value: number): void => {
    out.push({ path: join(`${opts.hostPath}.containers.${name}`), value, time: opts.tickSeconds });
  };
  for (const [category, count] of categories) host(category, count);
  host('total', total);
  return out;
}

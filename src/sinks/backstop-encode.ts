import type { Metric } from '../reduce/metric.js';

/** Backstop's `/publish/<name>` body: a JSON array of `{metric, value, measure_time}`. Pure. */
export function encodeBackstopBatch(items: readonly Metric[]): string {
  return JSON.stringify(items.map((m) => ({ metric: m.path, value: m.value, measure_time: m.time })));
}

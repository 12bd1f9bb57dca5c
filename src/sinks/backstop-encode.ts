import type { Metric } from '../reduce/metric.js';

/** A path that needs no JSON escaping: every sanitised path (`[A-Za-z0-9_.-]`) is one. */
const PLAIN = /^[\w.-]*$/;

/**
 * Backstop's `/publish/<name>` body: a JSON array of `{metric, value, measure_time}`. Pure. The
 * text is built directly (values are finite numbers, paths sanitised) instead of copying every
 * metric into a new object for JSON.stringify; a path that would need escaping still gets it.
 */
export function encodeBackstopBatch(items: readonly Metric[]): string {
  const parts = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) {
    const m = items[i]!;
    const metric = PLAIN.test(m.path) ? `"${m.path}"` : JSON.stringify(m.path);
    parts[i] = `{"metric":${metric},"value":${JSON.stringify(m.value)},"measure_time":${m.time}}`;
  }
  return `[${parts.join(',')}]`;
}

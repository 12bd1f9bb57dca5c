import type { Metric } from '../reduce/metric.js';

/** Carbon plaintext: one `path value unixtime` line per metric. Pure. */
export function encodeCarbonLines(items: readonly Metric[]): string {
  let out = '';
  for (const m of items) out += `${m.path} ${m.value} ${m.time}\n`;
  return out;
}

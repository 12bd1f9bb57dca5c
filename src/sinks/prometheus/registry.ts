import { Counter, Gauge, Registry } from 'prom-client';
import { familyHelp, type Series } from './series.js';

/**
 * Series → a fresh prom-client registry holding exactly them (so what is not in `series` is not
 * exposed: stale containers disappear). prom-client renders the text exposition format and escapes
 * label values. Counters are set by reset + inc (their values are never negative).
 */
export function toRegistry(series: readonly Series[]): Registry {
  const registry = new Registry();
  const families = new Map<string, { metric: Gauge | Counter; type: Series['type'] }>();
  for (const s of series) {
    let f = families.get(s.family);
    if (!f) {
      const config = {
        name: s.family,
        help: familyHelp(s.family),
        labelNames: Object.keys(s.labels),
        registers: [registry],
      };
      f = { metric: s.type === 'counter' ? new Counter(config) : new Gauge(config), type: s.type };
      families.set(s.family, f);
    }
    if (f.metric instanceof Counter) f.metric.inc(s.labels, Math.max(0, s.value));
    else f.metric.set(s.labels, s.value);
  }
  return registry;
}

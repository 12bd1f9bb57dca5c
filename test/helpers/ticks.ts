import type { CarbonPoint } from '../../src/naming/carbon-path.js';
import { DAEMON, type Metric } from '../../src/model/metric.js';
import { carbonPointBytes, carbonPointCodec } from '../../src/sinks/carbon-point.js';
import type { Sink, Tick } from '../../src/sinks/sink.js';

/** Test point n: path `c.pN`, value n, time 1_700_000_000 + n. */
export const point = (n: number): CarbonPoint => ({ path: `c.p${n}`, value: n, time: 1_700_000_000 + n });

/** Points a to b - 1. */
export const points = (a: number, b: number): CarbonPoint[] => Array.from({ length: b - a }, (_, i) => point(a + i));

/** A tick whose metrics carry these values (a test sink's encode turns each back into its point). */
export function tickOf(items: readonly { value: number }[]): Tick {
  const metrics: Metric[] = items.map((p) => ({
    subject: DAEMON,
    name: `p${p.value}`,
    per: undefined,
    kind: 'gauge',
    value: p.value,
    time: 1_700_000_000 + p.value,
  }));
  return { time: 1_700_000_000, metrics, followed: [] };
}

/**
 * What every test sink of points shares: encode a tick of tickOf() back into points, made as they
 * are taken (as the carbon-speaking sinks hand them over), a spool codec.
 */
export const pointSinkParts: Pick<Sink<CarbonPoint>, 'encode' | 'itemBytes' | 'spool'> = {
  encode: (tick) => {
    const metrics = [...tick.metrics];
    function* made(): Generator<CarbonPoint> {
      for (const m of metrics) yield point(m.value);
    }
    return { count: metrics.length, bytesEach: carbonPointBytes(point(0)), items: made() };
  },
  itemBytes: carbonPointBytes,
  spool: carbonPointCodec('test'),
};

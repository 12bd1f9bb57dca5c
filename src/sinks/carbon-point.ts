import type { CarbonPaths, CarbonPoint } from '../naming/carbon-path.js';
import type { Sink, SpoolCodec, Tick } from './sink.js';

/** What a queued carbon point costs in memory, roughly: its path's UTF-16 and the object around it. */
export const carbonPointBytes = (p: CarbonPoint): number => 64 + 2 * p.path.length;

/**
 * The spool records of the sinks that send carbon points (Backstop, carbon): `[path, value, time]`,
 * what replay needs and no more. A row of another shape is not a point (a corrupt record).
 */
export function carbonPointCodec(key: string): SpoolCodec<CarbonPoint> {
  return {
    key,
    encode: (p) => [p.path, p.value, p.time],
    decode: (row) =>
      Array.isArray(row) &&
      row.length === 3 &&
      typeof row[0] === 'string' &&
      typeof row[1] === 'number' &&
      typeof row[2] === 'number'
        ? { path: row[0], value: row[1], time: row[2] }
        : undefined,
  };
}

/** What a point of a lazy batch is taken to cost (a 64-character path) before it is made. */
const LAZY_POINT_BYTES = 64 + 2 * 64;

/**
 * The part every carbon-speaking sink shares: a tick becomes carbon points through the one naming.
 * The points are made as the runner takes them, a batch at a time, not all at the tick: a big
 * tick's points, made at once, lived (and so were promoted to V8's old space) for as long as their
 * delivery took, and grew the heap (docs/architecture.md §6). Counting them takes one pass over
 * the tick's metrics.
 */
export function carbonPointSink(paths: CarbonPaths): Pick<Sink<CarbonPoint>, 'encode' | 'itemBytes'> {
  return {
    encode: (tick: Tick) => {
      let count = 0;
      for (const _ of tick.metrics) count += 1;
      return { count, bytesEach: LAZY_POINT_BYTES, items: paths.eachPoint(tick.metrics) };
    },
    itemBytes: carbonPointBytes,
  };
}

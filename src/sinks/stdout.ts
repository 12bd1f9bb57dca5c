import type { Writable } from 'node:stream';
import type { CarbonPaths, CarbonPoint } from '../naming/carbon-path.js';
import { encodeCarbonLines } from './carbon-encode.js';
import { carbonPointSink } from './carbon-point.js';
import type { Sink } from './sink.js';

/** Prints carbon plaintext lines: the zero-config way to see what would be sent. */
export function createStdoutSink(out: Writable, paths: CarbonPaths): Sink<CarbonPoint> {
  return {
    description: 'stdout',
    ...carbonPointSink(paths),
    maxBatchItems: 10_000,
    async send(items) {
      if (!out.write(encodeCarbonLines(items))) {
        await new Promise<void>((resolve) => out.once('drain', resolve));
      }
    },
    async close() {},
  };
}

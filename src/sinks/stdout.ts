import type { Writable } from 'node:stream';
import { encodeCarbonLines } from './carbon-encode.js';
import type { Sink } from './sink.js';

/** Prints carbon plaintext lines: the zero-config way to see what would be sent. */
export function createStdoutSink(out: Writable): Sink {
  return {
    description: 'stdout',
    maxBatchItems: 10_000,
    async send(items) {
      if (!out.write(encodeCarbonLines(items))) {
        await new Promise<void>((resolve) => out.once('drain', resolve));
      }
    },
    async close() {},
  };
}

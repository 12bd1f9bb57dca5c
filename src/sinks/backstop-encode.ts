import type { CarbonPoint } from '../naming/carbon-path.js';

/** A path that needs no JSON escaping: every sanitised path (`[A-Za-z0-9_.-]`) is one. */
const PLAIN = /^[\w.-]*$/;

/** Bytes an item takes at most besides its path: names and punctuation, a value, a time (24 each). */
const ITEM_BYTES = '{"metric":"","value":,"measure_time":},'.length + 24 + 24;

/** Writes an ASCII string at `at` (a plain loop: faster than a Buffer.write call per short piece). */
function ascii(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * Backstop's `/publish/<name>` body: a JSON array of `{metric, value, measure_time}`, as UTF-8.
 * Pure. The bytes are written straight into one buffer (values are finite numbers, paths
 * sanitised): a batch of 1,000 then allocates a few small strings per item instead of a copy of
 * every metric and of the whole text in between (tick after tick, that garbage was most of what
 * the daemon allocated while sending). A path that would need escaping still gets it.
 */
export function encodeBackstopBatch(items: readonly CarbonPoint[]): Buffer {
  // Each path is tested once: the bound and the writing both need to know whether it is plain.
  const plain = new Uint8Array(items.length);
  let bound = 2;
  for (let i = 0; i < items.length; i++) {
    const path = items[i]!.path;
    plain[i] = PLAIN.test(path) ? 1 : 0;
    // A path takes at most one byte per character when plain, else 6 (`\u001f`) and the quotes.
    bound += ITEM_BYTES + (plain[i] ? path.length : 6 * path.length + 2);
  }
  const buf = Buffer.allocUnsafe(bound);
  let at = ascii(buf, 0, '[');
  for (let i = 0; i < items.length; i++) {
    const m = items[i]!;
    if (i > 0) at = ascii(buf, at, ',');
    if (plain[i]) {
      at = ascii(buf, at, '{"metric":"');
      at = ascii(buf, at, m.path);
      at = ascii(buf, at, '","value":');
    } else {
      at = ascii(buf, at, '{"metric":');
      at += buf.write(JSON.stringify(m.path), at, 'utf8');
      at = ascii(buf, at, ',"value":');
    }
    at = ascii(buf, at, JSON.stringify(m.value));
    at = ascii(buf, at, ',"measure_time":');
    at = ascii(buf, at, String(m.time));
    at = ascii(buf, at, '}');
  }
  at = ascii(buf, at, ']');
  return buf.subarray(0, at);
}

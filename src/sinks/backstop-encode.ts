import type { CarbonPoint } from '../naming/carbon-path.js';

/** A path that needs no JSON escaping: every sanitised path (`[A-Za-z0-9_.-]`) is one. */
const PLAIN = /^[\w.-]*$/;

/** Bytes an item takes at most besides its path: names and punctuation, a value, a time (24 each). */
const ITEM_BYTES = '{"metric":"","value":,"measure_time":},'.length + 24 + 24;

/** The fixed pieces of an item, as bytes: copied in one call each. */
const OPEN_PLAIN = Buffer.from('{"metric":"', 'latin1');
const OPEN_ESCAPED = Buffer.from('{"metric":', 'latin1');
const VALUE_PLAIN = Buffer.from('","value":', 'latin1');
const VALUE_ESCAPED = Buffer.from(',"value":', 'latin1');
const TIME = Buffer.from(',"measure_time":', 'latin1');

/** Writes a short ASCII string at `at` (a plain loop: faster than a Buffer.write call for a few characters). */
function ascii(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
  return at + text.length;
}

function bytes(buf: Buffer, at: number, piece: Buffer): number {
  buf.set(piece, at);
  return at + piece.length;
}

/**
 * Backstop's `/publish/<name>` body: a JSON array of `{metric, value, measure_time}`, as UTF-8.
 * Pure. The bytes are written straight into one buffer (values are finite numbers, paths
 * sanitised): a batch then allocates a few small strings per item instead of a copy of every
 * metric and of the whole text in between, which was most of what the daemon allocated while
 * sending. A path that would need escaping still gets it. The fixed pieces are copied from buffers
 * and the path written by one Buffer.write, because a character at a time made encoding a visible
 * share of the daemon's busy time at thousands of containers (docs/architecture.md §6).
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
  buf[0] = 0x5b; // [
  let at = 1;
  // A batch's items mostly share their time: its text is made once per run of the same time.
  let time = Number.NaN;
  let timeText = '';
  for (let i = 0; i < items.length; i++) {
    const m = items[i]!;
    if (i > 0) buf[at++] = 0x2c; // ,
    if (plain[i]) {
      at = bytes(buf, at, OPEN_PLAIN);
      // Plain: ASCII only, one byte per character.
      at += buf.write(m.path, at, 'latin1');
      at = bytes(buf, at, VALUE_PLAIN);
    } else {
      at = bytes(buf, at, OPEN_ESCAPED);
      at += buf.write(JSON.stringify(m.path), at, 'utf8');
      at = bytes(buf, at, VALUE_ESCAPED);
    }
    at = ascii(buf, at, JSON.stringify(m.value));
    at = bytes(buf, at, TIME);
    if (m.time !== time) {
      time = m.time;
      timeText = String(time);
    }
    at = ascii(buf, at, timeText);
    buf[at++] = 0x7d; // }
  }
  buf[at++] = 0x5d; // ]
  return buf.subarray(0, at);
}

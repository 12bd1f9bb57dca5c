import type { CarbonPoint } from '../naming/carbon-path.js';

/** Carbon plaintext: one `path value unixtime` line per metric. Pure. */
export function encodeCarbonLines(items: readonly CarbonPoint[]): string {
  let out = '';
  for (const m of items) out += carbonLine(m);
  return out;
}

/** One carbon plaintext line, newline included. */
export function carbonLine(m: CarbonPoint, prefix = ''): string {
  return `${prefix}${m.path} ${m.value} ${m.time}\n`;
}

/**
 * Lines cut into chunks of at most `maxBytes` bytes, each holding whole lines only (one UDP
 * datagram per chunk). A single line longer than `maxBytes` gets a chunk of its own. Pure.
 */
export function chunkLines(lines: readonly string[], maxBytes: number): string[] {
  const out: string[] = [];
  let cur = '';
  let curBytes = 0;
  for (const line of lines) {
    const bytes = Buffer.byteLength(line);
    if (curBytes > 0 && curBytes + bytes > maxBytes) {
      out.push(cur);
      cur = '';
      curBytes = 0;
    }
    cur += line;
    curBytes += bytes;
  }
  if (curBytes > 0) out.push(cur);
  return out;
}

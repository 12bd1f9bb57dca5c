/**
 * Splits a byte stream into newline-terminated lines: the Engine's stats and events streams send
 * one JSON object per line, and an HTTP chunk is not a line. A line longer than `maxLineBytes`
 * without a newline is a broken stream: `push` returns false and the caller closes it.
 */
export class LineSplitter {
  readonly #max: number;
  readonly #onLine: (line: string) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes: number, onLine: (line: string) => void) {
    this.#max = maxLineBytes;
    this.#onLine = onLine;
  }

  push(chunk: Buffer): boolean {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      // The usual line, whole in its chunk and nothing around the JSON object: decoded as it is,
      // without a Buffer view or a trimmed copy in between (one each per sample, otherwise).
      if (this.#pendingBytes === 0 && chunk[start] === 0x7b && chunk[nl - 1] === 0x7d && nl - start <= this.#max) {
        this.#onLine(chunk.toString('utf8', start, nl));
        start = nl + 1;
        continue;
      }
      let line: Buffer = chunk.subarray(start, nl);
      if (this.#pendingBytes > 0) {
        line = Buffer.concat([...this.#pending, line]);
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      start = nl + 1;
      if (line.length > this.#max) return false;
      const text = line.toString('utf8').trim();
      if (text !== '') this.#onLine(text);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#pendingBytes += rest.length;
      if (this.#pendingBytes > this.#max) return false;
      // Copy: the stream may reuse its chunk buffers.
      this.#pending.push(Buffer.from(rest));
    }
    return true;
  }
}

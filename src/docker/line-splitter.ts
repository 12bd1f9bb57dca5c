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
      let text: string;
      if (this.#pendingBytes > 0) {
        const line = Buffer.concat([...this.#pending, chunk.subarray(start, nl)]);
        this.#pending = [];
        this.#pendingBytes = 0;
        if (line.length > this.#max) return false;
        text = line.toString('utf8');
      } else {
        // A line whole in its chunk (the usual case) is decoded from the chunk: no Buffer view.
        if (nl - start > this.#max) return false;
        text = chunk.toString('utf8', start, nl);
      }
      start = nl + 1;
      text = text.trim();
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

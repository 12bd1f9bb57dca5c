/**
 * Reads the Engine's stats and events streams, which send one JSON object per line (an HTTP chunk
 * is not a line), and hands each object to `onObject`. A line that is not a JSON object is skipped
 * and given to `onSkip` (to count it), with `first` true for the first one of the stream only (the
 * one worth a log line). A line longer than `maxLineBytes` without a newline is a broken stream:
 * `push` returns false and the caller closes it.
 */
export class JsonLines {
  readonly #splitter: LineSplitter;
  #skipped = false;

  constructor(
    maxLineBytes: number,
    onObject: (value: Readonly<Record<string, unknown>>) => void,
    onSkip: (line: string, first: boolean) => void,
  ) {
    this.#splitter = new LineSplitter(maxLineBytes, (line) => {
      const value = parseObject(line);
      if (value !== undefined) return onObject(value);
      onSkip(line, !this.#skipped);
      this.#skipped = true;
    });
  }

  /** Reads a chunk; false when a line grew past the bound. */
  push(chunk: Buffer): boolean {
    return this.#splitter.push(chunk);
  }
}

function parseObject(line: string): Readonly<Record<string, unknown>> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  return isObject ? (value as Record<string, unknown>) : undefined;
}

/** Splits a byte stream into newline-terminated lines, trimmed, blank ones left out. */
class LineSplitter {
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

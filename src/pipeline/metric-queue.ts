import type { Metric } from '../reduce/metric.js';

/** What one queued metric costs in memory, roughly: its path's UTF-16 and the object around it. */
const itemBytes = (m: Metric): number => 64 + 2 * m.path.length;

/**
 * A FIFO of metrics bounded by count and by (estimated) bytes. When full, the oldest items leave:
 * handed to `overflow` when given (the spool), else dropped and counted. Batches are kept as the
 * arrays they arrived in (no copying per item) with a read offset into the first one.
 */
export class MetricQueue {
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #overflow: ((items: Metric[]) => void) | undefined;
  #chunks: (readonly Metric[])[] = [];
  #offset = 0;
  #size = 0;
  #bytes = 0;
  #dropped = 0;

  constructor(maxItems: number, maxBytes = Infinity, overflow?: (items: Metric[]) => void) {
    if (!(maxItems > 0) || !(maxBytes > 0)) throw new RangeError('queue bounds must be > 0');
    this.#maxItems = maxItems;
    this.#maxBytes = maxBytes;
    this.#overflow = overflow;
  }

  get size(): number {
    return this.#size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Items dropped for lack of room (not those handed to `overflow`). */
  get dropped(): number {
    return this.#dropped;
  }

  push(items: readonly Metric[]): void {
    if (items.length === 0) return;
    this.#chunks.push(items);
    this.#size += items.length;
    for (const m of items) this.#bytes += itemBytes(m);
    this.#trim();
  }

  /** Puts items that could not be delivered back at the head, oldest first. */
  unshift(items: readonly Metric[]): void {
    if (items.length === 0) return;
    if (this.#offset > 0) {
      const first = this.#chunks[0];
      if (first) this.#chunks[0] = first.slice(this.#offset);
      this.#offset = 0;
    }
    this.#chunks.unshift(items);
    this.#size += items.length;
    for (const m of items) this.#bytes += itemBytes(m);
    this.#trim();
  }

  /** Removes and returns up to `n` items from the head. */
  take(n: number): Metric[] {
    const out: Metric[] = [];
    while (out.length < n && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const count = Math.min(n - out.length, first.length - this.#offset);
      for (let i = 0; i < count; i++) out.push(first[this.#offset + i]!);
      this.#advance(count);
    }
    for (const m of out) this.#bytes -= itemBytes(m);
    return out;
  }

  #trim(): void {
    let excess = this.#size - this.#maxItems;
    if (excess <= 0 && this.#bytes <= this.#maxBytes) return;
    const gone: Metric[] = [];
    while (this.#size > 0 && (excess > 0 || this.#bytes > this.#maxBytes)) {
      const m = this.take(1)[0]!;
      gone.push(m);
      excess -= 1;
    }
    if (this.#overflow) this.#overflow(gone);
    else this.#dropped += gone.length;
  }

  #advance(count: number): void {
    this.#offset += count;
    this.#size -= count;
    if (this.#offset >= (this.#chunks[0]?.length ?? 0)) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}

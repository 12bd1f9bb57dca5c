/**
 * A FIFO bounded by count and by (estimated) bytes. When full, the oldest items leave: handed to
 * `overflow` when given (the spool), else dropped and counted. Batches are kept as the arrays they
 * arrived in (no copying per item) with a read offset into the first one.
 */
export class BoundedQueue<T> {
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (item: T) => number;
  readonly #overflow: ((items: T[]) => void) | undefined;
  #chunks: (readonly T[])[] = [];
  #offset = 0;
  #size = 0;
  #bytes = 0;
  #dropped = 0;

  /** `sizeOf`: what one item costs in memory, roughly, for the byte bound. */
  constructor(opts: { maxItems: number; maxBytes?: number; sizeOf: (item: T) => number; overflow?: ((items: T[]) => void) | undefined }) {
    const maxBytes = opts.maxBytes ?? Infinity;
    if (!(opts.maxItems > 0) || !(maxBytes > 0)) throw new RangeError('queue bounds must be > 0');
    this.#maxItems = opts.maxItems;
    this.#maxBytes = maxBytes;
    this.#sizeOf = opts.sizeOf;
    this.#overflow = opts.overflow;
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

  push(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#chunks.push(items);
    this.#size += items.length;
    for (const item of items) this.#bytes += this.#sizeOf(item);
    this.#trim();
  }

  /** Puts items that could not be delivered back at the head, oldest first. */
  unshift(items: readonly T[]): void {
    if (items.length === 0) return;
    if (this.#offset > 0) {
      const first = this.#chunks[0];
      if (first) this.#chunks[0] = first.slice(this.#offset);
      this.#offset = 0;
    }
    this.#chunks.unshift(items);
    this.#size += items.length;
    for (const item of items) this.#bytes += this.#sizeOf(item);
    this.#trim();
  }

  /** Removes and returns up to `n` items from the head. */
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const count = Math.min(n - out.length, first.length - this.#offset);
      for (let i = 0; i < count; i++) out.push(first[this.#offset + i]!);
      this.#advance(count);
    }
    for (const item of out) this.#bytes -= this.#sizeOf(item);
    return out;
  }

  #trim(): void {
    let excess = this.#size - this.#maxItems;
    if (excess <= 0 && this.#bytes <= this.#maxBytes) return;
    const gone: T[] = [];
    while (this.#size > 0 && (excess > 0 || this.#bytes > this.#maxBytes)) {
      gone.push(this.take(1)[0]!);
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

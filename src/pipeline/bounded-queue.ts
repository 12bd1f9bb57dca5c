import type { LazyItems } from '../sinks/sink.js';

/** A lazy batch in the queue: how many of its items are still to be made. */
interface LazyChunk<T> {
  readonly source: Iterator<T>;
  readonly bytesEach: number;
  left: number;
}

type Chunk<T> = readonly T[] | LazyChunk<T>;

const isLazy = <T>(c: Chunk<T>): c is LazyChunk<T> => !Array.isArray(c);

/**
 * A FIFO bounded by count and by (estimated) bytes. When full, the oldest items leave: handed to
 * `overflow` when given (the spool), else dropped and counted. Batches are kept as the arrays they
 * arrived in (no copying per item) with a read offset into the first one, or as LazyItems whose
 * items are made as they are taken; a lazy batch counts its items (and their bytes, estimated) from
 * the start, so the bounds hold the same either way.
 */
export class BoundedQueue<T> {
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (item: T) => number;
  readonly #overflow: ((items: T[]) => void) | undefined;
  #chunks: Chunk<T>[] = [];
  #offset = 0;
  #size = 0;
  #bytes = 0;
  #dropped = 0;

  /** `sizeOf`: what one item costs in memory, roughly, for the byte bound. */
  constructor(opts: {
    maxItems: number;
    maxBytes?: number;
    sizeOf: (item: T) => number;
    overflow?: ((items: T[]) => void) | undefined;
  }) {
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

  push(items: readonly T[] | LazyItems<T>): void {
    if (Array.isArray(items)) {
      if (items.length === 0) return;
      this.#chunks.push(items);
      this.#size += items.length;
      for (const item of items) this.#bytes += this.#sizeOf(item);
    } else {
      const lazy = items as LazyItems<T>;
      if (lazy.count <= 0) return;
      this.#chunks.push({ source: lazy.items, bytesEach: lazy.bytesEach, left: lazy.count });
      this.#size += lazy.count;
      this.#bytes += lazy.count * lazy.bytesEach;
    }
    this.#trim();
  }

  /** Puts items that could not be delivered back at the head, oldest first. */
  unshift(items: readonly T[]): void {
    if (items.length === 0) return;
    if (this.#offset > 0) {
      const first = this.#chunks[0] as readonly T[];
      this.#chunks[0] = first.slice(this.#offset);
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
      if (isLazy(first)) {
        this.#takeLazy(first, n - out.length, out);
        continue;
      }
      const count = Math.min(n - out.length, first.length - this.#offset);
      for (let i = 0; i < count; i++) {
        const item = first[this.#offset + i]!;
        this.#bytes -= this.#sizeOf(item);
        out.push(item);
      }
      this.#offset += count;
      this.#size -= count;
      if (this.#offset >= first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    return out;
  }

  /** Makes up to `n` of the head lazy batch's items into `out`. */
  #takeLazy(chunk: LazyChunk<T>, n: number, out: T[]): void {
    const want = Math.min(n, chunk.left);
    let made = 0;
    while (made < want) {
      const next = chunk.source.next();
      if (next.done) break;
      out.push(next.value);
      made += 1;
    }
    // A source that ends early (it never should) gives up its uncounted rest.
    const gone = made < want ? chunk.left : made;
    chunk.left -= gone;
    this.#size -= gone;
    this.#bytes -= gone * chunk.bytesEach;
    if (chunk.left <= 0) this.#chunks.shift();
  }

  #trim(): void {
    let excess = this.#size - this.#maxItems;
    if (excess <= 0 && this.#bytes <= this.#maxBytes) return;
    const gone: T[] = [];
    while (this.#size > 0 && (excess > 0 || this.#bytes > this.#maxBytes)) {
      const before = this.#size;
      gone.push(...this.take(1));
      excess -= before - this.#size;
    }
    if (this.#overflow) this.#overflow(gone);
    else this.#dropped += gone.length;
  }
}

import type { Metric } from '../reduce/metric.js';

/**
 * A FIFO of metrics bounded by count. When full, the oldest items go and are counted: a sink that
 * cannot deliver must not make the daemon grow without bound. Batches are kept as the arrays they
 * arrived in (no copying per item) with a read offset into the first one.
 */
export class MetricQueue {
  readonly #max: number;
  #chunks: (readonly Metric[])[] = [];
  #offset = 0;
  #size = 0;
  #dropped = 0;

  constructor(maxItems: number) {
    if (!(maxItems > 0)) throw new RangeError('maxItems must be > 0');
    this.#max = maxItems;
  }

  get size(): number {
    return this.#size;
  }

  /** Items dropped for lack of room since the queue was made. */
  get dropped(): number {
    return this.#dropped;
  }

  push(items: readonly Metric[]): void {
    if (items.length === 0) return;
    this.#chunks.push(items);
    this.#size += items.length;
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
    return out;
  }

  #trim(): void {
    while (this.#size > this.#max) {
      const first = this.#chunks[0]!;
      const count = Math.min(this.#size - this.#max, first.length - this.#offset);
      this.#dropped += count;
      this.#advance(count);
    }
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

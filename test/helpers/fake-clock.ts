import type { Clock } from '../../src/clock.js';

/**
 * A clock of the test's own for the parts that take one (ticks, backoff, stall detection): time
 * stands still until `advance` moves it, running each timer that falls due, in order, at its
 * own time. Real I/O still happens in real time; `advance` yields to it between timers.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = Date.UTC(2026, 10, 30, 12, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(1, ms), fn });
    return () => void this.#timers.delete(id);
  }

  /** Timers waiting now. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time to the earliest timer and runs it (and any due with it); false when none waits. */
  async next(): Promise<boolean> {
    let at = Infinity;
    for (const t of this.#timers.values()) at = Math.min(at, t.at);
    if (at === Infinity) return false;
    await this.advance(at - this.#now);
    return true;
  }

  /** Moves time forward by `ms`, running the timers due on the way (and those they set). */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = until;
    await new Promise((r) => setImmediate(r));
  }
}

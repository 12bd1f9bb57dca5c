import type { Clock } from '../../src/clock.js';

/**
 * A clock of the test's own for the parts that take one (ticks, backoff, stall detection): time
 * stands still until `advance` moves it, running each timer that falls due, in order, at its
 * own time. Real I/O still happens in real time; `advance` yields to it between timers.
 *
 * Like the real one, its timers run on a monotonic clock, apart from the wall clock that `now`
 * reads: `stepWall` moves the wall clock alone (NTP stepping it), and `earlyMs` makes timers fire
 * that much before their time as the wall clock sees it (Node's timers against `Date.now()`).
 */
export class FakeClock implements Clock {
  /** Monotonic time, which timers keep. */
  #mono: number;
  /** Wall clock minus monotonic time. */
  #wallOffset = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  /** How much earlier than asked each timer set from now on fires (never sooner than 1 ms after it is set). */
  earlyMs = 0;

  constructor(startMs = Date.UTC(2026, 10, 30, 12, 0, 0)) {
    this.#mono = startMs;
  }

  now(): number {
    return this.#mono + this.#wallOffset;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#mono + Math.max(1, ms - this.earlyMs), fn });
    return () => void this.#timers.delete(id);
  }

  /** Moves the wall clock by `ms` (back when negative) without running any timer. */
  stepWall(ms: number): void {
    this.#wallOffset += ms;
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
    await this.advance(at - this.#mono);
    return true;
  }

  /** Moves time forward by `ms`, running the timers due on the way (and those they set). */
  async advance(ms: number): Promise<void> {
    const until = this.#mono + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#mono = next[1].at;
      next[1].fn();
    }
    this.#mono = until;
    await new Promise((r) => setImmediate(r));
  }
}

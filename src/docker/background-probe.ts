import type { Clock } from '../clock.js';

/**
 * One measurement taken in the background, off the tick's path, for metrics that cost the Engine
 * too much (or take too long) to wait for in a tick: the groups `swarm` and `disk`.
 *
 * Contract: the daemon calls `kick()` at every tick (and once at start); a measurement starts if
 * `due` says so and none is running, so there are never two at once. A finished measurement is
 * handed out once, by the next `take()` (a newer one that ends first replaces it: the newest is
 * what counts), with the time it started: what it describes is the state when it was asked for,
 * and so two measurements are stamped at least as far apart as `due` keeps them. `settle()` waits
 * for the running one (for --once); `stop()` aborts it and ends the probe.
 */
export class BackgroundProbe<T> {
  readonly #clock: Clock;
  readonly #measure: (signal: AbortSignal) => Promise<T | undefined>;
  readonly #due: (nowMs: number, lastStartMs: number) => boolean;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #ready: { readonly timeMs: number; readonly value: T } | undefined;

  constructor(opts: {
    readonly clock: Clock;
    /** One measurement; undefined when there is nothing to send (it says why itself). Never rejects. */
    readonly measure: (signal: AbortSignal) => Promise<T | undefined>;
    /** Whether a measurement is due, given when the last one started. */
    readonly due: (nowMs: number, lastStartMs: number) => boolean;
  }) {
    this.#clock = opts.clock;
    this.#measure = opts.measure;
    this.#due = opts.due;
  }

  kick(): void {
    const now = this.#clock.now();
    if (this.#running || this.#stop.signal.aborted || !this.#due(now, this.#lastStartMs)) return;
    this.#lastStartMs = now;
    this.#running = this.#measure(this.#stop.signal)
      .then((value) => {
        if (value !== undefined && !this.#stop.signal.aborted) this.#ready = { timeMs: now, value };
      })
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** The measurement finished since the last take, once. */
  take(): { readonly timeMs: number; readonly value: T } | undefined {
    const ready = this.#ready;
    this.#ready = undefined;
    return ready;
  }

  async settle(): Promise<void> {
    await this.#running;
  }

  stop(): void {
    this.#stop.abort();
  }
}

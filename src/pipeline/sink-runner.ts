import { backoffMs, sleep, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { redact } from '../redact.js';
import type { Metric } from '../reduce/metric.js';
import { SinkSendError, type Sink } from '../sinks/sink.js';
import { MetricQueue } from './metric-queue.js';

export interface RetryPolicy {
  /** Transient failures: first retry after about `soonBaseMs`, doubling up to `soonCapMs`. */
  readonly soonBaseMs: number;
  readonly soonCapMs: number;
  /** Configuration errors (401/403/404): retried, but slowly. */
  readonly slowBaseMs: number;
  readonly slowCapMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  soonBaseMs: 1_000,
  soonCapMs: 60_000,
  slowBaseMs: 30_000,
  slowCapMs: 300_000,
};

export interface SinkRunnerOptions {
  readonly maxItems: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retry?: RetryPolicy;
  readonly random?: () => number;
}

/**
 * Drains one sink's bounded queue: FIFO, at most one send in flight, failed items go back to the
 * head and are retried with backoff and jitter (the only retry layer). Overflow drops the oldest
 * items, counted and reported once per tick by `reportDrops`.
 */
export class SinkRunner {
  readonly #sink: Sink;
  readonly #queue: MetricQueue;
  readonly #opts: SinkRunnerOptions;
  readonly #retry: RetryPolicy;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #nap: AbortController | undefined;
  #failures = 0;
  #deadline = Infinity;
  #reportedDrops = 0;
  #closed = false;
  #delivered = 0;
  #inFlight = 0;

  constructor(sink: Sink, opts: SinkRunnerOptions) {
    this.#sink = sink;
    this.#opts = opts;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#queue = new MetricQueue(opts.maxItems);
  }

  get description(): string {
    return this.#sink.description;
  }

  /** Items waiting (including any being sent right now). */
  get pending(): number {
    return this.#queue.size + this.#inFlight;
  }

  get delivered(): number {
    return this.#delivered;
  }

  get dropped(): number {
    return this.#queue.dropped;
  }

  enqueue(items: readonly Metric[]): void {
    if (this.#closed) return;
    this.#queue.push(items);
    this.#kick();
  }

  /** Logs how many items overflow dropped since the last report; called once per tick. */
  reportDrops(): void {
    const dropped = this.#queue.dropped - this.#reportedDrops;
    if (dropped > 0) {
      this.#reportedDrops = this.#queue.dropped;
      this.#opts.logger.warn('buffer full: dropped the oldest metrics', {
        sink: this.#sink.description,
        dropped,
        droppedTotal: this.#queue.dropped,
      });
    }
  }

  /**
   * Tries to deliver everything queued before `timeoutMs` runs out: a pending retry happens at once.
   * At the deadline the send in flight is aborted. Resolves with the number of items left undelivered.
   */
  async flush(timeoutMs: number): Promise<number> {
    this.#deadline = this.#opts.clock.now() + timeoutMs;
    this.#nap?.abort();
    this.#kick();
    const loop = this.#loop;
    if (loop) {
      let cancelTimer = (): void => {};
      const timedOut = new Promise<'timeout'>((resolve) => {
        cancelTimer = this.#opts.clock.setTimer(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([loop.then(() => 'done' as const), timedOut]);
      cancelTimer();
      if (outcome === 'timeout') {
        this.#abort.abort();
        this.#nap?.abort();
        await this.#loop;
      }
    }
    return this.#queue.size;
  }

  /** Stops sending (aborting a send in flight) and closes the sink. Runs once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#nap?.abort();
    await this.#loop;
    await this.#sink.close();
  }

  #kick(): void {
    if (this.#loop || this.#closed || this.#abort.signal.aborted) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      this.#inFlight = 0;
      // Items may have arrived while the loop was finishing.
      if (this.#queue.size > 0 && this.#failures === 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    const { clock, logger } = this.#opts;
    while (this.#queue.size > 0 && !this.#abort.signal.aborted) {
      const items = this.#queue.take(this.#sink.maxBatchItems);
      this.#inFlight = items.length;
      try {
        await this.#sink.send(items, this.#abort.signal);
        if (this.#delivered === 0) logger.info('first metrics delivered', { sink: this.#sink.description, items: items.length });
        this.#delivered += items.length;
        if (this.#failures > 0) {
          logger.info('sink delivers again', { sink: this.#sink.description, failedAttempts: this.#failures });
        }
        this.#failures = 0;
      } catch (err) {
        this.#queue.unshift(items);
        if (this.#abort.signal.aborted) break;
        const pace = err instanceof SinkSendError ? err.pace : 'soon';
        const base = pace === 'slow' ? this.#retry.slowBaseMs : this.#retry.soonBaseMs;
        const cap = pace === 'slow' ? this.#retry.slowCapMs : this.#retry.soonCapMs;
        const wait = backoffMs(this.#failures, base, cap, this.#opts.random);
        this.#failures += 1;
        const left = this.#deadline - clock.now();
        if (left <= 0) break;
        logger[pace === 'slow' ? 'error' : 'warn'](
          pace === 'slow' ? 'sink refuses the metrics: check its configuration' : 'sink send failed, will retry',
          {
            sink: this.#sink.description,
            error: redact(err instanceof Error ? err.message : String(err)),
            pending: this.#queue.size,
            retryInMs: Math.min(wait, left),
          },
        );
        this.#nap = new AbortController();
        await sleep(clock, Math.min(wait, left), this.#nap.signal);
        this.#nap = undefined;
      } finally {
        this.#inFlight = 0;
      }
    }
  }
}

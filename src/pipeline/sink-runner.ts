import { backoffMs, sleep, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { redact } from '../redact.js';
import { SinkSendError, type DaemonStatus, type LazyItems, type Sink, type SinkHealth, type Tick } from '../sinks/sink.js';
import { BoundedQueue } from './bounded-queue.js';
import type { Spool } from './spool.js';

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

/**
 * The retry policy for a poll interval: transient failures back off from 1 s up to the interval
 * itself (at least 1 s, at most 60 s), so that delivery resumes within one interval of the sink
 * answering again instead of up to a minute later while fresh batches pile up. Configuration
 * errors (401/403/404) keep their slow pace: retrying those every interval only fills the log.
 */
export function retryPolicyFor(pollMs: number): RetryPolicy {
  return { ...DEFAULT_RETRY, soonCapMs: Math.min(60_000, Math.max(1_000, pollMs)) };
}

export interface SinkRunnerOptions<T> {
  /** The memory buffer's bounds. */
  readonly maxItems: number;
  readonly maxBytes?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where batches go that cannot wait in memory; without one they are dropped (oldest first). */
  readonly spool?: Spool<T> | undefined;
  /** Pause between two backlog sends, so that draining a backlog does not flood the receiver. */
  readonly backlogGapMs?: number;
  readonly retry?: RetryPolicy;
  readonly random?: () => number;
}

/** The runner's counters, for the daemon's own metrics. */
export interface SinkStats {
  readonly delivered: number;
  readonly failures: number;
  readonly buffered: number;
  readonly spooledBytes: number;
  readonly dropped: number;
  /** Spool operations that failed (write, sync, ack, read) since start; the sink then runs from memory. */
  readonly spoolErrors: number;
}

/** What the daemon drives of a runner, whatever its sink's items are. */
export interface TickRunner {
  readonly description: string;
  /** Items waiting in memory (including any being sent right now). */
  readonly pending: number;
  readonly stats: SinkStats;
  health(): SinkHealth;
  start(status: DaemonStatus): Promise<void>;
  enqueue(tick: Tick): void;
  reportDrops(): void;
  flush(timeoutMs: number): Promise<number>;
  /** Synchronously writes what waits in memory to the spool, if there is one (a second signal's exit). */
  spillToSpool(): void;
  close(): Promise<void>;
}

/**
 * Drains one sink: at most one send in flight, the only retry layer (backoff with jitter), and
 * the one record of the sink's health (failing since when, and why).
 *
 * Each tick is encoded by the sink when it is enqueued (so what the items say is as of the tick).
 * Fresh batches wait in a bounded memory queue. With a spool, whatever cannot wait in memory goes to
 * disk instead of being dropped: the overflow of the memory queue, and everything while the sink is
 * failing (so that a crash during an outage loses nothing). The backlog on disk is replayed oldest
 * first once the sink answers again, interleaved with fresh batches (fresh data is never starved)
 * and paced by `backlogGapMs`. Without a spool the oldest items are dropped, counted, and reported
 * once per tick by `reportDrops`.
 */
export class SinkRunner<T> implements TickRunner {
  readonly #sink: Sink<T>;
  readonly #queue: BoundedQueue<T>;
  readonly #spool: Spool<T> | undefined;
  readonly #opts: SinkRunnerOptions<T>;
  readonly #retry: RetryPolicy;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #nap: AbortController | undefined;
  #failing = 0;
  #failuresTotal = 0;
  #deadline = Infinity;
  #reportedDrops = 0;
  #closed = false;
  #delivered = 0;
  #inFlight = 0;
  #failingSince: number | undefined;
  #lastError: string | undefined;

  constructor(sink: Sink<T>, opts: SinkRunnerOptions<T>) {
    this.#sink = sink;
    this.#opts = opts;
    this.#spool = opts.spool;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#queue = new BoundedQueue<T>({
      maxItems: opts.maxItems,
      maxBytes: opts.maxBytes,
      sizeOf: (item) => sink.itemBytes(item),
      overflow: this.#spool ? (items) => this.#toSpool(items) : undefined,
    });
    if (this.#spool?.hasBacklog) this.#kick();
  }

  get description(): string {
    return this.#sink.description;
  }

  /** Items waiting in memory (including any being sent right now). */
  get pending(): number {
    return this.#queue.size + this.#inFlight;
  }

  /** Whether its sends are failing, since when and why (for /healthz). */
  health(): SinkHealth {
    return { sink: this.#sink.description, failingSince: this.#failingSince, lastError: this.#lastError };
  }

  /** Starts the sink (a server's listen); the daemon calls it once, before collection starts. */
  async start(status: DaemonStatus): Promise<void> {
    await this.#sink.start?.(status);
  }

  get stats(): SinkStats {
    return {
      delivered: this.#delivered,
      failures: this.#failuresTotal,
      buffered: this.pending,
      spooledBytes: this.#spool?.bytes ?? 0,
      dropped: this.#queue.dropped + (this.#spool?.dropped ?? 0),
      spoolErrors: 0,
    };
  }

  /** A tick for this sink: encoded now, queued (or spooled while the sink is failing), sent soon. */
  enqueue(tick: Tick): void {
    if (this.#closed) return;
    const items = this.#sink.encode(tick);
    if ((Array.isArray(items) ? items.length : (items as LazyItems<T>).count) === 0) return;
    if (this.#spool && this.#failing > 0) this.#toSpool(Array.isArray(items) ? items : Array.from({ [Symbol.iterator]: () => (items as LazyItems<T>).items }));
    else this.#queue.push(items);
    this.#kick();
  }

  /** Logs how many items were lost since the last report; called once per tick. */
  reportDrops(): void {
    const dropped = this.stats.dropped;
    if (dropped > this.#reportedDrops) {
      this.#opts.logger.warn('buffer full: dropped the oldest metrics', {
        sink: this.#sink.description,
        dropped: dropped - this.#reportedDrops,
        droppedTotal: dropped,
      });
      this.#reportedDrops = dropped;
    }
  }

  /**
   * Tries to deliver everything queued before `timeoutMs` runs out: a pending retry happens at once.
   * At the deadline the send in flight is aborted and, with a spool, what is left in memory is
   * written to it for the next run. Resolves with the number of items left undelivered in memory
   * (a spool's backlog is kept, not counted).
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
    if (this.#spool && this.#queue.size > 0) this.#toSpool(this.#queue.take(this.#queue.size));
    return this.#queue.size;
  }

  spillToSpool(): void {
    if (this.#spool && this.#queue.size > 0) this.#toSpool(this.#queue.take(this.#queue.size));
  }

  /** Stops sending (aborting a send in flight) and closes the sink. Runs once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#nap?.abort();
    await this.#loop;
    if (this.#spool && this.#queue.size > 0) this.#toSpool(this.#queue.take(this.#queue.size));
    this.#spool?.close();
    await this.#sink.close();
  }

  #toSpool(items: readonly T[]): void {
    this.#spool?.append(items, this.#sink.maxBatchItems);
  }

  #kick(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      // Items may have arrived while the loop was finishing.
      if ((this.#queue.size > 0 || this.#spool?.hasBacklog) && this.#deadline === Infinity && !this.#closed) this.#kick();
    });
  }

  async #run(): Promise<void> {
    const { clock } = this.#opts;
    let backlogTurn = false;
    while (!this.#abort.signal.aborted) {
      // Fresh first, but every other send goes to the backlog while there is one.
      const fromBacklog: boolean = this.#spool !== undefined && this.#spool.hasBacklog && (backlogTurn || this.#queue.size === 0);
      const items = fromBacklog ? this.#spool!.peek() : this.#queue.take(this.#sink.maxBatchItems);
      if (!items || items.length === 0) break;
      backlogTurn = !fromBacklog;
      this.#inFlight = fromBacklog ? 0 : items.length;
      try {
        await this.#sink.send(items, this.#abort.signal);
        if (fromBacklog) this.#spool!.ack();
        this.#delivered += items.length;
        if (this.#delivered === items.length) {
          this.#opts.logger.info('first metrics delivered', { sink: this.#sink.description, items: items.length });
        }
        if (this.#failing > 0) {
          this.#opts.logger.info('sink delivers again', {
            sink: this.#sink.description,
            failedAttempts: this.#failing,
            backlogBytes: this.#spool?.bytes,
          });
        }
        this.#failing = 0;
        this.#failingSince = undefined;
        this.#lastError = undefined;
        if (fromBacklog && this.#opts.backlogGapMs) await sleep(clock, this.#opts.backlogGapMs, this.#abort.signal);
      } catch (err) {
        this.#inFlight = 0;
        if (!fromBacklog) this.#putBack(items);
        if (this.#abort.signal.aborted) break;
        if (!(await this.#afterFailure(err))) break;
      } finally {
        this.#inFlight = 0;
      }
    }
  }

  /** Failed fresh items: to the spool (with everything else in memory) when there is one, else back to the head. */
  #putBack(items: readonly T[]): void {
    if (!this.#spool) {
      this.#queue.unshift(items);
      return;
    }
    this.#toSpool([...items, ...this.#queue.take(this.#queue.size)]);
  }

  /** Logs the failure and waits out the backoff. False when the flush deadline has passed. */
  async #afterFailure(err: unknown): Promise<boolean> {
    const { clock, logger } = this.#opts;
    const pace = err instanceof SinkSendError ? err.pace : 'soon';
    const base = pace === 'slow' ? this.#retry.slowBaseMs : this.#retry.soonBaseMs;
    const cap = pace === 'slow' ? this.#retry.slowCapMs : this.#retry.soonCapMs;
    const wait = backoffMs(this.#failing, base, cap, this.#opts.random);
    const message = redact(err instanceof Error ? err.message : String(err));
    this.#failing += 1;
    this.#failuresTotal += 1;
    this.#failingSince ??= clock.now();
    this.#lastError = message;
    const left = this.#deadline - clock.now();
    if (left <= 0) return false;
    logger[pace === 'slow' ? 'error' : 'warn'](
      pace === 'slow' ? 'sink refuses the metrics: check its configuration' : 'sink send failed, will retry',
      {
        sink: this.#sink.description,
        error: message,
        pending: this.#queue.size,
        spooledBytes: this.#spool?.bytes,
        retryInMs: Math.min(wait, left),
      },
    );
    this.#nap = new AbortController();
    await sleep(clock, Math.min(wait, left), this.#nap.signal);
    this.#nap = undefined;
    return true;
  }
}

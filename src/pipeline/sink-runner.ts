import { backoffMs, sleep, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { redact } from '../redact.js';
import {
  SinkSendError,
  type DaemonStatus,
  type LazyItems,
  type PullSink,
  type Sink,
  type SinkHealth,
  type Tick,
} from '../sinks/sink.js';
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
  /** Where each tick is written ahead of delivery; without one, a full memory buffer drops its oldest. */
  readonly spool?: Spool<T> | undefined;
  /** After a spool error, how long the sink runs from memory before the spool is tried again. */
  readonly spoolRetryMs?: number;
  /** Pause between two backlog sends, so that draining a backlog does not flood the receiver. */
  readonly backlogGapMs?: number;
  readonly retry?: RetryPolicy;
  readonly random?: () => number;
}

/** The runner's counters, for the daemon's own metrics. */
export interface SinkStats {
  /** Items the sink encoded and the runner took since start, plus those found in the spool at start. */
  readonly produced: number;
  readonly delivered: number;
  readonly failures: number;
  /** Items waiting in memory (including any being sent from memory right now). */
  readonly buffered: number;
  /** Undelivered items in the spool (including any being sent from it right now). */
  readonly spooled: number;
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
  /** Ends a retry's wait now (SIGHUP gave the sink new credentials): the next send goes at once. */
  retryNow(): void;
  close(): Promise<void>;
}

/** What the loop sends next, and where it came from. */
interface Batch<T> {
  readonly items: readonly T[];
  readonly fromSpool: boolean;
  /** From an older backlog (paced by `backlogGapMs`) rather than fresh data. */
  readonly backlog: boolean;
}

const SPOOL_RETRY_MS = 60_000;

/**
 * Drains one sink: at most one send in flight, the only retry layer (backoff with jitter), and
 * the one record of the sink's health (failing since when, and why).
 *
 * Each tick is encoded by the sink when it is enqueued (so what the items say is as of the tick).
 * With a spool, the tick's items are written ahead: on disk (written and fdatasync'd) before
 * `enqueue` returns, whatever the sink is doing, so that a crash at any moment loses nothing
 * already enqueued; they are then delivered from the spool, whose open segment keeps them in
 * memory too. Sends alternate between the fresh records and an older backlog (fresh data is never
 * starved behind a long one), backlog sends paced by `backlogGapMs`; each is acknowledged in the
 * spool once delivered. A spool error (anything but a full disk that eviction fixed) never stops
 * delivery: that tick and the following ones wait in the bounded memory queue (drop oldest,
 * counted), with one logged error, and the spool is tried again every `spoolRetryMs`; a failed
 * acknowledgement still counts the items as delivered. Without a spool, ticks wait in the memory
 * queue and, when it is full, the oldest items are dropped, counted, and reported once per tick by
 * `reportDrops`.
 *
 * Accounting, true at every moment whatever fails: delivered + dropped + buffered + spooled =
 * produced (see SinkStats), where an item in flight is counted where it came from until its send
 * is done. Any exception in the loop is logged and retried after the send backoff, never at once.
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
  #loopErrors = 0;
  #deadline = Infinity;
  #reportedDrops = 0;
  #closed = false;
  #produced = 0;
  #delivered = 0;
  /** Items the receiver refused one by one as bad (Backstop's 400): dropped by the sink, logged there. */
  #rejected = 0;
  #inFlight = 0;
  #failingSince: number | undefined;
  #lastError: string | undefined;
  /** Set while the spool is not written to after an error: since when, and when to try it again. */
  #spoolDown: { since: number; retryAt: number } | undefined;

  constructor(sink: Sink<T>, opts: SinkRunnerOptions<T>) {
    this.#sink = sink;
    this.#opts = opts;
    this.#spool = opts.spool;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#queue = new BoundedQueue<T>({
      maxItems: opts.maxItems,
      maxBytes: opts.maxBytes,
      sizeOf: (item) => sink.itemBytes(item),
    });
    this.#produced = this.#spool?.waiting ?? 0;
    this.#spool?.seal();
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
      produced: this.#produced,
      delivered: this.#delivered,
      failures: this.#failuresTotal,
      buffered: this.pending,
      spooled: this.#spool?.waiting ?? 0,
      spooledBytes: this.#spool?.bytes ?? 0,
      dropped: this.#lostToBounds + this.#rejected,
      spoolErrors: this.#spool?.errors ?? 0,
    };
  }

  /** A tick for this sink: encoded now, written to the spool (or queued in memory), sent soon. */
  enqueue(tick: Tick): void {
    if (this.#closed) return;
    const batch = this.#sink.encode(tick);
    const count = Array.isArray(batch) ? batch.length : (batch as LazyItems<T>).count;
    if (count === 0) return;
    this.#produced += count;
    // Retrying a spool that failed: what waited in memory meanwhile goes first (it is the older).
    if (this.#spool && this.#spoolDown && this.#spoolWritable() && this.#queue.size > 0) this.spillToSpool();
    if (this.#spool && this.#spoolWritable()) {
      const lazy = batch as LazyItems<T>;
      const items = Array.isArray(batch) ? batch : Array.from({ [Symbol.iterator]: () => lazy.items });
      // A lazy source that ends early gives up its uncounted rest, as the memory queue does.
      this.#produced -= count - items.length;
      if (!this.#toSpool(items)) this.#queue.push(items);
    } else {
      this.#queue.push(batch);
    }
    this.#kick();
  }

  /** Items lost to the memory bound and to the spool (its bound, a full disk, corrupt or deleted files). */
  get #lostToBounds(): number {
    return this.#queue.dropped + (this.#spool?.dropped ?? 0);
  }

  /** Logs how many items were lost since the last report; called once per tick (the sink logs its rejections). */
  reportDrops(): void {
    const dropped = this.#lostToBounds;
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
    this.spillToSpool();
    return this.#queue.size;
  }

  /** Writes what waits in memory to the spool, synchronously; what cannot be written stays in memory. */
  spillToSpool(): void {
    if (!this.#spool || this.#queue.size === 0) return;
    const items = this.#queue.take(this.#queue.size);
    if (!this.#toSpool(items)) this.#queue.unshift(items);
  }

  /** Stops sending (aborting a send in flight) and closes the sink. Runs once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#nap?.abort();
    await this.#loop;
    this.spillToSpool();
    this.#spool?.close();
    await this.#sink.close();
  }

  /** While the spool is down, true once its retry time has come (this write is the retry). */
  #spoolWritable(): boolean {
    return !this.#spoolDown || this.#opts.clock.now() >= this.#spoolDown.retryAt;
  }

  /** Appends to the spool; false (and the sink runs from memory for a while) when that failed. */
  #toSpool(items: readonly T[]): boolean {
    try {
      this.#spool!.append(items, this.#sink.maxBatchItems);
    } catch (err) {
      this.#spoolFailed(err, 'write');
      return false;
    }
    if (this.#spoolDown) {
      this.#opts.logger.info('spool works again: metrics are written to disk ahead of delivery again', {
        sink: this.#sink.description,
        downForMs: this.#opts.clock.now() - this.#spoolDown.since,
      });
      this.#spoolDown = undefined;
    }
    return true;
  }

  /** Logs the first spool error of a run of them; the sink then runs from memory until the retry time. */
  #spoolFailed(err: unknown, what: 'write' | 'ack'): void {
    const now = this.#opts.clock.now();
    const retryMs = this.#opts.spoolRetryMs ?? SPOOL_RETRY_MS;
    if (!this.#spoolDown) {
      this.#opts.logger.error('spool failed: this sink keeps its metrics in memory until the spool works again', {
        sink: this.#sink.description,
        error: err instanceof Error ? err.message : String(err),
        retryInMs: retryMs,
      });
    }
    // Only a failed write (the retry) moves the retry time: acknowledgements failing meanwhile do not put it off.
    if (this.#spoolDown && what === 'ack') return;
    this.#spoolDown = { since: this.#spoolDown?.since ?? now, retryAt: now + retryMs };
  }

  #kick(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    let worked = false;
    this.#loop = this.#run(() => (worked = true))
      .catch((err: unknown) => {
        const fields = { sink: this.#sink.description, error: String(err) };
        this.#opts.logger.error('sink runner stopped on an unexpected error', fields);
      })
      .finally(() => {
        this.#loop = undefined;
        // Items may have arrived while the loop was finishing; a loop that found nothing to do is not restarted.
        const more = this.#queue.size > 0 || (worked && this.#spool?.hasBacklog);
        if (more && this.#deadline === Infinity && !this.#closed) this.#kick();
      });
  }

  async #run(worked: () => void): Promise<void> {
    const { clock } = this.#opts;
    let backlogTurn = false;
    while (!this.#abort.signal.aborted) {
      let batch: Batch<T> | undefined;
      try {
        batch = this.#next(backlogTurn);
      } catch (err) {
        if (!(await this.#afterLoopError(err))) break;
        continue;
      }
      if (!batch) break;
      worked();
      backlogTurn = !batch.backlog;
      this.#inFlight = batch.fromSpool ? 0 : batch.items.length;
      let rejected = 0;
      try {
        rejected = (await this.#sink.send(batch.items, this.#abort.signal)) || 0;
      } catch (err) {
        this.#inFlight = 0;
        if (batch.fromSpool) this.#spool!.release();
        else if (!this.#spool || this.#spoolDown || !this.#toSpool(batch.items)) this.#queue.unshift(batch.items);
        if (this.#abort.signal.aborted) break;
        if (!(await this.#afterFailure(err))) break;
        continue;
      }
      this.#inFlight = 0;
      this.#delivered += batch.items.length - rejected;
      this.#rejected += rejected;
      if (batch.fromSpool) this.#ack();
      this.#afterDelivery(batch.items.length - rejected);
      if (batch.backlog && this.#opts.backlogGapMs) await sleep(clock, this.#opts.backlogGapMs, this.#abort.signal);
    }
  }

  /**
   * The next batch: memory first (older than anything the spool got since), then the spool's fresh
   * records, every other send the spool's older backlog while there is one.
   */
  #next(backlogTurn: boolean): Batch<T> | undefined {
    const max = this.#sink.maxBatchItems;
    const spool = this.#spool;
    if (spool?.hasBacklog && (backlogTurn || this.#queue.size === 0)) {
      const b = spool.take(backlogTurn ? 'oldest' : 'fresh', max);
      if (b) return { items: b.items, fromSpool: true, backlog: !b.fresh };
    }
    if (this.#queue.size > 0) return { items: this.#queue.take(max), fromSpool: false, backlog: false };
    return undefined;
  }

  /** The spool batch just sent was delivered; failing to record that is a spool error, not a send failure. */
  #ack(): void {
    try {
      this.#spool!.ack();
    } catch (err) {
      this.#spoolFailed(err, 'ack');
    }
  }

  #afterDelivery(items: number): void {
    if (this.#delivered === items) {
      this.#opts.logger.info('first metrics delivered', { sink: this.#sink.description, items });
    }
    if (this.#failing > 0) {
      // What piled up during the failures is backlog now: the next ticks go out beside it, not behind it.
      this.#spool?.seal();
      this.#opts.logger.info('sink delivers again', {
        sink: this.#sink.description,
        failedAttempts: this.#failing,
        backlogItems: this.#spool?.waiting,
      });
    }
    this.#failing = 0;
    this.#loopErrors = 0;
    this.#failingSince = undefined;
    this.#lastError = undefined;
  }

  /** An exception outside `send` (a bug, a file that cannot be read): logged, then the send backoff. */
  async #afterLoopError(err: unknown): Promise<boolean> {
    const wait = backoffMs(this.#loopErrors, this.#retry.soonBaseMs, this.#retry.soonCapMs, this.#opts.random);
    this.#loopErrors += 1;
    const left = this.#deadline - this.#opts.clock.now();
    if (left <= 0) return false;
    this.#opts.logger.error('sink runner failed to pick its next batch, will retry', {
      sink: this.#sink.description,
      error: redact(err instanceof Error ? err.message : String(err)),
      retryInMs: Math.min(wait, left),
    });
    await this.#napFor(Math.min(wait, left));
    return true;
  }

  retryNow(): void {
    this.#nap?.abort();
  }

  async #napFor(ms: number): Promise<void> {
    this.#nap = new AbortController();
    await sleep(this.#opts.clock, ms, this.#nap.signal);
    this.#nap = undefined;
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
        spooled: this.#spool?.waiting,
        retryInMs: Math.min(wait, left),
      },
    );
    await this.#napFor(Math.min(wait, left));
    return true;
  }
}

/**
 * What the daemon drives of a pull sink: each tick goes to the sink at once, and there is nothing
 * to queue, send, retry or spool, so its counters stay at zero and it is never failing.
 */
export class PullRunner implements TickRunner {
  readonly #sink: PullSink;
  #closed = false;

  constructor(sink: PullSink) {
    this.#sink = sink;
  }

  get description(): string {
    return this.#sink.description;
  }

  readonly pending = 0;

  readonly stats: SinkStats = {
    produced: 0,
    delivered: 0,
    failures: 0,
    buffered: 0,
    spooled: 0,
    spooledBytes: 0,
    dropped: 0,
    spoolErrors: 0,
  };

  health(): SinkHealth {
    return { sink: this.#sink.description, failingSince: undefined, lastError: undefined };
  }

  async start(status: DaemonStatus): Promise<void> {
    await this.#sink.start?.(status);
  }

  enqueue(tick: Tick): void {
    if (!this.#closed) this.#sink.update(tick);
  }

  reportDrops(): void {}

  flush(): Promise<number> {
    return Promise.resolve(0);
  }

  spillToSpool(): void {}

  retryNow(): void {}

  /** Closes the sink. Runs once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sink.close();
  }
}

import { createHash } from 'node:crypto';
import type { ContainerRef } from '../model/container.js';
import type { Metric } from '../model/metric.js';

/**
 * Items that are made only as they are taken: `count` of them, from `items`, each costing about
 * `bytesEach` in memory once made (see Sink's `encode`).
 */
export interface LazyItems<T> {
  readonly count: number;
  readonly bytesEach: number;
  readonly items: Iterator<T>;
}

/** One tick, as every sink gets it. */
export interface Tick {
  /** Unix seconds: the tick's own time (container metrics carry their samples' times). */
  readonly time: number;
  /**
   * Made as they are read (reduce/tick.ts), from the interval's readings, which nothing changes
   * afterwards: iterate as often as needed, now or later; every pass gives the same metrics.
   */
  readonly metrics: Iterable<Metric>;
  /** The containers followed at the tick, with or without a sample in it. */
  readonly followed: readonly ContainerRef[];
  /**
   * The ids of every container that passes the filters, running or not, as the Engine listed them
   * for this tick; undefined when they were not listed. What is not in it was removed.
   */
  readonly existing?: ReadonlySet<string> | undefined;
}

/** What /healthz says about one sink: the runner's own bookkeeping. */
export interface SinkHealth {
  readonly sink: string;
  /** Clock ms of the first failure of the current run of failures; undefined while it delivers. */
  readonly failingSince: number | undefined;
  /** The last failure's message (no password); undefined while it delivers. */
  readonly lastError: string | undefined;
}

/** What a sink may see of the running daemon, given to `start`. */
export interface DaemonStatus {
  /** Whether the Docker Engine answered the last call that needed it. */
  engineReachable(): boolean;
  /** Every sink's health, as their runners know it. */
  sinks(): readonly SinkHealth[];
}

/** How a sink's queued items go to its disk spool and come back. */
export interface SpoolCodec<T> {
  /** The spool sub-folder: stable across restarts for the same target (see spoolKey). */
  readonly key: string;
  /** An item as a JSON value. */
  encode(item: T): unknown;
  /** The item again, or undefined when the value is not one (a corrupt record). */
  decode(value: unknown): T | undefined;
}

/**
 * Where metrics are sent (pushed). Contract (called only by the sink runner, and `start` by the daemon):
 * - `encode` turns each tick into the items the sink queues, in tick order; it runs at the tick,
 *   so what it reads of a metric (a container's name and labels) is as of that tick. It may hand
 *   them over as LazyItems, made only as the runner takes them (from the tick's metrics, which stay
 *   as they were): a tick's items then never all exist at once.
 * - `send` is never called twice at once for one sink, and `close` never runs during a `send`.
 * - `send` resolves when the receiver has accepted every item it is going to accept; items it
 *   rejects one by one as bad (Backstop's 400) are logged and dropped by the sink itself, and
 *   `send` resolves with how many (the runner counts them as dropped, not delivered).
 * - `send` throws a SinkSendError when the items should be tried again later; the runner keeps
 *   them and owns the one retry layer. `signal` aborts a send at the shutdown deadline.
 * - The runner hands `send` at most `maxBatchItems` items.
 * - `start` (a server's listen) runs once, before collection starts; `close` once, at the end.
 */
export interface Sink<T> {
  /** For log lines; never contains a password. */
  readonly description: string;
  readonly maxBatchItems: number;
  encode(tick: Tick): T[] | LazyItems<T>;
  /** What an item costs in memory, roughly (the buffer's byte bound). */
  itemBytes(item: T): number;
  /** Without one, the sink is never spooled. */
  readonly spool?: SpoolCodec<T>;
  start?(status: DaemonStatus): Promise<void>;
  send(items: readonly T[], signal: AbortSignal): Promise<number> | Promise<void>;
  close(): Promise<void>;
}

/**
 * Where metrics are read from (pulled: Prometheus scrapes /metrics). Contract (called only by its
 * runner, and `start` by the daemon):
 * - `update` gets each tick, in tick order, and replaces what the sink serves with it. It queues
 *   nothing and cannot fail, so there is no buffer, retry or spool: a reader wants the present.
 * - `start` (a server's listen) runs once, before collection starts; `close` once, at the end,
 *   after the last `update`.
 */
export interface PullSink {
  /** For log lines; never contains a password. */
  readonly description: string;
  update(tick: Tick): void;
  start?(status: DaemonStatus): Promise<void>;
  close(): Promise<void>;
}

/** 'soon': a transient failure (5xx, 408, 429, timeout, connection); 'slow': a config problem (401, 403, 404). */
export type RetryPace = 'soon' | 'slow';

export class SinkSendError extends Error {
  override readonly name = 'SinkSendError';
  readonly pace: RetryPace;
  readonly code: string;

  constructor(message: string, opts: { pace: RetryPace; code: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.pace = opts.pace;
    this.code = opts.code;
  }
}

/** A stable spool sub-folder name: the sink's kind and a short hash of what identifies its target. */
export function spoolKey(kind: string, target: string): string {
  return `${kind}-${createHash('sha1').update(target).digest('hex').slice(0, 12)}`;
}

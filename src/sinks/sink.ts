import { createHash } from 'node:crypto';
import type { Metric } from '../reduce/metric.js';

/**
 * Where metrics go. Contract (called only by the sink runner):
 * - `send` is never called twice at once for one sink, and `close` never runs during a `send`.
 * - `send` resolves when the receiver has accepted every item it is going to accept; items it
 *   rejects one by one as bad (Backstop's 400) are logged and dropped by the sink itself.
 * - `send` throws a SinkSendError when the items should be tried again later; the runner keeps
 *   them and owns the one retry layer. `signal` aborts a send at the shutdown deadline.
 * - The runner hands `send` at most `maxBatchItems` items.
 */
export interface Sink {
  /** For log lines; never contains a password. */
  readonly description: string;
  readonly maxBatchItems: number;
  /** The spool sub-folder for this sink (stable across restarts); none: never spooled. */
  readonly spoolKey?: string;
  send(items: readonly Metric[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** 'soon': a transient failure (5xx, 408, 429, timeout, connection). 'slow': a configuration problem (401, 403, 404). */
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

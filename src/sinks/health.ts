import type { Clock } from '../clock.js';
import { redact } from '../redact.js';
import type { Sink } from './sink.js';

/** What /healthz says about one sink. */
export interface SinkHealth {
  readonly sink: string;
  /** Clock ms of the first failure of the current run of failures; undefined while it delivers. */
  readonly failingSince: number | undefined;
  readonly lastError: string | undefined;
}

export interface TrackedSink {
  readonly sink: Sink;
  health(): SinkHealth;
}

/**
 * Wraps a sink to remember whether its sends are failing and since when (for /healthz). Adds no
 * behaviour: errors pass through unchanged to the runner, which owns the retries.
 */
export function trackSink(inner: Sink, clock: Clock): TrackedSink {
  let failingSince: number | undefined;
  let lastError: string | undefined;
  const sink: Sink = {
    description: inner.description,
    maxBatchItems: inner.maxBatchItems,
    ...(inner.spoolKey !== undefined ? { spoolKey: inner.spoolKey } : {}),
    async send(items, signal) {
      try {
        await inner.send(items, signal);
        failingSince = undefined;
        lastError = undefined;
      } catch (err) {
        failingSince ??= clock.now();
        lastError = redact(err instanceof Error ? err.message : String(err));
        throw err;
      }
    },
    close: () => inner.close(),
  };
  return { sink, health: () => ({ sink: inner.description, failingSince, lastError }) };
}

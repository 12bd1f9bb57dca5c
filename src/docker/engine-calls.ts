import type { Clock } from '../clock.js';

/** Calls that should answer at once (version, list, inspect, one-shot stats) give up after this long. */
export const CALL_TIMEOUT_MS = 15_000;

/**
 * Runs an Engine call that must answer within `timeoutMs` (CALL_TIMEOUT_MS unless the call is known
 * to be slow); past that it is aborted (its socket closed).
 */
export function withTimeout<T>(
  clock: Clock,
  call: (signal: AbortSignal) => Promise<T>,
  what: string,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<T> {
  const abort = new AbortController();
  let cancel = (): void => {};
  const timeout = new Promise<never>((_, reject) => {
    cancel = clock.setTimer(() => {
      reject(new Error(`${what} did not answer within ${timeoutMs / 1000} s`));
      abort.abort();
    }, timeoutMs);
  });
  return Promise.race([call(abort.signal), timeout]).finally(cancel);
}

/** Is an API version such as "1.40" below major.minor? */
export function apiBelow(version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return true;
  return Number(m[1]) < major || (Number(m[1]) === major && Number(m[2]) < minor);
}

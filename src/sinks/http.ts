import got, { type Got } from 'got';
import { describeError, errorCode } from '../errors.js';
import { redact } from '../redact.js';
import { SinkSendError } from './sink.js';

/**
 * The URL without its user-info, and the Basic authorization header the user-info stood for. The
 * request then goes to a URL holding no password, so nothing got logs or throws can show it.
 */
export function splitCredentials(url: URL): { bare: URL; authorization: string | undefined } {
  const bare = new URL(url.href);
  const userPass = `${decodeURIComponent(bare.username)}:${decodeURIComponent(bare.password)}`;
  const authorization =
    bare.username !== '' || bare.password !== '' ? `Basic ${Buffer.from(userPass).toString('base64')}` : undefined;
  bare.username = '';
  bare.password = '';
  return { bare, authorization };
}

/**
 * got as every HTTP sink uses it: explicit connect and request timeouts, no retries (the sink
 * runner is the one retry layer), no redirects, statuses handled by the sink rather than thrown.
 */
export function sinkHttpClient(opts: {
  readonly authorization: string | undefined;
  readonly connectTimeoutMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly headers?: Record<string, string>;
}): Got {
  return got.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    timeout: { connect: opts.connectTimeoutMs ?? 5_000, request: opts.requestTimeoutMs ?? 30_000 },
    headers: {
      'user-agent': 'docker-stats-to-backstop',
      ...opts.headers,
      ...(opts.authorization ? { authorization: opts.authorization } : {}),
    },
  });
}

/** A request that got no answer (connection refused, timeout, reset): tried again soon. */
export function requestFailed(what: string, err: unknown): SinkSendError {
  const code = errorCode(err) ?? 'ERR_REQUEST';
  return new SinkSendError(`${what} failed: ${redact(describeError(err))}`, { pace: 'soon', code });
}

/**
 * An error answer the sink does not handle itself. With a hint (`hints` by status; 401 and 403
 * point at the credentials) it is a configuration problem, tried again slowly; 408, 429 and 5xx
 * are transient, tried again soon; anything else is unexpected, tried again slowly.
 */
export function answerError(what: string, status: number, hints: Readonly<Record<number, string>> = {}): SinkSendError {
  const code = `HTTP_${status}`;
  const hint =
    hints[status] ?? (status === 401 || status === 403 ? "check the credentials in the URL's user-info" : undefined);
  if (hint !== undefined) return new SinkSendError(`${what}: ${hint}`, { pace: 'slow', code });
  if (status === 408 || status === 429 || status >= 500) return new SinkSendError(what, { pace: 'soon', code });
  return new SinkSendError(`${what}: unexpected answer`, { pace: 'slow', code });
}

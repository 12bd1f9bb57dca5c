import got, { type Got } from 'got';

/**
 * The URL without its user-info, and the Basic authorization header the user-info stood for. The
 * request then goes to a URL holding no password, so nothing got logs or throws can show it.
 */
export function splitCredentials(url: URL): { bare: URL; authorization: string | undefined } {
  const bare = new URL(url.href);
  const authorization =
    bare.username !== '' || bare.password !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(bare.username)}:${decodeURIComponent(bare.password)}`).toString('base64')}`
      : undefined;
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

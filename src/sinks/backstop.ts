import type { Response } from 'got';
import type { Logger } from '../log.js';
import type { CarbonPaths, CarbonPoint } from '../naming/carbon-path.js';
import { displayUrl, redact } from '../redact.js';
import { encodeBackstopBatch } from './backstop-encode.js';
import { carbonPointCodec, carbonPointSink } from './carbon-point.js';
import { answerError, requestFailed, sinkHttpClient, splitCredentials } from './http.js';
import { spoolKey, type Sink } from './sink.js';

export interface BackstopSinkOptions {
  /** The publish URL, possibly with credentials in its user-info. */
  readonly url: URL;
  /** How metrics are named in carbon (shared by every carbon-speaking sink). */
  readonly paths: CarbonPaths;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** The Backstop sink, and the credential rotation main drives on SIGHUP. */
export interface BackstopSink extends Sink<CarbonPoint> {
  /**
   * Sends with the credentials of `url` from the next request on (a SIGHUP's reload of
   * --backstop-file); true when they changed. Throws, changing nothing, when the URL without its
   * credentials is not the one the sink was made with (its spool and description are that URL's).
   */
  setUrl(url: URL): boolean;
}

/** Backstop answers a batch of this size quickly (docs/architecture.md §4): larger ones are cut into chunks of it. */
export const BACKSTOP_MAX_ITEMS = 1_000;

/**
 * POSTs batches to a Backstop `/publish/<name>` URL (docs/architecture.md §4). 2xx = delivered. 400 = some
 * item is bad: the batch is split until the bad items are found; they are logged and dropped, the
 * rest delivered. 401/403/404 = configuration error, 408/429/5xx/timeouts/connection errors =
 * transient: both throw SinkSendError for the runner to retry. got does no retries of its own.
 */
export function createBackstopSink(opts: BackstopSinkOptions): BackstopSink {
  const { bare: target, authorization: first } = splitCredentials(opts.url);
  let authorization = first;
  const shown = displayUrl(opts.url);
  // The credentials go with each request, not into the client, so that a reload can change them.
  const client = sinkHttpClient({
    authorization: undefined,
    connectTimeoutMs: opts.connectTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs,
    headers: { 'content-type': 'application/json' },
  });

  const post = async (items: readonly CarbonPoint[], signal: AbortSignal): Promise<Response<string>> => {
    try {
      const headers = authorization === undefined ? {} : { authorization };
      return await client.post(target, { body: encodeBackstopBatch(items), signal, headers });
    } catch (err) {
      throw requestFailed(`POST ${shown}`, err);
    }
  };

  /** Sends `items`, narrowing a 400 down to the bad ones; resolves with those, which it did not deliver. */
  const sendChunk = async (items: readonly CarbonPoint[], signal: AbortSignal): Promise<CarbonPoint[]> => {
    const res = await post(items, signal);
    const status = res.statusCode;
    if (status >= 200 && status < 300) return [];
    const body = redact(
      String(res.body ?? '')
        .slice(0, 200)
        .trim(),
    );
    // The answer's body is the receiver's words: a debug line only, never an error line or /healthz.
    opts.logger.debug('Backstop answered an error', { sink: shown, status, answer: body, items: items.length });
    if (status === 400 || status === 413) {
      if (items.length === 1) return [...items];
      // Narrow down: the items before the bad one may already have been forwarded; sending them
      // again is harmless (Graphite keeps one value per path and time).
      const half = Math.ceil(items.length / 2);
      return [...(await sendChunk(items.slice(0, half), signal)), ...(await sendChunk(items.slice(half), signal))];
    }
    throw answerError(`Backstop answered ${status} to POST ${shown}`, status, {
      404: "check the /publish/<name> path and Backstop's PREFIXES",
    });
  };

  return {
    description: `backstop ${shown}`,
    ...carbonPointSink(opts.paths),
    // The same publish URL (whatever its credentials) finds its spool again after a restart.
    spool: carbonPointCodec(spoolKey('backstop', target.href)),
    maxBatchItems: BACKSTOP_MAX_ITEMS,
    async send(items, signal) {
      const bad = await sendChunk(items, signal);
      const [first] = bad;
      if (first) {
        // One line per send, however many: a batch of bad items must not become a thousand lines.
        opts.logger.error('Backstop rejected metrics as bad; dropped them (counted in dropped)', {
          sink: shown,
          dropped: bad.length,
          metric: first.path,
          value: first.value,
          time: first.time,
        });
      }
      return bad.length;
    },
    setUrl(url) {
      const next = splitCredentials(url);
      if (next.bare.href !== target.href) {
        const now = `the URL is now ${displayUrl(url)}, not ${displayUrl(target)}`;
        throw new Error(`${now}: only its credentials change without a restart`);
      }
      const changed = next.authorization !== authorization;
      authorization = next.authorization;
      return changed;
    },
    async close() {},
  };
}

import type { Logger } from '../log.js';
import { displayUrl, redact } from '../redact.js';
import { answerError, requestFailed, sinkHttpClient, splitCredentials } from './http.js';
import { toRegistry } from './prometheus/registry.js';
import { LatestSeries, type Series } from './prometheus/series.js';
import { spoolKey, type Sink, type SpoolCodec } from './sink.js';

export const PUSHGATEWAY_JOB = 'docker-stats-to-backstop';

export interface PushgatewaySinkOptions {
  /** The Pushgateway's base URL, possibly with credentials in its user-info. */
  readonly url: URL;
  /** The `instance` grouping label (the host name by default). */
  readonly instance: string;
  /** Container label keys exposed as Prometheus labels (`label_<key>`). */
  readonly containerLabels: readonly string[];
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** One push: every series as of one tick. */
export interface Push {
  /** The tick, Unix seconds. */
  readonly time: number;
  readonly series: readonly Series[];
}

/** A push in the spool: the tick and each series as `[family, type, labels, value]`. */
const pushCodec = (key: string): SpoolCodec<Push> => ({
  key,
  encode: (p) => ({ t: p.time, s: p.series.map((s) => [s.family, s.type, s.labels, s.value]) }),
  decode: (value) => {
    const v = value as { t?: unknown; s?: unknown } | null;
    if (!v || typeof v.t !== 'number' || !Array.isArray(v.s)) return undefined;
    const series: Series[] = [];
    for (const row of v.s as unknown[]) {
      if (!Array.isArray(row) || row.length !== 4) return undefined;
      const [family, type, labels, n] = row as [unknown, unknown, unknown, unknown];
      if (typeof family !== 'string' || (type !== 'gauge' && type !== 'counter') || typeof n !== 'number')
        return undefined;
      if (labels === null || typeof labels !== 'object' || Object.values(labels).some((l) => typeof l !== 'string'))
        return undefined;
      series.push({ family, type, labels: labels as Record<string, string>, value: n });
    }
    return { time: v.t, series };
  },
});

/**
 * Pushes each tick to a Prometheus Pushgateway: `PUT <url>/metrics/job/docker-stats-to-backstop/instance/<instance>`,
 * the text exposition format rendered by prom-client. PUT replaces the whole group, so containers
 * that are gone (no longer followed) disappear, but for their exit series (LatestSeries). A tick's
 * series are made at the tick (labels as of that moment) and queued as one push. The Pushgateway
 * keeps only the latest value of each series, so a push older than one already made (a backlog
 * replayed from the spool after fresh data) is accepted without sending it. Statuses are handled
 * as for Backstop: 401/403/404 retried slowly, 408/429/5xx and connection errors soon; a 400 (the
 * Pushgateway refused the data) is logged and dropped.
 */
export function createPushgatewaySink(opts: PushgatewaySinkOptions): Sink<Push> {
  const { bare: base, authorization } = splitCredentials(opts.url);
  const grouping = `job/${encodeURIComponent(PUSHGATEWAY_JOB)}/instance/${encodeURIComponent(opts.instance)}`;
  const path = `${base.pathname.replace(/\/+$/, '')}/metrics/${grouping}`;
  const target = new URL(path, base);
  const shown = displayUrl(new URL(path, opts.url));
  const latest = new LatestSeries(opts.containerLabels);
  let newestPushed = -Infinity;
  const client = sinkHttpClient({
    authorization,
    connectTimeoutMs: opts.connectTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs,
  });

  return {
    description: `pushgateway ${shown}`,
    // One push at a time: a PUT replaces the group.
    maxBatchItems: 1,
    encode: (tick) => [{ time: tick.time, series: latest.update(tick) }],
    itemBytes: (p) => 64 + 160 * p.series.length,
    spool: pushCodec(spoolKey('pushgateway', target.href)),
    async send(items: readonly Push[], signal: AbortSignal) {
      const push = items.at(-1);
      if (!push || push.time < newestPushed) return;
      const registry = toRegistry(push.series);
      const body = await registry.metrics();
      let status: number;
      let answer: string;
      try {
        const res = await client.put(target, { body, headers: { 'content-type': registry.contentType }, signal });
        status = res.statusCode;
        answer = redact(
          String(res.body ?? '')
            .slice(0, 200)
            .trim(),
        );
      } catch (err) {
        throw requestFailed(`PUT ${shown}`, err);
      }
      if (status >= 200 && status < 300) {
        newestPushed = Math.max(newestPushed, push.time);
        return;
      }
      if (status === 400) {
        opts.logger.error('the Pushgateway refused a push; dropped it', {
          sink: shown,
          status,
          answer,
          series: push.series.length,
        });
        return;
      }
      const hint = "check the URL (the Pushgateway's base URL, without /metrics/job/…)";
      // The answer's body is the receiver's words: a debug line only, never the error /healthz repeats.
      opts.logger.debug('the Pushgateway answered an error', { sink: shown, status, answer });
      throw answerError(`the Pushgateway answered ${status} to PUT ${shown}`, status, { 404: hint, 405: hint });
    },
    async close() {},
  };
}

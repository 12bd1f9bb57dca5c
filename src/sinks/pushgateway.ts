import { answerError, requestFailed, sinkHttpClient, splitCredentials } from './http.js';
import type { Logger } from '../log.js';
import { displayUrl, redact } from '../redact.js';
import type { Metric } from '../reduce/metric.js';
import { toRegistry } from './prometheus/registry.js';
import { LatestSeries, type SeriesOptions } from './prometheus/series.js';
import type { DaemonView } from './prometheus/view.js';
import { spoolKey, type Sink } from './sink.js';

export const PUSHGATEWAY_JOB = 'docker-stats-to-backstop';

export interface PushgatewaySinkOptions extends SeriesOptions {
  /** The Pushgateway's base URL, possibly with credentials in its user-info. */
  readonly url: URL;
  /** The `instance` grouping label (the host name by default). */
  readonly instance: string;
  readonly view: DaemonView;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/**
 * Pushes each tick to a Prometheus Pushgateway: `PUT <url>/metrics/job/docker-stats-to-backstop/instance/<instance>`,
 * the text exposition format rendered by prom-client. PUT replaces the whole group, so containers
 * that are gone (no longer followed) disappear. The Pushgateway keeps only the latest value of each series, so a batch
 * older than one already pushed (a backlog replayed from the spool after fresh data) is accepted
 * without pushing it. Statuses are handled as for Backstop: 401/403/404 retried slowly, 408/429/5xx
 * and connection errors soon; a 400 (the Pushgateway refused the data) is logged and dropped.
 */
export function createPushgatewaySink(opts: PushgatewaySinkOptions): Sink {
  const { bare: base, authorization } = splitCredentials(opts.url);
  const path = `${base.pathname.replace(/\/+$/, '')}/metrics/job/${encodeURIComponent(PUSHGATEWAY_JOB)}/instance/${encodeURIComponent(opts.instance)}`;
  const target = new URL(path, base);
  const shown = displayUrl(new URL(path, opts.url));
  const latest = new LatestSeries(opts);
  let newestPushed = -Infinity;
  const client = sinkHttpClient({
    authorization,
    connectTimeoutMs: opts.connectTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs,
  });

  return {
    description: `pushgateway ${shown}`,
    spoolKey: spoolKey('pushgateway', target.href),
    // A whole tick in one push: a PUT replaces the group.
    maxBatchItems: 1_000_000,
    async send(items: readonly Metric[], signal: AbortSignal) {
      let newest = -Infinity;
      for (const m of items) if (m.time > newest) newest = m.time;
      if (newest < newestPushed) return;
      const registry = toRegistry(latest.update(items, opts.view.containers()));
      const body = await registry.metrics();
      let status: number;
      let answer: string;
      try {
        const res = await client.put(target, { body, headers: { 'content-type': registry.contentType }, signal });
        status = res.statusCode;
        answer = redact(String(res.body ?? '').slice(0, 200).trim());
      } catch (err) {
        throw requestFailed(`PUT ${shown}`, err);
      }
      if (status >= 200 && status < 300) {
        newestPushed = Math.max(newestPushed, newest);
        return;
      }
      if (status === 400) {
        opts.logger.error('the Pushgateway refused a push; dropped it', { sink: shown, status, answer, items: items.length });
        return;
      }
      const hint = "check the URL (the Pushgateway's base URL, without /metrics/job/…)";
      throw answerError(`the Pushgateway answered ${status} (${answer}) to PUT ${shown}`, status, { 404: hint, 405: hint });
    },
    async close() {},
  };
}

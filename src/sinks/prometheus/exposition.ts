import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log.js';
import type { DaemonStatus, Sink } from '../sink.js';
import { toRegistry } from './registry.js';
import { LatestSeries } from './series.js';

export interface ListenAddress {
  /** An IP address or host name; '' for every address. */
  readonly host: string;
  readonly port: number;
}

export interface ExpositionOptions {
  readonly listen: ListenAddress;
  /** PEM contents; both or neither. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** Container label keys exposed as Prometheus labels (`label_<key>`). */
  readonly containerLabels: readonly string[];
  /** A sink failing for longer than this makes /healthz answer 503. */
  readonly failingThresholdMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The exposition sink, and the certificate rotation main drives on SIGHUP. */
export interface PrometheusExposition extends Sink<never> {
  /**
   * Serves this certificate and key to the connections made from now on (a SIGHUP's reload);
   * throws, keeping the pair served so far, when they are not a valid pair. Only with `tls`.
   */
  setTls(tls: { readonly cert: Buffer; readonly key: Buffer }): void;
}

/**
 * Bounds of the listener, which anyone who reaches it may use: scrapers and health checks need a
 * handful of connections and answer within seconds, so more, or slower, is refused or cut.
 */
export const LISTENER_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  /** How often Node looks for connections past those timeouts. */
  checkIntervalMs: 2_000,
} as const;

/**
 * The pull-based Prometheus sink: `--listen ADDR:PORT`. Each tick replaces the values it serves
 * (it queues nothing, never fails, and has no spool: a scrape wants the present, not a backlog);
 * its server answers `GET /metrics` with them in the text exposition format, and `GET /healthz`
 * with 200 while the Engine answers and no sink has been failing for longer than the threshold,
 * 503 otherwise, with a JSON body saying why (read from the daemon's status, given at start).
 * A container that is gone (no longer followed) disappears from /metrics at the first tick
 * without it, but for its exit series (LatestSeries); one that is still followed keeps its last
 * values. The server listens when the daemon starts the sink and stops when it closes it.
 */
export function createPrometheusExposition(options: ExpositionOptions): PrometheusExposition {
  let opts = options;
  const latest = new LatestSeries(opts.containerLabels);
  let registry: Registry = toRegistry([]);
  let status: DaemonStatus | undefined;
  const scheme = opts.tls ? 'https' : 'http';
  const shown = `${scheme}://${opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host || '0.0.0.0'}:${opts.listen.port}`;
  const description = `prometheus ${shown}/metrics`;

  const health = (): { ok: boolean; body: unknown } => {
    const now = opts.clock.now();
    const problems: string[] = [];
    const engine = status?.engineReachable() ?? false;
    if (!engine) problems.push('the Docker Engine is not reachable');
    const sinks = (status?.sinks() ?? []).filter((h) => h.sink !== description).map((h) => {
      const failingMs = h.failingSince === undefined ? 0 : now - h.failingSince;
      if (failingMs > opts.failingThresholdMs) {
        problems.push(`sink ${h.sink} has been failing for ${Math.round(failingMs / 1000)} s: ${h.lastError ?? 'unknown error'}`);
      }
      return { sink: h.sink, ok: failingMs <= opts.failingThresholdMs, failingSeconds: Math.round(failingMs / 1000), lastError: h.lastError ?? null };
    });
    return { ok: problems.length === 0, body: { status: problems.length === 0 ? 'ok' : 'failing', problems, engineReachable: engine, sinks } };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    if (path === '/metrics') {
      const current = registry;
      current.metrics().then(
        (text) => res.writeHead(200, { 'content-type': current.contentType }).end(req.method === 'HEAD' ? undefined : text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const { ok, body } = health();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
  };

  let httpServer: Server | undefined;
  return {
    description,
    maxBatchItems: 1,
    encode(tick) {
      registry = toRegistry(latest.update(tick));
      return [];
    },
    itemBytes: () => 0,
    async start(daemon) {
      status = daemon;
      const limits = {
        headersTimeout: LISTENER_LIMITS.headersTimeoutMs,
        requestTimeout: LISTENER_LIMITS.requestTimeoutMs,
        keepAliveTimeout: LISTENER_LIMITS.keepAliveTimeoutMs,
        connectionsCheckingInterval: LISTENER_LIMITS.checkIntervalMs,
      };
      const s: Server = opts.tls
        ? createHttpsServer({ ...limits, ...opts.tls, handshakeTimeout: LISTENER_LIMITS.handshakeTimeoutMs }, handle)
        : createHttpServer(limits, handle);
      s.maxConnections = LISTENER_LIMITS.maxConnections;
      httpServer = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(opts.listen.port, opts.listen.host === '' ? undefined : opts.listen.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const port = (s.address() as AddressInfo).port;
      opts.logger.info('serving /metrics and /healthz', { listen: shown, port });
    },
    async send() {},
    setTls(tls) {
      if (!opts.tls) throw new Error('the listener serves plain HTTP: TLS takes a restart with --tls-cert, --tls-key');
      // Before start there is no server yet: start() creates it with these.
      if (httpServer) (httpServer as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
      opts = { ...opts, tls };
    },
    async close() {
      const s = httpServer;
      if (!s) return;
      httpServer = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}

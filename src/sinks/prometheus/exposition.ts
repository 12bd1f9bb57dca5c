import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log.js';
import type { SinkHealth } from '../health.js';
import type { Sink } from '../sink.js';
import { toRegistry } from './registry.js';
import { LatestSeries, type SeriesOptions } from './series.js';
import type { DaemonView } from './view.js';

export interface ListenAddress {
  /** An IP address or host name; '' for every address. */
  readonly host: string;
  readonly port: number;
}

export interface ExpositionOptions extends SeriesOptions {
  readonly listen: ListenAddress;
  /** PEM contents; both or neither. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly view: DaemonView;
  /** The other sinks' health, for /healthz. */
  readonly sinkHealth: () => readonly SinkHealth[];
  /** A sink failing for longer than this makes /healthz answer 503. */
  readonly failingThresholdMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Started by the daemon after its sinks and before the watcher; closed after the final flush. */
export interface DaemonServer {
  readonly description: string;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The pull-based Prometheus sink: `--listen ADDR:PORT`. The sink part keeps the latest batch's
 * values (it never fails, and has no spool: a scrape wants the present, not a backlog); the server
 * part answers `GET /metrics` with them in the text exposition format, and `GET /healthz` with 200
 * while the Engine answers and no other sink has been failing for longer than the threshold, 503
 * otherwise, with a JSON body saying why. A container that is gone (no longer followed) disappears
 * from /metrics at the first tick without it; one that is still followed keeps its last values.
 */
export function createPrometheusExposition(opts: ExpositionOptions): { sink: Sink; server: DaemonServer } {
  const latest = new LatestSeries(opts);
  let registry: Registry = toRegistry([]);
  const scheme = opts.tls ? 'https' : 'http';
  const shown = `${scheme}://${opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host || '0.0.0.0'}:${opts.listen.port}`;

  const sink: Sink = {
    description: `prometheus ${shown}/metrics`,
    // A whole tick in one send, so that one batch replaces the previous one.
    maxBatchItems: Number.MAX_SAFE_INTEGER,
    async send(items) {
      registry = toRegistry(latest.update(items, opts.view.containers()));
    },
    async close() {},
  };

  const health = (): { ok: boolean; body: unknown } => {
    const now = opts.clock.now();
    const problems: string[] = [];
    const engine = opts.view.engineReachable();
    if (!engine) problems.push('the Docker Engine is not reachable');
    const sinks = opts.sinkHealth().map((h) => {
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
  const server: DaemonServer = {
    description: shown,
    async start() {
      const s: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : createHttpServer(handle);
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
  return { sink, server };
}

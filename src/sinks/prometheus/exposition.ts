import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DaemonStatus, PullSink, Tick } from '../sink.js';
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
 * (a scrape wants the present, not a backlog); its server answers `GET /metrics` with them in the
 * text exposition format, and `GET /healthz` with 200 while the Engine answers and no sink has been
 * failing for longer than the threshold, 503 otherwise, with a JSON body saying why (read from the
 * daemon's status, given at start). A container that is gone (no longer followed) disappears from
 * /metrics at the first tick without it, but for its exit series (LatestSeries); one that is still
 * followed keeps its last values. The server listens when the daemon starts the sink and stops when
 * it closes it.
 */
export class PrometheusExposition implements PullSink {
  readonly description: string;
  #opts: ExpositionOptions;
  /** The listen address as a URL, for messages. */
  readonly #shown: string;
  readonly #latest: LatestSeries;
  #registry: Registry = toRegistry([]);
  #status: DaemonStatus | undefined;
  #server: Server | undefined;

  constructor(opts: ExpositionOptions) {
    this.#opts = opts;
    this.#latest = new LatestSeries(opts.containerLabels);
    const { host, port } = opts.listen;
    this.#shown = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host || '0.0.0.0'}:${port}`;
    this.description = `prometheus ${this.#shown}/metrics`;
  }

  update(tick: Tick): void {
    this.#registry = toRegistry(this.#latest.update(tick));
  }

  async start(status: DaemonStatus): Promise<void> {
    this.#status = status;
    const { listen, tls, logger } = this.#opts;
    const limits = {
      headersTimeout: LISTENER_LIMITS.headersTimeoutMs,
      requestTimeout: LISTENER_LIMITS.requestTimeoutMs,
      keepAliveTimeout: LISTENER_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: LISTENER_LIMITS.checkIntervalMs,
    };
    const handle = (req: IncomingMessage, res: ServerResponse): void => this.#handle(req, res);
    const s: Server = tls
      ? createHttpsServer({ ...limits, ...tls, handshakeTimeout: LISTENER_LIMITS.handshakeTimeoutMs }, handle)
      : createHttpServer(limits, handle);
    s.maxConnections = LISTENER_LIMITS.maxConnections;
    this.#server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(listen.port, listen.host === '' ? undefined : listen.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const port = (s.address() as AddressInfo).port;
    logger.info('serving /metrics and /healthz', { listen: this.#shown, port });
  }

  /**
   * Serves this certificate and key to the connections made from now on (a SIGHUP's reload);
   * throws, keeping the pair served so far, when they are not a valid pair. Only with `tls`.
   */
  setTls(tls: { readonly cert: Buffer; readonly key: Buffer }): void {
    if (!this.#opts.tls) {
      throw new Error('the listener serves plain HTTP: TLS takes a restart with --tls-cert, --tls-key');
    }
    // Before start there is no server yet: start() creates it with these.
    if (this.#server) (this.#server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
    this.#opts = { ...this.#opts, tls };
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
    } else if (path === '/metrics') {
      const current = this.#registry;
      current.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': current.contentType }).end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${describeError(err)}\n`),
      );
    } else if (path === '/healthz') {
      const body = this.#health();
      const status = body.status === 'ok' ? 200 : 503;
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
    }
  }

  /** /healthz's answer: whether the Engine answers, and every other sink's failing time and last error. */
  #health(): { status: 'ok' | 'failing'; problems: string[]; engineReachable: boolean; sinks: unknown[] } {
    const now = this.#opts.clock.now();
    const threshold = this.#opts.failingThresholdMs;
    const problems: string[] = [];
    const engine = this.#status?.engineReachable() ?? false;
    if (!engine) problems.push('the Docker Engine is not reachable');
    const others = (this.#status?.sinks() ?? []).filter((h) => h.sink !== this.description);
    const sinks = others.map((h) => {
      const failingMs = h.failingSince === undefined ? 0 : now - h.failingSince;
      const failingSeconds = Math.round(failingMs / 1000);
      if (failingMs > threshold) {
        problems.push(`sink ${h.sink} has been failing for ${failingSeconds} s: ${h.lastError ?? 'unknown error'}`);
      }
      return { sink: h.sink, ok: failingMs <= threshold, failingSeconds, lastError: h.lastError ?? null };
    });
    return { status: problems.length === 0 ? 'ok' : 'failing', problems, engineReachable: engine, sinks };
  }
}

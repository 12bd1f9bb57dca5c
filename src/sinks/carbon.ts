import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import type { Clock } from '../clock.js';
import { describeError, errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { CarbonPaths, CarbonPoint } from '../naming/carbon-path.js';
import { carbonLine, chunkLines } from './carbon-encode.js';
import { carbonPointCodec, carbonPointSink } from './carbon-point.js';
import { SinkSendError, spoolKey, type Sink, type SpoolCodec } from './sink.js';

export interface CarbonTarget {
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
}

export interface CarbonSinkOptions {
  readonly target: CarbonTarget;
  /** Sanitised path put in front of every path ('' for none): there is no Backstop `<name>.` here. */
  readonly prefix: string;
  /** How metrics are named in carbon (shared by every carbon-speaking sink). */
  readonly paths: CarbonPaths;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  /**
   * TCP: what was written this long before the connection was found closed is written again after
   * the reconnect (the kernel accepted it, but carbon may never have read it). Graphite keeps one
   * value per path and time, so a duplicate is harmless. Default 10 s.
   */
  readonly resendWindowMs?: number;
}

/**
 * Carbon's line receiver drops lines longer than 16 KiB; our lines are a sanitised path, a number
 * and a time, far below that. A line longer than this is logged and dropped rather than sent.
 */
export const CARBON_MAX_LINE_BYTES = 4_096;
/** One UDP datagram: whole lines only, small enough not to be fragmented on an Ethernet path. */
const UDP_MAX_DATAGRAM = 1_400;
/** How long close() lets the last lines drain before it drops the connection. */
const CLOSE_GRACE_MS = 2_000;
/** Bound of the resend window, in items. */
const RESEND_MAX_ITEMS = 50_000;

/**
 * Carbon plaintext (`path value unixtime\n`) over one persistent TCP connection (CarbonTcpSink), or
 * UDP datagrams (CarbonUdpSink).
 */
export function createCarbonSink(opts: CarbonSinkOptions): Sink<CarbonPoint> {
  return opts.target.protocol === 'udp' ? new CarbonUdpSink(opts) : new CarbonTcpSink(opts);
}

/** What both transports share: the description, the encoding and spool, and the lines' bound. */
abstract class CarbonSink implements Sink<CarbonPoint> {
  readonly description: string;
  readonly maxBatchItems = 5_000;
  readonly encode: Sink<CarbonPoint>['encode'];
  readonly itemBytes: Sink<CarbonPoint>['itemBytes'];
  readonly spool: SpoolCodec<CarbonPoint>;
  protected readonly target: CarbonTarget;
  /** The target as a URL without credentials, for messages. */
  protected readonly shown: string;
  protected readonly clock: Clock;
  protected readonly logger: Logger;
  readonly #prefix: string;
  #droppedLong = 0;

  constructor(opts: CarbonSinkOptions) {
    const { target } = opts;
    this.target = target;
    this.shown = `${target.protocol}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.#prefix = opts.prefix === '' ? '' : `${opts.prefix}.`;
    this.description = `carbon ${this.shown}`;
    ({ encode: this.encode, itemBytes: this.itemBytes } = carbonPointSink(opts.paths));
    // Spooled without the prefix (it is put in front when the lines are written).
    this.spool = carbonPointCodec(spoolKey('carbon', `${this.shown} ${this.#prefix}`));
  }

  abstract send(items: readonly CarbonPoint[], signal: AbortSignal): Promise<void>;
  abstract close(): Promise<void>;

  /** The items as lines; one longer than CARBON_MAX_LINE_BYTES is logged and dropped. */
  protected lines(items: readonly CarbonPoint[]): string[] {
    const out: string[] = [];
    for (const m of items) {
      const line = carbonLine(m, this.#prefix);
      const bytes = Buffer.byteLength(line);
      if (bytes <= CARBON_MAX_LINE_BYTES) {
        out.push(line);
        continue;
      }
      this.#droppedLong += 1;
      if (this.#droppedLong === 1 || this.#droppedLong % 1000 === 0) {
        const where = { sink: this.shown, bytes, path: line.slice(0, 200), droppedTotal: this.#droppedLong };
        this.logger.error('carbon line too long; dropped it', where);
      }
    }
    return out;
  }

  /** A failed send, tried again soon; `fallback` is the code when Node gives none. */
  protected failure(what: string, err: Error, fallback: string): SinkSendError {
    const code = errorCode(err) ?? fallback;
    return new SinkSendError(`${what}: ${describeError(err)}`, { pace: 'soon', code, cause: err });
  }
}

/**
 * Carbon over one persistent TCP connection. The connection is opened by the first send and kept;
 * when it is down (refused, reset, closed by carbon), `send` throws SinkSendError('soon') and the
 * runner retries with backoff, which is the reconnect backoff. A send resolves once its lines are
 * handed to the kernel; what the kernel had accepted shortly before carbon closed the connection
 * is written again after the reconnect.
 */
class CarbonTcpSink extends CarbonSink {
  readonly #connectTimeoutMs: number;
  readonly #resendWindowMs: number;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  /** Batches written recently, for the resend after a dropped connection. */
  #recent: { at: number; items: readonly CarbonPoint[] }[] = [];
  /** Set when the connection closed: the items to write again first. */
  #resend: readonly CarbonPoint[] = [];

  constructor(opts: CarbonSinkOptions) {
    super(opts);
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.#resendWindowMs = opts.resendWindowMs ?? 10_000;
  }

  async send(items: readonly CarbonPoint[], signal: AbortSignal): Promise<void> {
    const s = await this.#connect(signal);
    const again = this.#resend;
    if (again.length > 0) {
      await this.#write(s, this.lines(again).join(''));
      const said = { sink: this.shown, items: again.length };
      this.logger.info('carbon reconnected; wrote again what may have been lost with the connection', said);
      this.#resend = [];
      this.#recent.push({ at: this.clock.now(), items: again });
    }
    await this.#write(s, this.lines(items).join(''));
    if (this.#socket !== s) {
      // The connection closed while we wrote: these lines may be lost too.
      const message = `carbon at ${this.shown} closed the connection during a send`;
      throw new SinkSendError(message, { pace: 'soon', code: 'ECONNRESET' });
    }
    this.#remember(items);
  }

  async close(): Promise<void> {
    const s = this.#socket;
    this.#socket = undefined;
    if (!s) return;
    // Lines still in the socket's buffer get a moment to go; a carbon that reads nothing does not hold
    // the stop.
    await new Promise<void>((resolve) => {
      const cancel = this.clock.setTimer(() => {
        s.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      s.end(() => {
        cancel();
        resolve();
      });
    });
  }

  /** Keeps a sent batch for the resend window, at most RESEND_MAX_ITEMS items, the newest. */
  #remember(items: readonly CarbonPoint[]): void {
    const now = this.clock.now();
    this.#recent.push({ at: now, items });
    const kept: { at: number; items: readonly CarbonPoint[] }[] = [];
    let total = 0;
    for (let i = this.#recent.length - 1; i >= 0; i--) {
      const r = this.#recent[i]!;
      if (r.at < now - this.#resendWindowMs) continue;
      total += r.items.length;
      if (total > RESEND_MAX_ITEMS) break;
      kept.push(r);
    }
    this.#recent = kept.reverse();
  }

  #connect(signal: AbortSignal): Promise<Socket> {
    if (this.#socket) return Promise.resolve(this.#socket);
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const { host, port } = this.target;
      const s = createConnection({ host, port });
      const timeoutMs = this.#connectTimeoutMs;
      const timedOut = (): void => void s.destroy(new Error(`connect timed out after ${timeoutMs} ms`));
      const timer = this.clock.setTimer(timedOut, timeoutMs);
      const onAbort = (): void => void s.destroy(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        timer();
        signal.removeEventListener('abort', onAbort);
        this.#connected(s);
        resolve(s);
      });
      s.once('error', (err: Error) => {
        timer();
        signal.removeEventListener('abort', onAbort);
        s.destroy();
        reject(this.failure(`cannot connect to carbon at ${this.shown}`, err, 'ECONNECT'));
      });
    }).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Keeps a new connection; when it closes, what was written within the resend window waits to go again. */
  #connected(s: Socket): void {
    s.setKeepAlive(true, 30_000);
    s.setNoDelay(true);
    this.#socket = s;
    s.on('error', () => {}); // 'close' follows; the next send sees the socket gone.
    s.once('close', () => {
      if (this.#socket !== s) return;
      this.#socket = undefined;
      const since = this.clock.now() - this.#resendWindowMs;
      this.#resend = this.#recent.filter((r) => r.at >= since).flatMap((r) => r.items);
      this.#recent = [];
      this.logger.warn('carbon connection closed; will reconnect', { sink: this.shown, resend: this.#resend.length });
    });
    // Carbon never writes to us; reading keeps the socket flowing so that a FIN is noticed.
    s.resume();
  }

  #write(s: Socket, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      s.write(text, (err) =>
        err ? reject(this.failure(`writing to carbon at ${this.shown} failed`, err, 'EWRITE')) : resolve(),
      );
    });
  }
}

/** Carbon over UDP datagrams: fire and forget (carbon acknowledges nothing); only local errors fail a send. */
class CarbonUdpSink extends CarbonSink {
  readonly #socket: UdpSocket;

  constructor(opts: CarbonSinkOptions) {
    super(opts);
    this.#socket = createSocket(opts.target.host.includes(':') ? 'udp6' : 'udp4');
  }

  async send(items: readonly CarbonPoint[]): Promise<void> {
    const { host, port } = this.target;
    for (const datagram of chunkLines(this.lines(items), UDP_MAX_DATAGRAM)) {
      await new Promise<void>((resolve, reject) => {
        this.#socket.send(datagram, port, host, (err) =>
          err ? reject(this.failure(`sending to carbon at ${this.shown} failed`, err, 'EUDP')) : resolve(),
        );
      });
    }
  }

  close(): Promise<void> {
    this.#socket.close();
    return Promise.resolve();
  }
}

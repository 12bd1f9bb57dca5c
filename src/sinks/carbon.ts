import { createSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { CarbonPaths, CarbonPoint } from '../naming/carbon-path.js';
import { carbonLine, chunkLines } from './carbon-encode.js';
import { carbonPointCodec, carbonPointSink } from './carbon-point.js';
import { SinkSendError, spoolKey, type Sink } from './sink.js';

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
 * Carbon plaintext (`path value unixtime\n`) over one persistent TCP connection, or UDP datagrams.
 * TCP: the connection is opened by the first send and kept; when it is down (refused, reset, closed
 * by carbon), `send` throws SinkSendError('soon') and the runner retries with backoff, which is the
 * reconnect backoff. A send resolves once its lines are handed to the kernel; what the kernel had
 * accepted shortly before carbon closed the connection is written again after the reconnect.
 * UDP: fire and forget (carbon acknowledges nothing); only local errors fail a send.
 */
export function createCarbonSink(opts: CarbonSinkOptions): Sink<CarbonPoint> {
  const { target, logger, clock } = opts;
  const shown = `${target.protocol}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const prefix = opts.prefix === '' ? '' : `${opts.prefix}.`;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const resendWindowMs = opts.resendWindowMs ?? 10_000;
  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  /** Batches written recently, for the resend after a dropped connection. */
  let recent: { at: number; items: readonly CarbonPoint[] }[] = [];
  /** Set when the connection closed: the items to write again first. */
  let resend: CarbonPoint[] = [];
  let droppedLong = 0;

  const lines = (items: readonly CarbonPoint[]): string[] => {
    const out: string[] = [];
    for (const m of items) {
      const line = carbonLine(m, prefix);
      if (Buffer.byteLength(line) > CARBON_MAX_LINE_BYTES) {
        droppedLong += 1;
        if (droppedLong === 1 || droppedLong % 1000 === 0) {
          logger.error('carbon line too long; dropped it', { sink: shown, bytes: Buffer.byteLength(line), path: line.slice(0, 200), droppedTotal: droppedLong });
        }
        continue;
      }
      out.push(line);
    }
    return out;
  };

  const connect = (signal: AbortSignal): Promise<Socket> => {
    if (socket) return Promise.resolve(socket);
    connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: target.host, port: target.port });
      const timer = clock.setTimer(() => s.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)), connectTimeoutMs);
      const onAbort = (): void => void s.destroy(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        timer();
        signal.removeEventListener('abort', onAbort);
        s.setKeepAlive(true, 30_000);
        s.setNoDelay(true);
        socket = s;
        s.on('error', () => {}); // 'close' follows; the next send sees the socket gone.
        s.once('close', () => {
          if (socket !== s) return;
          socket = undefined;
          const since = clock.now() - resendWindowMs;
          resend = recent.filter((r) => r.at >= since).flatMap((r) => r.items);
          recent = [];
          logger.warn('carbon connection closed; will reconnect', { sink: shown, resend: resend.length });
        });
        // Carbon never writes to us; reading keeps the socket flowing so that a FIN is noticed.
        s.resume();
        resolve(s);
      });
      s.once('error', (err: Error & { code?: string }) => {
        timer();
        signal.removeEventListener('abort', onAbort);
        s.destroy();
        reject(new SinkSendError(`cannot connect to carbon at ${shown}: ${err.code ?? err.message}`, { pace: 'soon', code: err.code ?? 'ECONNECT', cause: err }));
      });
    }).finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const write = (s: Socket, text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      s.write(text, (err) => {
        if (err) reject(new SinkSendError(`writing to carbon at ${shown} failed: ${(err as { code?: string }).code ?? err.message}`, { pace: 'soon', code: (err as { code?: string }).code ?? 'EWRITE', cause: err }));
        else resolve();
      });
    });

  const sendTcp = async (items: readonly CarbonPoint[], signal: AbortSignal): Promise<void> => {
    const s = await connect(signal);
    const again = resend;
    if (again.length > 0) {
      await write(s, lines(again).join(''));
      logger.info('carbon reconnected; wrote again what may have been lost with the connection', { sink: shown, items: again.length });
      resend = [];
      recent.push({ at: clock.now(), items: again });
    }
    await write(s, lines(items).join(''));
    if (socket !== s) {
      // The connection closed while we wrote: these lines may be lost too.
      throw new SinkSendError(`carbon at ${shown} closed the connection during a send`, { pace: 'soon', code: 'ECONNRESET' });
    }
    const now = clock.now();
    recent.push({ at: now, items });
    let total = 0;
    const newestFirst = recent.filter((r) => r.at >= now - resendWindowMs).reverse();
    recent = newestFirst.filter((r) => {
      total += r.items.length;
      return total <= RESEND_MAX_ITEMS;
    });
    recent.reverse();
  };

  const udp = target.protocol === 'udp' ? createSocket(target.host.includes(':') ? 'udp6' : 'udp4') : undefined;
  const sendUdp = async (items: readonly CarbonPoint[]): Promise<void> => {
    for (const datagram of chunkLines(lines(items), UDP_MAX_DATAGRAM)) {
      await new Promise<void>((resolve, reject) => {
        udp!.send(datagram, target.port, target.host, (err) => {
          if (err) reject(new SinkSendError(`sending to carbon at ${shown} failed: ${(err as { code?: string }).code ?? err.message}`, { pace: 'soon', code: (err as { code?: string }).code ?? 'EUDP', cause: err }));
          else resolve();
        });
      });
    }
  };

  return {
    description: `carbon ${shown}`,
    ...carbonPointSink(opts.paths),
    // Spooled without the prefix (it is put in front when the lines are written).
    spool: carbonPointCodec(spoolKey('carbon', `${shown} ${prefix}`)),
    maxBatchItems: 5_000,
    send: (items, signal) => (udp ? sendUdp(items) : sendTcp(items, signal)),
    async close() {
      udp?.close();
      const s = socket;
      socket = undefined;
      // Lines still in the socket's buffer get a moment to go; a carbon that reads nothing does not hold the stop.
      if (s) {
        await new Promise<void>((resolve) => {
          const cancel = clock.setTimer(() => {
            s.destroy();
            resolve();
          }, CLOSE_GRACE_MS);
          s.end(() => {
            cancel();
            resolve();
          });
        });
      }
    },
  };
}

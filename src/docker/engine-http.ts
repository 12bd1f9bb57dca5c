import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * The HTTP/1.1 the daemon speaks to the Engine: one GET per connection, its response read off the
 * socket. Written here rather than taken from node:http because a stats stream stays open for the
 * life of its container: through node:http each one held a request, a response and a parser, about
 * 15 KB per stream (11 KB more than the socket alone, 55 MB at 5,000 containers).
 */

/** Where to connect (the validated `--docker` target, without what only messages need). */
export type EngineAddress =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | {
      readonly kind: 'tcp';
      readonly protocol: 'http' | 'https';
      readonly host: string;
      readonly port: number;
      readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
    };

/** A response whose head has arrived. Its body is delivered once start() is called. */
export interface EngineResponse {
  readonly status: number;
  /**
   * Delivers the body as it arrives (chunks as sent, not lines), then `onEnd` once: with no error
   * when the body is complete, with one when the connection failed first. Neither runs after close().
   */
  start(onData: (chunk: Buffer) => void, onEnd: (err?: Error) => void): void;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** A response head larger than this is not the Engine's. */
const MAX_HEAD_BYTES = 64 << 10;
/** A chunk-size or trailer line longer than this is not HTTP. */
const MAX_LINE_BYTES = 4 << 10;

/** Sends `GET path` and resolves when the response head arrives; rejects if the connection fails first or `signal` aborts. */
export function engineGet(address: EngineAddress, path: string, signal?: AbortSignal): Promise<EngineResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const socket = open(address);
    const onAbort = (): void => connection.fail(abortError());
    const connection = new Connection(socket, {
      head: () => resolve(connection),
      failedBeforeHead: reject,
      closed: () => signal?.removeEventListener('abort', onAbort),
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    const host = address.kind === 'unix' ? 'docker' : `${address.host}:${address.port}`;
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: docker-stats-to-backstop\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
  });
}

function open(address: EngineAddress): Socket {
  if (address.kind === 'unix') return netConnect({ path: address.socketPath });
  if (address.protocol === 'http') return netConnect({ host: address.host, port: address.port });
  const tls = address.tls;
  return tlsConnect({
    host: address.host,
    port: address.port,
    ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.cert ? { cert: tls.cert } : {}),
    ...(tls?.key ? { key: tls.key } : {}),
  });
}

function abortError(): Error {
  const err = new Error('the request was aborted');
  err.name = 'AbortError';
  return err;
}

interface ConnectionHooks {
  /** The response head has arrived (`status` is set). */
  readonly head: () => void;
  /** The connection failed, or was aborted, before the head arrived. */
  readonly failedBeforeHead: (err: Error) => void;
  /** The connection is closed, whatever the reason. */
  readonly closed: () => void;
}

/** One request's connection: decodes the response and hands its body on. */
class Connection implements EngineResponse {
  /** 0 until the head has arrived. */
  status = 0;
  readonly #hooks: ConnectionHooks;
  readonly #socket: Socket;
  readonly #decoder: ResponseDecoder;
  /** Body chunks that came before start(), then undefined. */
  #early: Buffer[] | undefined = [];
  #onData: ((chunk: Buffer) => void) | undefined;
  #onEnd: ((err?: Error) => void) | undefined;
  /** How the body ended, while start() has not been called yet (null: complete). */
  #endedEarly: Error | null | undefined;
  #closed = false;

  constructor(socket: Socket, hooks: ConnectionHooks) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.#decoder = new ResponseDecoder(
      (status) => {
        this.status = status;
        hooks.head();
      },
      (chunk) => {
        if (this.#early) this.#early.push(chunk);
        else this.#onData?.(chunk);
      },
      () => this.#end(null),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on('end', () => {
      if (!this.#decoder.finish()) this.fail(new Error('the Engine closed the connection before the answer was complete'));
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the connection to the Engine closed')));
  }

  start(onData: (chunk: Buffer) => void, onEnd: (err?: Error) => void): void {
    this.#onData = onData;
    this.#onEnd = onEnd;
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const chunk of early) {
      if (this.#closed) return;
      onData(chunk);
    }
    if (this.#endedEarly !== undefined) this.#end(this.#endedEarly);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.stop();
    this.#socket.destroy();
    this.#hooks.closed();
  }

  /** The connection failed (or was aborted): reported once, to whoever waits, then closed. */
  fail(err: Error): void {
    if (this.#closed) return;
    if (this.status === 0) {
      this.close();
      this.#hooks.failedBeforeHead(err);
      return;
    }
    this.#end(err);
  }

  #end(err: Error | null): void {
    if (this.#closed) return;
    if (!this.#onEnd) {
      if (this.#endedEarly === undefined) this.#endedEarly = err;
      return;
    }
    const onEnd = this.#onEnd;
    this.close();
    if (err) onEnd(err);
    else onEnd();
  }
}

type DecoderState = 'head' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'length' | 'until-close' | 'done';

/**
 * Decodes one HTTP/1.1 response pushed in as the socket delivers it: the head, then the body in
 * whichever framing the head announces (chunked, Content-Length, or until the connection closes).
 * Body chunks are handed on as slices of the socket's buffers. A malformed response throws.
 */
export class ResponseDecoder {
  #state: DecoderState = 'head';
  /** Head bytes (or a chunk-size/trailer line) received so far without their end. */
  #partial: Buffer | undefined;
  /** Bytes left in the current chunk, or of a Content-Length body. */
  #remaining = 0;
  readonly #onHead: (status: number) => void;
  readonly #onBody: (chunk: Buffer) => void;
  readonly #onDone: () => void;

  constructor(onHead: (status: number) => void, onBody: (chunk: Buffer) => void, onDone: () => void) {
    this.#onHead = onHead;
    this.#onBody = onBody;
    this.#onDone = onDone;
  }

  push(input: Buffer): void {
    let buf = input;
    let i = 0;
    while (i < buf.length && this.#state !== 'done') {
      switch (this.#state) {
        case 'head': {
          const joined: Buffer = this.#partial ? Buffer.concat([this.#partial, buf.subarray(i)]) : buf.subarray(i);
          const end = joined.indexOf('\r\n\r\n');
          if (end === -1) {
            if (joined.length > MAX_HEAD_BYTES) throw new Error('the Engine sent an HTTP head larger than 64 KiB');
            this.#partial = Buffer.from(joined);
            return;
          }
          this.#partial = undefined;
          this.#head(joined.subarray(0, end).toString('latin1'));
          buf = joined;
          i = end + 4;
          break;
        }
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const nl = buf.indexOf(10, i);
          const piece = buf.subarray(i, nl === -1 ? buf.length : nl);
          const line: Buffer = this.#partial ? Buffer.concat([this.#partial, piece]) : piece;
          if (line.length > MAX_LINE_BYTES) throw new Error('the Engine sent a malformed chunked body');
          if (nl === -1) {
            this.#partial = Buffer.from(line);
            return;
          }
          this.#partial = undefined;
          i = nl + 1;
          this.#line(line.toString('latin1').replace(/\r$/, ''));
          break;
        }
        case 'chunk-data':
        case 'length': {
          const n = Math.min(this.#remaining, buf.length - i);
          this.#onBody(buf.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            if (this.#state === 'length') this.#done();
            else this.#state = 'chunk-end';
          }
          break;
        }
        case 'until-close':
          this.#onBody(buf.subarray(i));
          return;
      }
    }
  }

  /** The connection ended. Whether the response was complete (a body delimited by the close is). */
  finish(): boolean {
    if (this.#state === 'until-close') this.#done();
    return this.#state === 'done';
  }

  /** No more callbacks (the connection is being closed). */
  stop(): void {
    this.#state = 'done';
  }

  #head(head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) throw new Error(`the Engine's answer is not HTTP/1.1: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    let chunked = false;
    let length: number | undefined;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'transfer-encoding') chunked = value.toLowerCase().split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'content-length') {
        if (!/^\d+$/.test(value)) throw new Error(`the Engine sent a bad Content-Length: ${JSON.stringify(value.slice(0, 40))}`);
        length = Number(value);
      }
    }
    const code = Number(status[1]);
    if (code >= 100 && code < 200) {
      // An interim answer (100 Continue): the real head follows.
      return;
    }
    this.#onHead(code);
    if (this.#state === 'done') return;
    if (code === 204 || code === 304) this.#done();
    else if (chunked) this.#state = 'chunk-size';
    else if (length !== undefined) {
      this.#remaining = length;
      this.#state = 'length';
      if (length === 0) this.#done();
    } else this.#state = 'until-close';
  }

  #line(line: string): void {
    if (this.#state === 'chunk-end') {
      if (line !== '') throw new Error('the Engine sent a malformed chunked body');
      this.#state = 'chunk-size';
    } else if (this.#state === 'chunk-size') {
      const hex = (line.split(';')[0] ?? '').trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new Error('the Engine sent a malformed chunked body');
      this.#remaining = Number.parseInt(hex, 16);
      this.#state = this.#remaining === 0 ? 'trailers' : 'chunk-data';
    } else if (line === '') {
      this.#done();
    }
  }

  #done(): void {
    this.#state = 'done';
    this.#onDone();
  }
}

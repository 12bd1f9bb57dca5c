import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResponseDecoder } from '../../src/docker/engine-http.js';
import { EngineClient, EngineError, type EngineResponse } from '../../src/docker/engine.js';
import { writeSelfSignedCert } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

/** Feeds `wire` to a decoder cut into pieces at the given offsets; returns what it decoded. */
function decode(wire: string, cuts: number[] = []): { status: number[]; body: string; done: number; finished: boolean } {
  const out = { status: [] as number[], body: '', done: 0, finished: false };
  const d = new ResponseDecoder(
    (s) => out.status.push(s),
    (b) => (out.body += b.toString('latin1')),
    () => (out.done += 1),
  );
  const bytes = Buffer.from(wire, 'latin1');
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    d.push(bytes.subarray(at, cut));
    at = cut;
  }
  out.finished = d.finish();
  return out;
}

const CHUNKED =
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '9\r\n{"a":1}\n\n\r\n' +
  'c;ext=1\r\n{"b":22}\n{"c\r\n' +
  '4\r\n":3}\r\n' +
  '0\r\nX-Trailer: t\r\n\r\n';

describe('ResponseDecoder', () => {
  it('decodes a chunked body cut at every possible byte', () => {
    const whole = decode(CHUNKED);
    assert.deepEqual(whole, { status: [200], body: '{"a":1}\n\n{"b":22}\n{"c":3}', done: 1, finished: true });
    for (let cut = 1; cut < CHUNKED.length; cut++) {
      assert.deepEqual(decode(CHUNKED, [cut]), whole, `cut at ${cut}`);
    }
    const everyByte = Array.from({ length: CHUNKED.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(decode(CHUNKED, everyByte), whole);
  });

  it('decodes Content-Length, close-delimited and empty bodies, and skips an interim 100', () => {
    assert.deepEqual(decode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA'), { status: [200], body: 'hello', done: 1, finished: true });
    assert.deepEqual(decode('HTTP/1.0 200 OK\r\n\r\nuntil the end', [20]), { status: [200], body: 'until the end', done: 1, finished: true });
    assert.deepEqual(decode('HTTP/1.1 204 No Content\r\n\r\n'), { status: [204], body: '', done: 1, finished: true });
    assert.deepEqual(decode('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}'), {
      status: [404], body: '{}', done: 1, finished: true,
    });
  });

  it('says a body cut short is incomplete', () => {
    assert.equal(decode('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc').finished, false);
    assert.equal(decode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab').finished, false);
    assert.equal(decode('HTTP/1.1 200 OK\r\nContent-Le').finished, false);
  });

  it('throws on what is not HTTP/1.1', () => {
    assert.throws(() => decode('SSH-2.0-OpenSSH\r\n\r\n'), /not HTTP\/1\.1/);
    assert.throws(() => decode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), /malformed chunked/);
    assert.throws(() => decode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n'), /malformed chunked/);
    assert.throws(() => decode('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'), /bad Content-Length/);
    assert.throws(() => decode(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`), /larger than 64 KiB/);
  });
});

describe('EngineClient over a Unix socket', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  const sockets = new Set<Socket>();
  let client: EngineClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstb-engine-http-'));
    socketPath = join(dir, 'engine.sock');
    server = createServer((req, res) => handler(req, res));
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
    client = new EngineClient({ kind: 'unix', socketPath, display: `unix://${socketPath}` });
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('sends GET with the query and reads a JSON answer', async () => {
    let seen = '';
    handler = (req, res) => {
      seen = `${req.method} ${req.url}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ Id: 'abc' }]));
    };
    assert.deepEqual(await client.listContainers({ status: ['running'], label: ['a=b'] }), [{ Id: 'abc' }]);
    assert.equal(seen, `GET /containers/json?filters=${encodeURIComponent('{"status":["running"],"label":["a=b"]}')}`);
  });

  it('rejects an error status with the Engine\'s message and its status code', async () => {
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"No such container: nope"}');
    };
    await assert.rejects(client.inspect('nope'), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.statusCode, 404);
      assert.equal(err.message, 'GET /containers/nope/json: HTTP 404: No such container: nope');
      return true;
    });
  });

  it('rejects an answer that is not JSON', async () => {
    handler = (_req, res) => res.writeHead(200).end('<html>');
    await assert.rejects(client.version(), /GET \/version: the Engine's answer is not JSON/);
  });

  it('streams chunks as they come, then ends; close() ends the connection at the server', async () => {
    let serverRes: ServerResponse | undefined;
    handler = (_req, res) => {
      serverRes = res;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"n":1}\n');
    };
    const stream: EngineResponse = await client.statsStream('c1');
    let text = '';
    let ended: Error | undefined | 'not yet' = 'not yet';
    stream.start(
      (b) => (text += b.toString()),
      (err) => (ended = err),
    );
    await waitFor(() => text === '{"n":1}\n', 'the first line, sent with the head');
    serverRes!.write('{"n":2}\n');
    await waitFor(() => text === '{"n":1}\n{"n":2}\n', 'the second line');
    serverRes!.end();
    await waitFor(() => ended === undefined, 'a complete end');

    handler = (_req, res) => {
      res.writeHead(200);
      res.write('x');
    };
    const open = await client.statsStream('c2');
    const before = sockets.size;
    open.start(() => {}, () => assert.fail('no callback after close()'));
    open.close();
    await waitFor(() => sockets.size === before - 1, 'the server sees the connection closed');
  });

  it('ends a stream with an error when the connection is cut mid-body', async () => {
    handler = (req, res) => {
      res.writeHead(200);
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
    };
    const stream = await client.statsStream('c3');
    const ended = await new Promise<Error | undefined>((resolve) => stream.start(() => {}, resolve));
    assert.match(String(ended), /closed the connection before the answer was complete|closed/);
  });

  it('aborts a call still waiting for its answer, and says when the socket is not there', async () => {
    handler = () => {}; // never answers
    const abort = new AbortController();
    const pending = client.statsStream('slow', abort.signal);
    await waitFor(() => sockets.size > 0, 'connected');
    const before = sockets.size;
    abort.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await waitFor(() => sockets.size === before - 1, 'the aborted connection closed');

    const missing = new EngineClient({ kind: 'unix', socketPath: join(dir, 'missing.sock'), display: 'x' });
    await assert.rejects(missing.version(), { code: 'ENOENT' });
  });

  it('rejects garbage from something that is not an Engine', async () => {
    const other = join(dir, 'other.sock');
    const raw = createNetServer((s) => s.resume().end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    await new Promise<void>((r) => raw.listen(other, r));
    try {
      const c = new EngineClient({ kind: 'unix', socketPath: other, display: 'x' });
      await assert.rejects(c.version(), /not HTTP\/1\.1/);
    } finally {
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });
});

describe('EngineClient over TCP with TLS', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstb-engine-tls-'));
    await writeSelfSignedCert(dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the Engine against the given CA and presents the client certificate', async () => {
    const key = await readFile(join(dir, 'key.pem'));
    const cert = await readFile(join(dir, 'cert.pem'));
    let clientCert = false;
    const server = createHttpsServer({ key, cert, ca: cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      clientCert = (req.socket as import('node:tls').TLSSocket).authorized;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ApiVersion":"1.41","Version":"tls"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const base = { kind: 'tcp', protocol: 'https', host: '127.0.0.1', port, display: `https://127.0.0.1:${port}` } as const;
      const good = new EngineClient({ ...base, tls: { ca: cert, cert, key } });
      assert.deepEqual(await good.version(), { ApiVersion: '1.41', Version: 'tls' });
      assert.equal(clientCert, true);
      const untrusting = new EngineClient({ ...base, tls: { cert, key } });
      await assert.rejects(untrusting.version(), /self[- ]signed/i);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

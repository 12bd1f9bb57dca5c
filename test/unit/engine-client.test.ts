import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineClient, EngineError, type EngineStream } from '../../src/docker/engine.js';
import { writeSelfSignedCert } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

describe('EngineClient over a Unix socket', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  const sockets = new Set<Socket>();
  let client: EngineClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstb-engine-client-'));
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

  it("rejects an error status with the Engine's message and its status code", async () => {
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

  /** A stats stream whose server sends `{"n":1}` with the head; `server()` is its response, to write more. */
  const firstLineStream = async (id: string): Promise<{ stream: EngineStream; server: () => ServerResponse }> => {
    let serverRes: ServerResponse | undefined;
    handler = (_req, res) => {
      serverRes = res;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"n":1}\n');
    };
    const stream = await client.statsStream(id);
    return { stream, server: () => serverRes! };
  };

  it('streams chunks as they come, then ends; close() ends the connection at the server', async () => {
    const { stream, server } = await firstLineStream('c1');
    let text = '';
    let ended: Error | undefined | 'not yet' = 'not yet';
    stream.start(
      (b) => (text += b.toString()),
      (err) => (ended = err),
    );
    await waitFor(() => text === '{"n":1}\n', 'the first line, sent with the head');
    server().write('{"n":2}\n');
    await waitFor(() => text === '{"n":1}\n{"n":2}\n', 'the second line');
    server().end();
    await waitFor(() => ended === undefined, 'a complete end');

    handler = (_req, res) => {
      res.writeHead(200);
      res.write('x');
    };
    const open = await client.statsStream('c2');
    const before = sockets.size;
    open.start(
      () => {},
      () => assert.fail('no callback after close()'),
    );
    open.close();
    await waitFor(() => sockets.size === before - 1, 'the server sees the connection closed');
  });

  it('hold() leaves what the Engine sends in the kernel until release(), then it all comes, in order', async () => {
    const { stream, server } = await firstLineStream('held');
    let text = '';
    let released = false;
    // What one read of the socket gave: the text once the callback that read it has returned.
    let firstRead: string | undefined;
    let ended: Error | undefined | 'not yet' = 'not yet';
    stream.start(
      (b) => {
        text += b.toString();
        if (released && firstRead === undefined) process.nextTick(() => (firstRead = text));
      },
      (err) => (ended = err),
    );
    await waitFor(() => text === '{"n":1}\n', 'the first line');
    assert.equal(stream.hold(), true, 'a Unix-socket stream can be held');
    assert.equal(stream.hold(), true, 'holding twice is holding');
    for (let n = 2; n <= 6; n++) {
      server().write(`{"n":${n}}\n`);
      await new Promise((r) => setTimeout(r, 20));
    }
    server().end();
    // What is held must stay away for a while: the server's writes and end are long done by then.
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(text, '{"n":1}\n', 'nothing read while held');
    assert.equal(ended, 'not yet', 'the end is held too');
    released = true;
    stream.release();
    await waitFor(() => ended === undefined, 'the end, after release()');
    const all = [1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}\n`).join('');
    assert.equal(text, all);
    assert.equal(firstRead, all, 'the five held lines came in one read');
    assert.equal(stream.hold(), false, 'an ended stream is not held');
    stream.release();
  });

  it('ends a stream with an error when the connection is cut mid-body', async () => {
    handler = (req, res) => {
      res.writeHead(200);
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
    };
    const stream = await client.statsStream('c3');
    const ended = await new Promise<Error | undefined>((resolve) => stream.start(() => {}, resolve));
    assert.match(String(ended), /closed before the answer was complete|aborted/);
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
      await assert.rejects(c.version(), (err: { code?: string }) => /^HPE_/.test(err.code ?? ''));
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

  it('a TLS stream cannot be held: hold() says so and its data keeps coming', async () => {
    const key = await readFile(join(dir, 'key.pem'));
    const cert = await readFile(join(dir, 'cert.pem'));
    let serverRes: ServerResponse | undefined;
    const server = createHttpsServer({ key, cert }, (_req, res) => {
      serverRes = res;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"n":1}\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const client = new EngineClient({
        kind: 'tcp',
        protocol: 'https',
        host: '127.0.0.1',
        port,
        display: 'tls',
        tls: { ca: cert },
      });
      const stream = await client.statsStream('tls');
      let text = '';
      stream.start(
        (b) => (text += b.toString()),
        () => {},
      );
      await waitFor(() => text === '{"n":1}\n', 'the first line');
      assert.equal(stream.hold(), false);
      serverRes!.write('{"n":2}\n');
      await waitFor(() => text === '{"n":1}\n{"n":2}\n', 'the next line, though hold() was called');
      stream.close();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('verifies the Engine against the given CA and presents the client certificate', async () => {
    const key = await readFile(join(dir, 'key.pem'));
    const cert = await readFile(join(dir, 'cert.pem'));
    let clientCert = false;
    const server = createHttpsServer(
      { key, cert, ca: cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clientCert = (req.socket as import('node:tls').TLSSocket).authorized;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ApiVersion":"1.41","Version":"tls"}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const base = {
        kind: 'tcp',
        protocol: 'https',
        host: '127.0.0.1',
        port,
        display: `https://127.0.0.1:${port}`,
      } as const;
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

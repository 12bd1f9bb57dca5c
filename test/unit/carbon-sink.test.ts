import assert from 'node:assert/strict';
import { createSocket as createUdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { CarbonPaths } from '../../src/naming/carbon-path.js';
import { createCarbonSink } from '../../src/sinks/carbon.js';
import { SinkSendError } from '../../src/sinks/sink.js';
import { waitFor } from '../helpers/wait.js';

/** A line receiver of the test's own on 127.0.0.1: what it read, and its open connections. */
async function receiver(
  port = 0,
): Promise<{ server: Server; port: number; text: () => string; sockets: Set<Socket>; close: () => Promise<void> }> {
  let text = '';
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', (b: Buffer) => (text += b.toString()));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    text: () => text,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const signal = new AbortController().signal;
const paths = new CarbonPaths({ rules: [], pathPrefix: '', hostPath: 'h' });

describe('carbon sink (TCP)', () => {
  it('writes over one connection, fails soon while carbon is down, rewrites what a close lost', async () => {
    const r = await receiver();
    const logged: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void logged.push(message) };
    const sink = createCarbonSink({
      target: { protocol: 'tcp', host: '127.0.0.1', port: r.port },
      prefix: 'dc1',
      paths,
      clock: systemClock,
      logger,
    });
    try {
      await sink.send([{ path: 'a.b', value: 1, time: 100 }], signal);
      await sink.send([{ path: 'a.b', value: 2, time: 101 }], signal);
      await waitFor(() => r.text() === 'dc1.a.b 1 100\ndc1.a.b 2 101\n', 'two lines');
      assert.equal(r.sockets.size, 1, 'one persistent connection');

      await r.close();
      await waitFor(() => logged.includes('carbon connection closed; will reconnect'), 'the close to be noticed');
      await assert.rejects(
        sink.send([{ path: 'a.b', value: 3, time: 102 }], signal),
        (err: unknown) => err instanceof SinkSendError && err.pace === 'soon' && /ECONNREFUSED/.test(err.message),
      );

      const back = await receiver(r.port);
      try {
        await sink.send([{ path: 'a.b', value: 3, time: 102 }], signal);
        await waitFor(() => back.text().includes('dc1.a.b 3 102\n'), 'the retried line');
        assert.match(
          back.text(),
          /^dc1\.a\.b 1 100\ndc1\.a\.b 2 101\n/,
          'the lines written shortly before the close, again',
        );
      } finally {
        await sink.close();
        await back.close();
      }
    } finally {
      await sink.close();
    }
  });

  it('drops a line longer than 4 KiB rather than send it', async () => {
    const r = await receiver();
    const sink = createCarbonSink({
      target: { protocol: 'tcp', host: '127.0.0.1', port: r.port },
      prefix: '',
      paths,
      clock: systemClock,
      logger: silentLogger,
    });
    try {
      await sink.send(
        [
          { path: 'x'.repeat(5000), value: 1, time: 1 },
          { path: 'ok', value: 2, time: 1 },
        ],
        signal,
      );
      await waitFor(() => r.text() === 'ok 2 1\n', 'only the short line');
    } finally {
      await sink.close();
      await r.close();
    }
  });
});

describe('carbon sink (UDP)', () => {
  it('sends the prefixed lines in datagrams of whole lines that fit in one Ethernet frame', async () => {
    const server = createUdpSocket('udp4');
    const datagrams: string[] = [];
    server.on('message', (b) => datagrams.push(b.toString()));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const target = { protocol: 'udp', host: '127.0.0.1', port: server.address().port } as const;
    const sink = createCarbonSink({ target, prefix: 'dc1', paths, clock: systemClock, logger: silentLogger });
    try {
      assert.equal(sink.description, `carbon udp://127.0.0.1:${target.port}`);
      const items = Array.from({ length: 100 }, (_, i) => ({ path: `some.longer.path.${i}`, value: i, time: 100 }));
      await sink.send(items, signal);
      const expected = items.map((p) => `dc1.${p.path} ${p.value} 100\n`).join('');
      await waitFor(() => datagrams.join('').length >= expected.length, 'every line');
      assert.equal(datagrams.join(''), expected);
      assert.ok(datagrams.length > 1, 'more than one datagram');
      for (const d of datagrams) {
        assert.ok(Buffer.byteLength(d) <= 1_400, `a datagram of ${Buffer.byteLength(d)} bytes`);
        assert.ok(d.endsWith('\n'), 'whole lines only');
      }
    } finally {
      await sink.close();
      server.close();
    }
  });

  it('fails a send soon, with the code, when the datagram cannot leave (to a broadcast address)', async () => {
    const target = { protocol: 'udp', host: '255.255.255.255', port: 2003 } as const;
    const sink = createCarbonSink({ target, prefix: '', paths, clock: systemClock, logger: silentLogger });
    try {
      await assert.rejects(sink.send([{ path: 'a', value: 1, time: 1 }], signal), (err: unknown) => {
        assert.ok(err instanceof SinkSendError);
        assert.equal(err.pace, 'soon');
        assert.equal(err.code, 'EACCES');
        assert.match(err.message, /^sending to carbon at udp:\/\/255\.255\.255\.255:2003 failed: .*EACCES/);
        return true;
      });
    } finally {
      await sink.close();
    }
  });
});

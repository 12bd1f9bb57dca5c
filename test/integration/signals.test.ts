import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, describe, it } from 'node:test';
import { LISTENER_LIMITS } from '../../src/sinks/prometheus/exposition.js';
import { startBackstopReceiver, type BackstopReceiver } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { HOST_PATH } from '../helpers/host-path.js';
import { freePort } from '../helpers/services.js';
import { writeSelfSignedCert } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Signals and the listener of the built daemon (issue 26, items 7, 9, 10): SIGHUP reads
 * --backstop-file and the TLS pair again and goes on; a second SIGTERM writes the memory queue to the
 * spool before it exits; /healthz never repeats a receiver's answer; --listen caps its connections.
 * No container is needed: the daemon's own metrics go out every tick (--label matches nothing).
 */
const NOTHING = '--label=dstb.none=none';
const OLD_PASSWORD = 'old-Rotate-pw-1';
const NEW_PASSWORD = 'new-Rotate-pw-2';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('signals and the listener', () => {
  const daemons: DaemonProcess[] = [];
  const receivers: BackstopReceiver[] = [];
  const dirs: string[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const daemon = (args: string[]): DaemonProcess => {
    const d = new DaemonProcess(['--docker', 'unix:///var/run/docker.sock', NOTHING, ...args]);
    daemons.push(d);
    return d;
  };
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dstb-signals-'));
    dirs.push(dir);
    return dir;
  };
  const receiver = async (opts: Parameters<typeof startBackstopReceiver>[0] = {}): Promise<BackstopReceiver> => {
    const r = await startBackstopReceiver(opts);
    receivers.push(r);
    return r;
  };

  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(daemons.map((d) => d.kill()));
    await Promise.all(receivers.map((r) => r.close()));
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGHUP reads --backstop-file again: the new password from the next request, no password logged', async () => {
    const back = await receiver();
    const dir = tempDir();
    const file = join(dir, 'backstop_url');
    writeFileSync(file, `${back.url({ user: 'ops', password: OLD_PASSWORD })}\n`);
    const d = daemon(['--backstop-file', file, '--poll', '1s']);
    await back.waitFor(() => back.requests.some((r) => r.authorization === basic('ops', OLD_PASSWORD)), {
      what: 'a request with the old password',
    });

    writeFileSync(file, `${back.url({ user: 'ops', password: NEW_PASSWORD })}\n`);
    d.child.kill('SIGHUP');
    await d.waitForLog(/SIGHUP: read the Backstop URL again .*credentials=changed/, 'the reload logged');
    const firstNew = await back.waitFor(
      () => {
        const i = back.requests.findIndex((r) => r.authorization === basic('ops', NEW_PASSWORD));
        return i === -1 ? undefined : i;
      },
      { what: 'a request with the new password' },
    );
    await back.waitFor(() => back.requests.length > firstNew + 2, { what: 'more requests after the reload' });
    assert.deepEqual(
      back.requests.slice(firstNew).filter((r) => r.authorization !== basic('ops', NEW_PASSWORD)),
      [],
      'every request after the first new one carries the new password',
    );

    // A file that is now bad: the URL in use stays, with an error line that does not show the file.
    writeFileSync(file, `${NEW_PASSWORD}-but-no-url\n`);
    d.child.kill('SIGHUP');
    await d.waitForLog(
      /ERROR SIGHUP: kept the Backstop URL in use .*does not hold an http or https URL/,
      'the bad file refused',
    );
    const before = back.requests.length;
    await back.waitFor(() => back.requests.length > before + 1, { what: 'requests after the bad reload' });
    assert.ok(back.requests.slice(before).every((r) => r.authorization === basic('ops', NEW_PASSWORD)));

    assert.equal(d.child.exitCode, null, 'SIGHUP did not end the daemon');
    assert.equal((await d.stop()).code, 0, d.stderr);
    for (const secret of [
      OLD_PASSWORD,
      NEW_PASSWORD,
      basic('ops', OLD_PASSWORD).slice(6),
      basic('ops', NEW_PASSWORD).slice(6),
    ]) {
      assert.ok(!d.output.includes(secret), `${secret} logged:\n${d.stderr}`);
    }
  });

  it('SIGHUP with new credentials ends the slow wait after a 401: the next request carries them at once', async () => {
    const back = await receiver({ auth: [`ops:${NEW_PASSWORD}`] });
    const dir = tempDir();
    const file = join(dir, 'backstop_url');
    writeFileSync(file, `${back.url({ user: 'ops', password: OLD_PASSWORD })}\n`);
    const d = daemon(['--backstop-file', file, '--poll', '1s']);
    await d.waitForLog(
      /sink refuses the metrics: check its configuration.*retryInMs=(\d+)/,
      'a 401 and its slow retry',
    );
    const retryInMs = Number(/sink refuses the metrics.*retryInMs=(\d+)/.exec(d.stderr)![1]);
    assert.ok(retryInMs >= 15_000, `a slow retry after a 401 (retryInMs=${retryInMs})`);
    writeFileSync(file, `${back.url({ user: 'ops', password: NEW_PASSWORD })}\n`);
    const hupAt = Date.now();
    d.child.kill('SIGHUP');
    await back.waitFor(() => back.points.length > 0, { what: 'points with the new password' });
    // Without the retry it would have come only after the slow wait (at least 15 s after the 401).
    assert.ok(
      Date.now() - hupAt < retryInMs / 2,
      `delivered ${Date.now() - hupAt} ms after SIGHUP, the wait was ${retryInMs} ms`,
    );
    assert.equal((await d.stop()).code, 0, d.stderr);
  });

  it('SIGHUP reloads --tls-cert/--tls-key: new connections get the new pair; a bad pair keeps the old', async () => {
    const [a, b, live] = [tempDir(), tempDir(), tempDir()];
    await writeSelfSignedCert(a);
    await writeSelfSignedCert(b);
    const install = (from: string, which: 'cert' | 'key' | 'both' = 'both'): void => {
      if (which !== 'key') copyFileSync(join(from, 'cert.pem'), join(live, 'cert.pem'));
      if (which !== 'cert') copyFileSync(join(from, 'key.pem'), join(live, 'key.pem'));
    };
    const fingerprint = (dir: string): string =>
      new X509Certificate(readFileSync(join(dir, 'cert.pem'))).fingerprint256;
    install(a);
    const port = await freePort();
    const d = daemon([
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert',
      join(live, 'cert.pem'),
      '--tls-key',
      join(live, 'key.pem'),
      '--poll',
      '1s',
    ]);
    await d.waitForLog(/serving \/metrics and \/healthz/);
    assert.equal(await servedFingerprint(port), fingerprint(a));

    install(b);
    d.child.kill('SIGHUP');
    await d.waitForLog(/SIGHUP: serving the TLS certificate and key again/, 'the TLS reload logged');
    assert.equal(await servedFingerprint(port), fingerprint(b));

    install(a, 'cert'); // a's certificate with b's key: not a pair
    d.child.kill('SIGHUP');
    await d.waitForLog(/ERROR SIGHUP: kept the TLS certificate in use/, 'the mismatched pair refused');
    assert.equal(await servedFingerprint(port), fingerprint(b));
    assert.equal(d.child.exitCode, null, 'SIGHUP did not end the daemon');
    assert.equal((await d.stop()).code, 0, d.stderr);
  });

  it('a second SIGTERM exits at once, the memory queue spooled first and delivered after a restart', async () => {
    const hanging = await receiver();
    hanging.setDelay(600_000);
    const spool = tempDir();
    const args = ['--spool-dir', spool, '--poll', '1s', '--shutdown-timeout', '1h'];
    const d = daemon(['--backstop', hanging.url(), ...args]);
    // The first send hangs; the ticks after it wait in memory (nothing outside shows them: give them time).
    await d.waitForLog(/connected to Docker/);
    await new Promise((r) => setTimeout(r, 5_000));
    d.child.kill('SIGTERM');
    await d.waitForLog(/stopping/);
    assert.equal(d.child.exitCode, null, 'still flushing into the hanging receiver');
    d.child.kill('SIGTERM');
    const exit = await d.exited;
    // Ticks of the restarted daemon come after this second.
    const killedAt = Math.floor(Date.now() / 1000);
    assert.equal(exit.code, 1, d.stderr);
    assert.match(d.stderr, /second signal: exiting without waiting for the flush/);
    assert.ok(spooledBytes(spool) > 0, `nothing in the spool:\n${d.stderr}`);

    // The same publish URL finds its spool folder again.
    await hanging.close();
    const back = await receiver({ port: hanging.port });
    const again = daemon(['--backstop', back.url(), ...args]);
    const path = `${HOST_PATH}.docker_stats_to_backstop.samples`;
    await back.waitFor(
      () =>
        new Set(back.points.filter((p) => p.metric === path && p.measure_time <= killedAt).map((p) => p.measure_time))
          .size >= 3 || undefined,
      {
        what: 'the ticks queued before the second signal, from the spool',
        timeoutMs: 60_000,
      },
    );
    assert.equal((await again.stop()).code, 0, again.stderr);
  });

  it('a SIGTERM while the spool is sent at start ends the daemon cleanly, the backlog delivered first', async () => {
    // A backlog: ticks that a refusing receiver did not take, left in the spool at a graceful stop.
    const refusing = await receiver();
    refusing.forceStatus(503);
    const spool = tempDir();
    const path = `${HOST_PATH}.docker_stats_to_backstop.samples`;
    const first = daemon([
      '--backstop',
      refusing.url(),
      '--spool-dir',
      spool,
      '--poll',
      '1s',
      '--shutdown-timeout',
      '1s',
    ]);
    const refusedTimes = (): Set<number> => {
      const times = new Set<number>();
      for (const r of refusing.requests) {
        for (const item of JSON.parse(r.body) as { metric: string; measure_time: number }[])
          if (item.metric === path) times.add(item.measure_time);
      }
      return times;
    };
    await refusing.waitFor(() => refusedTimes().size >= 3, { what: 'three ticks refused' });
    await first.stop();
    assert.ok(spooledBytes(spool) > 0, `nothing in the spool:\n${first.stderr}`);
    const backlog = refusedTimes();

    // The restart sends the backlog as soon as its sink is built, before it follows Docker: the
    // signal comes while that first request is held, which is during the start on most runs.
    await refusing.close();
    const back = await receiver({ port: refusing.port });
    back.hang();
    const again = daemon(['--backstop', back.url(), '--spool-dir', spool, '--poll', '1s', '--shutdown-timeout', '30s']);
    await back.waitFor(() => back.held > 0, { what: "the backlog's first request" });
    again.child.kill('SIGTERM');
    await again.waitForLog(/stopping/);
    back.release();
    const exit = await again.exited;
    assert.equal(exit.code, 0, again.stderr);
    const delivered = new Set(back.points.filter((p) => p.metric === path).map((p) => p.measure_time));
    assert.deepEqual(
      [...backlog].filter((t) => !delivered.has(t)),
      [],
      `every spooled tick delivered before the exit:\n${again.stderr}`,
    );
  });

  it("/healthz says the status code and the daemon's words, never the receiver's answer", async () => {
    const secret = 'healthz-Secret-pw-3';
    const echo = createServer((req, res) => {
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`echo-marker you sent ${req.headers.authorization} (${secret})`);
    });
    servers.push(echo);
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as AddressInfo).port;
    const port = await freePort();
    const d = daemon([
      '--backstop',
      `http://ops:${secret}@127.0.0.1:${echoPort}/publish/docker`,
      '--listen',
      `127.0.0.1:${port}`,
      '--poll',
      '1s',
    ]);
    const body = await pollHealth(port, (h) => h.sinks.some((s) => s.lastError !== null));
    const backstop = body.sinks.find((s) => s.sink.startsWith('backstop'))!;
    assert.equal(
      backstop.lastError,
      `Backstop answered 500 to POST http://ops:***@127.0.0.1:${echoPort}/publish/docker`,
    );
    const text = JSON.stringify(body);
    for (const leak of ['echo-marker', secret, basic('ops', secret).slice(6)]) {
      assert.ok(!text.includes(leak), `/healthz repeats ${leak}: ${text}`);
      assert.ok(!d.output.includes(leak), `the log repeats ${leak}:\n${d.stderr}`);
    }
    assert.equal((await d.stop()).code, 0, d.stderr);
  });

  it('--listen serves at most its cap of connections, and cuts a request that never finishes its headers', async () => {
    const port = await freePort();
    const d = daemon(['--listen', `127.0.0.1:${port}`, '--poll', '1s']);
    await d.waitForLog(/serving \/metrics and \/healthz/);
    const held: Socket[] = [];
    for (let i = 0; i < LISTENER_LIMITS.maxConnections; i++) {
      const s = await open(port);
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // headers never finished
      held.push(s);
    }
    sockets.push(...held);
    const extra = await open(port);
    sockets.push(extra);
    await waitFor(() => extra.closed || extra.destroyed, 'the connection past the cap closed by the server', 10_000);
    assert.ok(
      held.every((s) => !s.closed && !s.destroyed),
      'closed for the cap, not for a timeout: the held ones are still open',
    );
    // The held ones are cut at the headers timeout; then the listener answers again.
    await waitFor(
      () => held.every((s) => s.closed || s.destroyed),
      'the unfinished requests cut',
      LISTENER_LIMITS.headersTimeoutMs + 20_000,
    );
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    await res.text();
    assert.ok(res.status === 200 || res.status === 503, String(res.status));
    assert.equal(d.child.exitCode, null);
    assert.equal((await d.stop()).code, 0, d.stderr);
  });
});

/** The SHA-256 fingerprint of the certificate a new TLS connection to 127.0.0.1:port is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
    s.on('error', () => {});
    s.resume(); // read, so that the server's end of the connection is seen
  });
}

interface Health {
  sinks: { sink: string; lastError: string | null }[];
}

async function pollHealth(port: number, done: (h: Health) => boolean): Promise<Health> {
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    const body = res ? ((await res.json()) as Health) : undefined;
    if (body && done(body)) return body;
    if (Date.now() > until) throw new Error(`timed out waiting for /healthz: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function spooledBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { FakeEngine, type FakeContainerSpec } from '../helpers/fake-engine.js';
import { waitFor } from '../helpers/wait.js';
import { HOST_PATH } from '../helpers/host-path.js';

/**
 * Faults on the Docker side, injected through a fake Engine of the tests' own
 * (test/helpers/fake-engine.ts): garbage lines, a never-ending line, a stalled stream, the Engine
 * going away and coming back. The daemon is the built binary, without --backstop, so it prints
 * carbon lines `path value time` on stdout (logs on stderr). Each case has its own fake and daemon.
 */

const host = HOST_PATH;
const self = (name: string): string => `${host}.docker_stats_to_backstop.${name}`;
const MB = 1024 * 1024;

interface CarbonLine {
  readonly path: string;
  readonly value: number;
  readonly time: number;
}

/** The carbon lines printed so far with this path. */
function carbon(d: DaemonProcess, path: string): CarbonLine[] {
  const out: CarbonLine[] = [];
  for (const line of d.stdout.split('\n')) {
    const [p, v, t] = line.split(' ');
    if (p === path && v !== undefined && t !== undefined) out.push({ path: p, value: Number(v), time: Number(t) });
  }
  return out;
}

/** The latest value printed for a path, if any. */
const latest = (d: DaemonProcess, path: string): number | undefined => carbon(d, path).at(-1)?.value;

/** Waits for a line of `path` stamped at or after `sinceSec` (whole Unix seconds). */
function waitLine(d: DaemonProcess, path: string, sinceSec = 0, timeoutMs = 30_000): Promise<CarbonLine> {
  return waitFor(
    () => carbon(d, path).find((l) => l.time >= sinceSec),
    () => `a line ${path} stamped >= ${sinceSec}; exit ${d.child.exitCode}; stderr:\n${d.stderr.slice(-3000)}`,
    timeoutMs,
  );
}

/** Waits for the self-metric `name` to satisfy `ok`; returns its value. */
function waitSelf(d: DaemonProcess, name: string, ok: (v: number) => boolean, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    () => {
      const v = latest(d, self(name));
      return v !== undefined && ok(v) ? { v } : undefined;
    },
    () =>
      `self-metric ${self(name)} (latest ${latest(d, self(name))}); ` +
      `exit ${d.child.exitCode}; stderr:\n${d.stderr.slice(-3000)}`,
    timeoutMs,
  ).then((r) => r.v);
}

const rssBytes = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

const streamsOf = (engine: FakeEngine, name: string) =>
  engine.streams.filter((s) => s.containerId === engine.container(name).id);

const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

/** SIGTERM, and its exit code; SIGKILL (and a failure) if it has not exited within `ms`. */
async function stopWithin(d: DaemonProcess, ms = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  const result = await Promise.race([d.stop(), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await d.kill();
    assert.fail(`the daemon did not stop within ${ms} ms of SIGTERM; stderr:\n${d.stderr.slice(-3000)}`);
  }
  return result.code;
}

describe('Docker-side faults, against a fake Engine', () => {
  const engines: FakeEngine[] = [];
  const allEngines: FakeEngine[] = [];
  const daemons: DaemonProcess[] = [];

  const fake = async (containers: FakeContainerSpec[], socketPath?: string): Promise<FakeEngine> => {
    const engine = await FakeEngine.start({ containers, ...(socketPath ? { socketPath } : {}) });
    engines.push(engine);
    allEngines.push(engine);
    return engine;
  };
  const daemon = (engine: FakeEngine, args: string[] = []): DaemonProcess => {
    const d = new DaemonProcess(['--docker', engine.url, '--poll', '1s', ...args]);
    daemons.push(d);
    return d;
  };
  /** Every request any fake of this file received that was not a GET of a known route. */
  const forbidden = (list: readonly FakeEngine[]): string[] =>
    list.flatMap((e) => [
      ...e.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`),
      ...e.unknown.map((r) => `${r.method} ${r.url} (no such route)`),
    ]);

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.kill()));
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await Promise.all(engines.map((e) => e.close()));
  });

  it('garbage lines: survives, keeps reporting, logs the bad line once, counts bad_samples', async () => {
    const engine = await fake([{ name: 'fault-garbage', behaviour: 'garbage' }, { name: 'fault-clean' }]);
    const d = daemon(engine);
    const first = await waitLine(d, 'fault-garbage.cpu.total');
    // Several more ticks: the container keeps reporting, and so does its clean neighbour.
    await waitLine(d, 'fault-garbage.cpu.total', first.time + 3);
    await waitLine(d, 'fault-clean.cpu.total', first.time + 3);
    assert.equal(d.child.exitCode, null, 'still running');
    assert.equal(engine.statsOpens('fault-garbage'), 1, 'bad lines alone do not make it reopen the stream');
    const sent = streamsOf(engine, 'fault-garbage')[0]!.lines;
    assert.ok(sent >= 100, `the fake sent plenty of lines, 7 in 8 bad (${sent} lines)`);
    assert.match(d.stderr, /skipped a stats line[^\n]*container=fault-garbage/);
    assert.doesNotMatch(d.stderr, /\bFATAL\b|uncaught|TypeError/i);
    // The counter grows with the bad lines.
    const bad1 = await waitSelf(d, 'bad_samples', (v) => v > 0);
    const bad2 = await waitSelf(d, 'bad_samples', (v) => v >= bad1 + 20);
    const logged = occurrences(d.stderr, 'skipped a stats line');
    assert.equal(logged, 1, `the bad line is logged once, not per line (${bad2} bad lines so far):\n${d.stderr}`);
    const cpuLines = carbon(d, 'fault-garbage.cpu.total').length;
    console.log(`# garbage: ${bad2} bad lines counted, logged ${logged} time(s), ${cpuLines} cpu.total lines`);
    assert.equal(await stopWithin(d), 0);
  });

  it('a never-ending line: the stream is closed past 1 MiB and reopened, memory stays bounded', async () => {
    // One container whose first stream is endless and whose reopened stream is normal, plus a flood
    // of containers whose streams stay endless, so that the fake sends well over 50 MB.
    const FLOOD = 50;
    const containers: FakeContainerSpec[] = [{ name: 'fault-endless', behaviour: 'endless' }];
    for (let i = 0; i < FLOOD; i++) containers.push({ name: `flood-${i}`, behaviour: 'endless' });
    const engine = await fake(containers);
    const d = daemon(engine);
    const pid = d.child.pid!;
    let maxRss = 0;
    const sampler = setInterval(() => {
      try {
        maxRss = Math.max(maxRss, rssBytes(pid));
      } catch {
        // exited: the assertions below say so
      }
    }, 50);
    try {
      await waitFor(() => engine.statsOpens('fault-endless') >= 1, 'the first stats open');
      engine.setBehaviour('fault-endless', 'normal');
      await waitFor(
        () => engine.statsOpens('fault-endless') >= 2,
        () => `a second stats open for fault-endless; exit ${d.child.exitCode}; stderr:\n${d.stderr.slice(-3000)}`,
        30_000,
      );
      const reopenedAt = streamsOf(engine, 'fault-endless')[1]!.openedAt;
      await waitLine(d, 'fault-endless.cpu.total', Math.floor(reopenedAt / 1000));
      await waitFor(
        () => engine.bytesSent() >= 50 * MB,
        () => `the fake to have sent 50 MB (sent ${(engine.bytesSent() / MB).toFixed(1)} MB)`,
        60_000,
      );
      // On a busy machine the fake writes faster than the daemon reads: the last streams to pass
      // 1 MiB are cut a little later.
      const cut = (): number =>
        engine.streams.filter((s) => s.behaviour === 'endless' && s.closedAt !== undefined).length;
      const what = (): string => `the endless streams to be closed by the daemon (${cut()})`;
      await waitFor(() => cut() >= FLOOD, what, 60_000).catch(() => undefined);
      maxRss = Math.max(maxRss, rssBytes(pid));
    } finally {
      clearInterval(sampler);
    }
    assert.equal(d.child.exitCode, null, 'still running');
    const endless = engine.streams.filter((s) => s.behaviour === 'endless' && s.closedAt !== undefined);
    const perStream = Math.max(...endless.map((s) => s.bytes));
    console.log(
      `# endless: fake sent ${(engine.bytesSent() / MB).toFixed(1)} MB on ${engine.streams.length} streams; ` +
        `largest closed endless stream ${(perStream / MB).toFixed(2)} MB; ` +
        `daemon peak RSS ${(maxRss / MB).toFixed(1)} MB`,
    );
    assert.ok(endless.length >= FLOOD, `the endless streams were closed by the daemon (${endless.length})`);
    assert.ok(perStream < 8 * MB, `each endless stream is cut soon after 1 MiB (largest: ${perStream} bytes)`);
    assert.ok(maxRss < 200 * MB, `peak RSS ${(maxRss / MB).toFixed(1)} MB stays under 200 MB`);
    assert.match(d.stderr, /stats line too long[^\n]*container=fault-endless/);
    assert.equal(await stopWithin(d), 0);
  });

  it('a stall: with --stall-timeout 2s the stream is closed and reopened, and metrics continue', async () => {
    const engine = await fake([{ name: 'fault-stall', behaviour: 'stall' }, { name: 'fault-steady' }]);
    const d = daemon(engine, ['--stall-timeout', '2s']);
    await waitFor(
      () => engine.statsOpens('fault-stall') >= 1,
      () => `the first stats open; exit ${d.child.exitCode}; stderr:\n${d.stderr.slice(-3000)}`,
    );
    engine.setBehaviour('fault-stall', 'normal');
    await waitFor(
      () => engine.statsOpens('fault-stall') >= 2,
      () =>
        `a second stats open for the stalled container; exit ${d.child.exitCode}; stderr:\n${d.stderr.slice(-3000)}`,
      30_000,
    );
    const stalled = streamsOf(engine, 'fault-stall');
    const silentMs = stalled[1]!.openedAt - stalled[0]!.openedAt;
    await waitLine(d, 'fault-stall.cpu.total', Math.ceil(stalled[1]!.openedAt / 1000));
    const restarts = await waitSelf(d, 'stream_restarts', (v) => v > 0);
    console.log(`# stall: reopened ${silentMs} ms after the first open (timeout 2 s); stream_restarts ${restarts}`);
    assert.equal(stalled[0]!.closedAt !== undefined, true, 'the stalled stream was closed');
    assert.equal(engine.statsOpens('fault-steady'), 1, 'a stream that delivers is left alone');
    assert.equal(await stopWithin(d), 0);
  });

  it('the Engine goes away and comes back: the daemon reconnects and the metrics continue', async () => {
    const specs: FakeContainerSpec[] = [
      { name: 'fault-phoenix-1' },
      { name: 'fault-phoenix-2' },
      { name: 'fault-phoenix-3' },
    ];
    const before = await fake(specs);
    const ids = specs.map((s) => before.container(s.name).id);
    const d = daemon(before);
    for (const s of specs) await waitLine(d, `${s.name}.cpu.total`);
    const logOffset = d.stderr.length;
    await before.close();
    await waitFor(
      () => /cannot reach Docker/.test(d.stderr.slice(logOffset)),
      () => `the daemon to notice the Engine is gone; stderr:\n${d.stderr.slice(logOffset)}`,
    );
    // Same socket path, same containers (same ids).
    const again = await fake(
      specs.map((s, i) => ({ ...s, id: ids[i]! })),
      before.socketPath,
    );
    const backAt = Date.now();
    await waitFor(
      () => specs.every((s) => again.statsOpens(s.name) >= 1),
      () => `every stream reopened at the new Engine; stderr:\n${d.stderr.slice(logOffset)}`,
      60_000,
    );
    const allBackMs = Math.max(...again.streams.map((s) => s.openedAt)) - backAt;
    for (const s of specs) await waitLine(d, `${s.name}.cpu.total`, Math.ceil(backAt / 1000) + 1);
    console.log(`# engine restart: all ${specs.length} streams back ${allBackMs} ms after the Engine answered again`);
    assert.equal(d.child.exitCode, null);
    assert.equal(await stopWithin(d), 0);
  });

  /**
   * A real Engine only sends a stats response's headers with the first sample, and one that is
   * stuck on a container never does: the stream collector must time such requests out (--stall-timeout),
   * retry them, and open streams outside its inspect concurrency limit.
   */
  it('stats requests the Engine never answers: retried, and other containers are still followed', async () => {
    // An Engine stuck on a container accepts `GET /containers/{id}/stats` and never sends the
    // headers. Eight such containers (as many as the daemon inspects at once), plus a normal one.
    const hung = Array.from(
      { length: 8 },
      (_, i): FakeContainerSpec => ({ name: `fault-hang-${i}`, behaviour: 'hang' }),
    );
    const engine = await fake([...hung, { name: 'fault-unhung' }]);
    const d = daemon(engine, ['--stall-timeout', '2s']);
    await waitFor(() => hung.every((h) => engine.statsOpens(h.name) >= 1), 'a stats request for every hung container');
    await waitFor(() => engine.eventSubscribers === 1, 'subscribed to events');
    const late = engine.startContainer({ name: 'fault-after-hang' });
    const within = (p: Promise<unknown>): Promise<boolean> =>
      p.then(
        () => true,
        () => false,
      );
    const [unhung, after, retried] = await Promise.all([
      within(waitLine(d, 'fault-unhung.cpu.total', 0, 12_000)),
      within(waitLine(d, 'fault-after-hang.cpu.total', 0, 12_000)),
      within(waitFor(() => hung.every((h) => engine.statsOpens(h.name) >= 2), 'retries', 12_000)),
    ]);
    const inspects = (id: string): number => engine.requests.filter((r) => r.path === `/containers/${id}/json`).length;
    console.log(
      `# hang: with 8 stats requests unanswered: listed container followed ${unhung} (inspected ` +
        `${inspects(engine.container('fault-unhung').id)}x), container started later followed ${after} (inspected ` +
        `${inspects(late.id)}x), hung requests retried ${retried} ` +
        `(opens ${hung.map((h) => engine.statsOpens(h.name)).join(',')})`,
    );
    assert.ok(unhung, 'a listed container is followed although 8 stats requests hang');
    assert.ok(after, 'a container started later is followed although 8 stats requests hang');
    assert.ok(retried, 'a stats request that never answers is given up and retried (like a stalled stream)');
    assert.equal(await stopWithin(d), 0);
  });

  it('stops on SIGTERM within --shutdown-timeout although a stats request is unanswered', async () => {
    const engine = await fake([{ name: 'fault-hang-stop', behaviour: 'hang' }, { name: 'fault-ok' }]);
    const d = daemon(engine, ['--shutdown-timeout', '3s']);
    await waitLine(d, 'fault-ok.cpu.total');
    await waitFor(() => engine.statsOpens('fault-hang-stop') >= 1, 'the unanswered stats request');
    const t0 = Date.now();
    const code = await stopWithin(d, 10_000);
    console.log(`# hang: SIGTERM with an unanswered stats request: exit ${code} after ${Date.now() - t0} ms`);
    assert.equal(code, 0);
  });

  it('a container whose inspect fails once (Engine under stress) is still followed', async () => {
    const engine = await fake([{ name: 'fault-inspect-flaky' }, { name: 'fault-inspect-ok' }]);
    engine.failInspect('fault-inspect-flaky', 1);
    const d = daemon(engine);
    await waitLine(d, 'fault-inspect-ok.cpu.total');
    const followed = await waitLine(d, 'fault-inspect-flaky.cpu.total', 0, 15_000).then(
      () => true,
      () => false,
    );
    const id = engine.container('fault-inspect-flaky').id;
    console.log(
      `# inspect failure: followed within 15 s ${followed}; inspects ` +
        `${engine.requests.filter((r) => r.path === `/containers/${id}/json`).length}, ` +
        `stats opens ${engine.statsOpens(id)}`,
    );
    assert.ok(followed, 'the daemon retries the inspect (or the whole reconcile) after a transient failure');
    assert.equal(await stopWithin(d), 0);
  });

  it('uses GET only: through container start, die and destroy', async () => {
    const engine = await fake([{ name: 'fault-get-1' }]);
    const d = daemon(engine);
    await waitLine(d, 'fault-get-1.cpu.total');
    await waitFor(() => engine.eventSubscribers === 1, 'subscribed to events');
    const late = engine.startContainer({ name: 'fault-get-2' });
    await waitLine(d, 'fault-get-2.cpu.total');
    engine.stopContainer(late.id);
    await waitFor(() => engine.openStreams(late.id) === 0, 'the stream of a dead container is closed');
    engine.removeContainer(late.id);
    const opens = engine.streams.length;
    await waitLine(d, 'fault-get-1.cpu.total', Math.ceil(Date.now() / 1000) + 1);
    assert.equal(engine.streams.length, opens, 'no stream for the removed container');
    assert.equal(await stopWithin(d), 0);
    const routes = [
      ...new Set(engine.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/, '{id}')}`)),
    ].sort();
    console.log(`# requests seen: ${routes.join(', ')}`);
    assert.deepEqual(forbidden([engine]), []);
    assert.deepEqual(forbidden(allEngines), [], 'no case of this file saw anything but GETs of known routes');
  });
});

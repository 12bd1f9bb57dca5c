import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BackstopReceiver, StoredPoint } from '../helpers/backstop-receiver.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { DeliveryRig, gaps, secondsOf } from '../helpers/delivery-rig.js';
import { freePort } from '../helpers/services.js';
import { accountTicks, ranges, referenceTick, selfCounter, selfPath, stopTotals } from '../helpers/tick-accounting.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The spool under faults, on the built daemon, the real Engine and a real receiver (issue 26): a
 * full disk, a file system turned read-only, a receiver that hangs then kill -9, a corrupt
 * acknowledgement file, the spool folder removed. Each run accounts for every tick second: it
 * arrived whole, or its items are counted in the daemon's `dropped`. Duplicates are allowed.
 * Cgroup mode reads every container at every tick, so every tick has the same paths whatever
 * pace the Engine's stats streams keep on a busy machine.
 */
const HOST = 'fault-host';
const DAEMON = ['--hostname', HOST, '--mode', 'cgroup'];
const MARKER = selfPath(HOST, 'samples');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('the spool under faults, on the real Engine', () => {
  const rig = new DeliveryRig();
  const names: string[] = [];

  before(async () => {
    names.push(rig.containers.name('a'), rig.containers.name('b'));
    await Promise.all(names.map((n) => rig.containers.start(n)));
  });

  after(() => rig.cleanup());

  const ticks = (...rs: BackstopReceiver[]): number[] => secondsOf(MARKER, ...rs);
  const points = (...rs: BackstopReceiver[]): StoredPoint[] => rs.flatMap((r) => r.points);
  const spoolFiles = (dir: string): { path: string; bytes: number }[] =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.log'))
      .map((f) => ({ path: join(dir, f), bytes: statSync(join(dir, f)).size }));

  /** A daemon delivering to a healthy receiver, until four ticks arrived: what a tick looks like. */
  async function healthyStart(args: readonly string[]) {
    const r = await rig.receiver();
    const d = rig.daemon([...DAEMON, '--backstop', r.url(), ...args]);
    await r.waitFor(() => ticks(r).length >= 4 || undefined, { what: 'four ticks delivered' });
    const { second, items, markers, containers } = referenceTick(r, HOST, names);
    return { r, d, port: r.port, url: r.url(), from: second, markers, tickItems: items, containers };
  }

  /**
   * Waits for a tick after `afterSecond` at which the daemon reported nothing spooled or buffered:
   * every tick before it was delivered or dropped. Without one in time, the last tick seen.
   */
  async function settle(rs: BackstopReceiver[], afterSecond: number): Promise<{ to: number; drained: boolean }> {
    const at = (name: string, t: number): number | undefined =>
      points(...rs).find((p) => p.metric === selfPath(HOST, name) && p.measure_time === t)?.value;
    const empty = (): number | undefined =>
      ticks(...rs).find((t) => t > afterSecond + 1 && at('spooled_bytes', t) === 0 && at('buffered', t) === 0);
    try {
      const t = await waitFor(empty, 'a tick reporting an empty spool and buffer', 40_000);
      return { to: t - 1, drained: true };
    } catch {
      return { to: ticks(...rs).at(-1)!, drained: false };
    }
  }

  /** Every tick from..to arrived whole or is counted in `dropped`; no container series has a hole. */
  function assertAccounted(
    what: string,
    rs: BackstopReceiver[],
    o: {
      from: number;
      to: number;
      markers: string[];
      tickItems: number;
      containers: Record<string, string[]>;
      d: DaemonProcess;
      loseNothing?: boolean;
    },
  ): void {
    const all = points(...rs);
    const totals = stopTotals(o.d.stderr);
    const dropped = Math.max(selfCounter(all, HOST, 'dropped') ?? 0, totals?.dropped ?? 0);
    const a = accountTicks(all, { hostPath: HOST, dropped, ...o });
    console.log(`# ${what}: ${a.text}`);
    if (o.loseNothing) assert.equal(ranges(a.lost), '', `${what}: no tick lost: ${a.text}`);
    assert.ok(a.lostItems <= dropped, `${what}: ticks lost and not counted in dropped: ${a.text}`);
    // A send in flight when its record is given up may be both delivered and counted: one tick at most.
    assert.ok(dropped <= a.lostItems + o.tickItems, `${what}: dropped counts more than was lost: ${a.text}`);
    for (const [c, holes] of Object.entries(a.containerHoles)) {
      assert.deepEqual(holes, [], `${what}: container ${c} has no metrics at whole ticks ${ranges(holes)}`);
    }
    assertTotals(what, rs, o.d, o.tickItems);
  }

  /**
   * When the daemon's `stopped` line has its totals: what `rs` (receivers of this daemon alone) got,
   * each point once, plus what it counted as dropped is what it produced (within one tick both ways).
   */
  function assertTotals(what: string, rs: BackstopReceiver[], d: DaemonProcess, tickItems: number): void {
    const totals = stopTotals(d.stderr);
    if (!totals) return;
    const distinct = new Set(points(...rs).map((p) => `${p.metric} ${p.measure_time}`)).size;
    const sums = `produced ${totals.produced}, delivered (distinct) ${distinct}, dropped ${totals.dropped}`;
    console.log(`# ${what}: ${sums}`);
    const accounted = distinct + totals.dropped;
    assert.ok(accounted >= totals.produced, `${what}: delivered + dropped < produced: ${sums}`);
    assert.ok(accounted <= totals.produced + tickItems, `${what}: delivered + dropped > produced: ${sums}`);
  }

  it('a spool on a tiny tmpfs through a long outage: no torn record, every lost tick counted', async () => {
    const { dir } = rig.tmpfs('64k');
    const h = await healthyStart(['--spool-dir', dir]);
    await h.r.close();
    const downAt = nowSeconds();
    await waitFor(() => nowSeconds() >= downAt + 35, '35 s of outage', 60_000);
    const back = await rig.receiver(h.port);
    const { to, drained } = await settle([h.r, back], nowSeconds());
    await h.d.stop();
    assertAccounted('full tmpfs', [h.r, back], { ...h, to });
    const torn = h.d.stderr.split('\n').filter((l) => /corrupt or torn/.test(l));
    assert.deepEqual(torn, [], 'no record read back torn or corrupt');
    assert.ok(drained, `the spool drained after the outage; the daemon said:\n${h.d.stderr.slice(-3000)}`);
    assert.ok((selfCounter(points(h.r, back), HOST, 'dropped') ?? 0) > 0, 'the disk filled up: something was dropped');
  });

  it('the spool turned read-only during an outage: the healthy receiver gets every fresh tick', async () => {
    const fs = rig.ext4(8);
    const h = await healthyStart(['--spool-dir', fs.dir]);
    await h.r.close();
    await h.d.waitForLog(/send failed/, 'the outage noticed');
    await sleep(2_000);
    assert.ok(
      spoolFiles(fs.dir).some((f) => f.bytes > 0),
      'the outage spooled',
    );
    fs.fail();
    await waitFor(() => DeliveryRig.readOnly(fs.dir), 'ext4 remounted read-only', 5_000);
    const roAt = nowSeconds();
    await sleep(5_000);
    const back = await rig.receiver(h.port);
    const backAt = nowSeconds();
    await back.waitFor(() => ticks(back).some((t) => t >= backAt + 10) || undefined, {
      what: `fresh ticks for 10 s after the receiver came back; the daemon said:\n${h.d.stderr.slice(-3000)}`,
    });
    // The tick of the second the receiver came back in was made before it listened.
    const fresh = Array.from({ length: 10 }, (_, i) => backAt + 1 + i);
    const missed = fresh.filter((t) => !ticks(back).includes(t));
    assert.equal(ranges(missed), '', `every fresh tick arrived; the daemon said:\n${h.d.stderr.slice(-4000)}`);
    const { to } = await settle([h.r, back], backAt + 10);
    await h.d.stop();
    console.log(`# read-only at ${roAt}, receiver back at ${backAt}`);
    // Written before the file system failed or kept in memory after: nothing is lost.
    assertAccounted('read-only spool', [h.r, back], { ...h, to, loseNothing: true });
    const spoolErrors = selfCounter(back.points, HOST, 'spool_errors');
    assert.ok((spoolErrors ?? 0) >= 1, `spool_errors counted (${spoolErrors})`);
    const errors = h.d.stderr.split('\n').filter((l) => / ERROR /.test(l) && /spool/i.test(l));
    assert.ok(errors.length <= 2, `the broken spool is said once, not per tick:\n${errors.slice(0, 5).join('\n')}`);
  });

  it('a hanging receiver, kill -9, a restart on the same spool: at most the last second is lost', async () => {
    const spoolDir = rig.tempDir();
    const args = ['--spool-dir', spoolDir];
    const h = await healthyStart(args);
    h.r.hang();
    const hangAt = Date.now();
    await h.r.waitFor(() => h.r.held > 0, { what: 'a send held by the hanging receiver' });
    await waitFor(() => Date.now() >= hangAt + 25_000, '25 s of a hanging receiver', 40_000);
    assert.ok(h.r.held > 0, 'a send still hangs when the daemon is killed');
    const killedAt = Date.now();
    await h.d.stop('SIGKILL');
    await h.r.close();
    const back = await rig.receiver(h.port);
    const d2 = rig.daemon([...DAEMON, '--backstop', h.url, ...args]);
    const restartAt = nowSeconds();
    const { to, drained } = await settle([h.r, back], restartAt);
    await d2.stop();
    assert.ok(drained, `the restarted daemon drained its spool; it said:\n${d2.stderr.slice(-3000)}`);
    const seen = ticks(h.r, back);
    const mustHave = Math.floor(killedAt / 1000) - 2;
    const before = Array.from({ length: mustHave - h.from + 1 }, (_, i) => h.from + i);
    const missing = before.filter((t) => !seen.includes(t));
    const lastSeconds = [mustHave + 1, mustHave + 2].filter((t) => !seen.includes(t));
    const hangSeconds = Math.round((killedAt - hangAt) / 1000);
    console.log(
      `# hang ${hangSeconds} s then kill -9: ${before.length} ticks before the kill, ` +
        `${missing.length} missing, ${lastSeconds.length} of the last 2 s missing`,
    );
    assert.deepEqual(ranges(missing), '', `ticks ${h.from}..${mustHave} (kill at ${killedAt / 1000}) arrived`);
    const afterRestart = seen.filter((t) => t > restartAt + 1 && t <= to);
    assert.deepEqual(gaps(afterRestart), [], `every tick after the restart arrived: ${ranges(afterRestart)}`);
    // The restarted daemon produced its spool's backlog and its own ticks; `back` heard only from it.
    assertTotals('restarted after kill -9', [back], d2, h.tickItems);
  });

  it('a corrupt acknowledgement file: the daemon answers /healthz, stays small, delivers the backlog', async () => {
    const gone = await rig.receiver();
    const { port, url } = { port: gone.port, url: gone.url() };
    await gone.close();
    const spoolDir = rig.tempDir();
    const args = [...DAEMON, '--backstop', url, '--spool-dir', spoolDir, '--shutdown-timeout', '1s'];
    const expected: number[] = [];
    for (let run = 0; run < 3; run++) {
      const startedAt = Date.now();
      const d = rig.daemon(args);
      await d.waitForLog(/send failed/, 'a failed send');
      await waitFor(() => Date.now() >= startedAt + 5_000, 'four ticks');
      const stoppedAt = Date.now();
      assert.equal((await d.stop()).code, 0);
      // The ticks surely made: a process needs a moment to start, and a tick to be made.
      for (let t = Math.ceil(startedAt / 1000) + 2; t < Math.floor(stoppedAt / 1000); t++) expected.push(t);
      // The stop's batch is stamped with the next tick due: the next run must not make that tick again.
      await sleep(1_000);
    }
    const segments = spoolFiles(spoolDir)
      .map((f) => f.path)
      .sort();
    assert.ok(segments.length >= 1, 'the runs left segments');
    const corrupt = ['-1', 'abc', '99999999999999999999'];
    for (const [i, s] of segments.entries()) writeFileSync(`${s}.ack`, corrupt[i % corrupt.length]!);
    const listen = await freePort();
    const r = await rig.receiver(port);
    const d = rig.daemon([...args, '--listen', `127.0.0.1:${listen}`]);
    const healthz = (): Promise<Response | Error> =>
      fetch(`http://127.0.0.1:${listen}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch((e: Error) => e);
    const startedAt = Date.now();
    while (Date.now() < startedAt + 10_000 && (await healthz()) instanceof Error) await sleep(200);
    const rss: number[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      const res = await healthz();
      assert.ok(!(res instanceof Error), `/healthz answered (${res instanceof Error ? res.message : res.status})`);
      await res.text();
      rss.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'))?.[1]) / 1024);
    }
    console.log(`# corrupt acks (${segments.length} segments): RSS ${rss.map((m) => m.toFixed(0)).join(' ')} MiB`);
    assert.ok(Math.max(...rss) < 250, `RSS bounded: ${rss.map((m) => m.toFixed(0)).join(' ')} MiB`);
    assert.ok(rss.at(-1)! - rss[0]! < 50, `RSS not growing: ${rss.map((m) => m.toFixed(0)).join(' ')} MiB`);
    await r.waitFor(() => expected.every((t) => ticks(r).includes(t)) || undefined, {
      what:
        `the backlog (ticks ${ranges(expected)}); ` +
        `missing ${ranges(expected.filter((t) => !ticks(r).includes(t)))}; the daemon said:\n${d.stderr.slice(-3000)}`,
    });
    await d.stop();
    const warned = d.stderr.split('\n').filter((l) => / WARN /.test(l) && /acknowledgement/.test(l));
    assert.equal(warned.length, segments.length, `each invalid acknowledgement said once:\n${d.stderr.slice(-3000)}`);
    assertTotals('corrupt acks', [r], d, referenceTick(r, HOST, names).items);
  });

  it('the spool folder removed during an outage: recreated, what it held counted as dropped', async () => {
    const spoolDir = rig.tempDir();
    const h = await healthyStart(['--spool-dir', spoolDir]);
    await h.r.close();
    await h.d.waitForLog(/send failed/, 'the outage noticed');
    await sleep(5_000);
    assert.ok(
      spoolFiles(spoolDir).some((f) => f.bytes > 0),
      'the outage spooled',
    );
    const [sinkDir] = readdirSync(spoolDir);
    const rmAt = nowSeconds();
    rmSync(spoolDir, { recursive: true, force: true });
    await sleep(6_000);
    const recreated = existsSync(join(spoolDir, sinkDir!));
    const back = await rig.receiver(h.port);
    const { to, drained } = await settle([h.r, back], nowSeconds());
    await h.d.stop();
    const afterRm = ticks(h.r, back).filter((t) => t >= rmAt + 2 && t <= to);
    const expected = Array.from({ length: to - rmAt - 1 }, (_, i) => rmAt + 2 + i);
    const missing = expected.filter((t) => !afterRm.includes(t));
    const said = h.d.stderr.slice(-3000);
    assert.equal(ranges(missing), '', `every tick after the removal arrived; the daemon said:\n${said}`);
    assertAccounted('spool folder removed', [h.r, back], { ...h, to });
    assert.ok(recreated, 'the spool folder was recreated during the outage');
    assert.ok(drained, `the spool drained; the daemon said:\n${h.d.stderr.slice(-3000)}`);
  });
});

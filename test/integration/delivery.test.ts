import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BackstopReceiver } from '../helpers/backstop-receiver.js';
import { DeliveryRig, gaps, secondsOf } from '../helpers/delivery-rig.js';
import { waitFor } from '../helpers/wait.js';
import { HOST_PATH } from '../helpers/host-path.js';

/**
 * No point lost when Backstop goes away: the receiver is really closed (connections refused) for
 * several intervals, the daemon killed with SIGKILL meanwhile, a spool segment's tail torn, a
 * spool on a tmpfs that fills up. Each tick's `docker_stats_to_backstop.samples` point has the
 * tick's own second as its timestamp, so "every tick arrived" is "no second missing".
 */
const hostPath = HOST_PATH;
const TICK_PATH = `${hostPath}.docker_stats_to_backstop.samples`;

describe('delivery through outages, on the real Engine', () => {
  const rig = new DeliveryRig();
  const { containers } = rig;
  let idle: string;

  const daemon = (args: string[]) => rig.daemon(args);
  const receiver = (port?: number) => rig.receiver(port);
  const tempDir = () => rig.tempDir();
  /** The tick seconds a set of receivers got, sorted, without duplicates. */
  const ticks = (...rs: BackstopReceiver[]): number[] => secondsOf(TICK_PATH, ...rs);

  before(async () => {
    idle = containers.name('idle');
    await containers.start(idle);
  });

  after(() => rig.cleanup());

  it('receiver down for several intervals, then back: every tick and sample arrives', async () => {
    const first = await receiver();
    const port = first.port;
    const d = daemon(['--backstop', first.url(), '--spool-dir', tempDir()]);
    await first.waitFor(() => ticks(first).length >= 2 || undefined, { what: 'two ticks delivered' });
    await first.close();
    const downAt = Math.floor(Date.now() / 1000);
    await d.waitForLog(/send failed, will retry.*attempt|send failed, will retry/, 'failures logged');
    await waitFor(() => Date.now() / 1000 > downAt + 6, 'six seconds of outage');
    const back = await receiver(port);
    const upAt = Math.floor(Date.now() / 1000);
    await back.waitFor(() => ticks(first, back).at(-1)! > upAt + 1 || undefined, { what: 'ticks after the outage' });
    const seen = ticks(first, back);
    assert.deepEqual(gaps(seen), [], `every second from ${seen[0]} to ${seen.at(-1)} arrived`);
    const during = back.points.filter(
      (p) => p.metric === `${idle}.memory.usage` && p.measure_time > downAt && p.measure_time < upAt,
    );
    assert.ok(during.length >= 4, `container points produced during the outage arrived (${during.length})`);
    console.log(`# outage of ${upAt - downAt} s at 1 s ticks: ${seen.length} ticks, no gap`);
  });

  it('receiver down 60 s at --poll 10s, then back: first POST within one interval, nothing lost', async () => {
    const pollMs = 10_000;
    const first = await receiver();
    const port = first.port;
    const d = daemon(['--backstop', first.url(), '--poll', '10s']);
    const ticks10 = (...rs: BackstopReceiver[]): number[] => ticks(...rs).filter((t) => t % 10 === 0);
    await first.waitFor(() => ticks10(first).length >= 1 || undefined, { what: 'a tick delivered', timeoutMs: 60_000 });
    await first.close();
    const downAt = Date.now();
    await d.waitForLog(/send failed, will retry/, 'failures logged', 60_000);
    await waitFor(() => Date.now() > downAt + 60_000, '60 s of outage', 90_000);
    const back = await receiver(port);
    const upAt = Date.now();
    const ok = await back.waitFor(() => back.requests.find((r) => r.status === 200), {
      what: 'a successful POST after the outage',
      timeoutMs: 60_000,
    });
    const latencyMs = ok.at - upAt;
    // Everything produced during the outage and the tick after it arrives, ten seconds apart.
    await back.waitFor(() => ticks10(back).some((t) => t * 1000 > upAt) || undefined, {
      what: 'a tick after the outage',
      timeoutMs: 60_000,
    });
    const seen = ticks10(first, back);
    const holes = seen.filter((t, i) => i > 0 && t - seen[i - 1]! !== 10);
    // Every wait between two attempts, as logged: none longer than the interval (the jitter included).
    const waits = [...d.stderr.matchAll(/sink send failed, will retry .*retryInMs=(\d+)/g)].map((m) => Number(m[1]));
    console.log(
      `# receiver down ${Math.round((upAt - downAt) / 1000)} s at --poll 10s: first successful POST ` +
        `${(latencyMs / 1000).toFixed(1)} s after it answered again; ${seen.length} ticks, holes: ${holes.length}; ` +
        `waits between attempts (ms): ${waits.join(' ')}`,
    );
    assert.deepEqual(holes, [], `every tick from ${seen[0]} to ${seen.at(-1)} arrived: ${seen.join(' ')}`);
    assert.ok(waits.length >= 6, `attempts during the outage: ${waits.length}`);
    assert.deepEqual(
      waits.filter((w) => w > pollMs),
      [],
      'no wait longer than the poll interval',
    );
    // The backoff is capped at the poll interval, jitter included ([50 %, 100 %] of the step).
    assert.ok(
      latencyMs <= pollMs + 1_500,
      `first successful POST ${latencyMs} ms after the receiver came back (poll ${pollMs} ms)`,
    );
  });

  it('receiver down, SIGKILL, spool tail torn, restart, receiver back: nothing before the kill missing', async () => {
    const spoolDir = tempDir();
    const gone = await receiver();
    const port = gone.port;
    const url = gone.url();
    await gone.close();
    const d1 = daemon(['--backstop', url, '--spool-dir', spoolDir]);
    await d1.waitForLog(/send failed/, 'failures');
    // The first tick's send has failed by now: the first tick the daemon made is at or before this second.
    const firstFailed = Math.floor(Date.now() / 1000);
    // Five ticks while down, counted in the spool (one record a tick): a daemon slow to start on a
    // busy machine has made fewer in the same time.
    const spooled = (): number =>
      readdirSync(spoolDir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.log'))
        .reduce((sum, f) => sum + statSync(join(spoolDir, f)).size, 0);
    const record = await waitFor(() => spooled(), 'a first tick in the spool');
    await waitFor(
      () => spooled() >= 5 * record,
      () => `five ticks in the spool (${spooled()} bytes, ${record} a tick)`,
    );
    const killedAt = Math.floor(Date.now() / 1000);
    await d1.stop('SIGKILL');
    // Tear the newest segment's tail, as a power loss mid-write would.
    const [sinkDir] = readdirSync(spoolDir);
    const segments = readdirSync(join(spoolDir, sinkDir!))
      .filter((f) => f.endsWith('.log'))
      .sort();
    const newest = join(spoolDir, sinkDir!, segments.at(-1)!);
    const tornBytes = 7;
    truncateSync(newest, readFileSync(newest).length - tornBytes);
    const d2 = daemon(['--backstop', url, '--spool-dir', spoolDir]);
    await d2.waitForLog(/spool holds undelivered metrics/, 'the spool found again');
    const back = await receiver(port);
    await back.waitFor(() => ticks(back).some((t) => t > killedAt + 2) || undefined, {
      what: 'ticks after the restart',
    });
    // Drained: the restarted daemon reports an empty spool.
    await back.waitFor(
      () =>
        back.points.some((p) => p.metric === `${hostPath}.docker_stats_to_backstop.spooled_bytes` && p.value === 0) ||
        undefined,
      { what: `an empty spool reported; d2 said:\n${d2.stderr}`, timeoutMs: 90_000 },
    );
    const before = ticks(back).filter((t) => t <= killedAt);
    // The torn record is the last one written before the kill: at most that tick may be lost.
    const expected = Array.from({ length: killedAt - before[0]! }, (_, i) => before[0]! + i);
    const missing = expected.filter((t) => !before.includes(t));
    assert.ok(missing.length <= 1, `missing ticks before the kill: ${missing.join(', ')} (got ${before.join(' ')})`);
    assert.ok(before[0]! <= firstFailed, `the first tick (${before[0]}, first failure by ${firstFailed}) is there`);
    assert.match(d2.stderr, /skipped corrupt or torn records/);
    console.log(
      `# SIGKILL during an outage: ${before.length} ticks before the kill delivered after the restart, ` +
        `torn record lost ${missing.length} tick`,
    );
  });

  it('a spool on a tiny tmpfs that fills up: the daemon keeps running, drops the oldest, says so', async () => {
    const { dir } = rig.tmpfs('96k');
    const gone = await receiver();
    const url = gone.url();
    await gone.close();
    const d = daemon(['--backstop', url, '--spool-dir', dir, '--buffer-max-items', '50']);
    await d.waitForLog(/spool full: dropped its oldest segment.*disk full/, 'the disk-full eviction', 90_000);
    await d.waitForLog(/buffer full: dropped the oldest metrics|spool full/, 'the drop reported');
    assert.equal(d.child.exitCode, null, 'still running');
    const { code } = await d.stop();
    assert.equal(code, 0);
  });

  it('a spool folder that cannot be written is a configuration error', async () => {
    const d = daemon(['--spool-dir', '/proc/version/spool']);
    const { code } = await d.exited;
    assert.equal(code, 2);
    assert.match(d.stderr, /--spool-dir: cannot write to "\/proc\/version\/spool"/);
  });
});

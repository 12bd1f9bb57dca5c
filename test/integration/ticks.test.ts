import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackstopReceiver, type BackstopReceiver } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Every tick sent once, its time later than the one before: the built daemon at `--poll 1s` for a
 * minute against the real receiver, on the real Engine. Each tick's
 * `docker_stats_to_backstop.samples` point has the tick's own second as its timestamp, so a tick
 * built twice shows as a second that arrives twice (Node's timers fire early against the wall
 * clock: issue 26).
 */
const SELF = '.docker_stats_to_backstop.';
const RUN_S = 60;

describe('ticks at --poll 1s, on the real Engine', () => {
  const containers = new TestContainers();
  let receiver: BackstopReceiver | undefined;
  let daemon: DaemonProcess | undefined;

  before(async () => {
    await containers.start(containers.name('idle'));
  });

  after(async () => {
    await daemon?.kill();
    await receiver?.close();
    await containers.cleanup();
  });

  it(`for ${RUN_S} s, each tick arrives once and tick times strictly increase`, async () => {
    receiver = await startBackstopReceiver();
    const r = receiver;
    const docker = ['--docker', 'unix:///var/run/docker.sock', '--label', containers.label];
    daemon = new DaemonProcess([...docker, '--poll', '1s', '--backstop', r.url()]);
    const self = (name: string): typeof r.points => r.points.filter((p) => p.metric.endsWith(`${SELF}${name}`));
    /** The tick seconds in arrival order: one `samples` point per tick. */
    const ticks = (): number[] => self('samples').map((p) => p.measure_time);
    await r.waitFor(() => ticks().length >= 1 || undefined, { what: 'a first tick' });
    const startedAt = Date.now();
    await waitFor(() => Date.now() - startedAt >= RUN_S * 1000, `${RUN_S} s of ticks`, (RUN_S + 10) * 1000);
    const { code } = await daemon.stop();
    assert.equal(code, 0, daemon.stderr);

    const seen = ticks();
    assert.ok(seen.length >= RUN_S, `about one tick a second (${seen.length})`);
    const twice = seen.filter((t, i) => seen.indexOf(t) !== i);
    assert.deepEqual(twice, [], 'no tick time arrives twice');
    const backwards = seen.filter((t, i) => i > 0 && t <= seen[i - 1]!);
    assert.deepEqual(backwards, [], 'each tick later than the one before');
    // A second without a tick is one the daemon skipped and counted (a collection that overran).
    const missing = seen.at(-1)! - seen[0]! + 1 - seen.length;
    const skipped = self('ticks_skipped').at(-1)?.value;
    assert.equal(missing, skipped, 'every second from the first tick to the last, or counted in ticks_skipped');
    assert.equal(self('ticks_skipped').length, seen.length, 'the self-metrics of each tick once');
    const stopped = /INFO\s+stopped ticks=(\d+) ticksSkipped=(\d+) .*delivered=(\d+) .*dropped=(\d+)/.exec(
      daemon.stderr,
    );
    assert.ok(stopped, daemon.stderr);
    const [built, skippedAtStop, delivered, dropped] = stopped.slice(1).map(Number);
    const said = [built, skippedAtStop, dropped];
    assert.deepEqual(said, [seen.length, skipped, 0], 'the stop line: ticks built, skipped, dropped');
    assert.equal(delivered, r.points.length + r.carbonDropped.length, 'the stop line: every metric the receiver took');
    const span = seen.at(-1)! - seen[0]! + 1;
    console.log(`# ${seen.length} ticks in ${span} s at --poll 1s, none twice, ${skipped} skipped`);
  });
});

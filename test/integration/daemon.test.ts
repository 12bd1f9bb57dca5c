import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackstopReceiver, type BackstopReceiver, type StoredPoint } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, TestContainers, watchStats } from '../helpers/docker.js';
import { HOST_PATH } from '../helpers/host-path.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The daemon as users run it (the built binary) against the real Engine and a Backstop receiver
 * that answers as docs/architecture.md §4 says. Every daemon here is scoped to this run's label.
 */
const PASSWORD = 'Sup3r-secret-Backstop-pw';
const RULE = '{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}';
const hostPath = HOST_PATH;

const ORIGINAL_18 = [
  'cpu.system',
  'cpu.total',
  'cpu.kernel',
  'cpu.user',
  'memory.usage',
  'memory.max_usage',
  'memory.limit',
  'memory.cache',
  'memory.active',
  'network.rx_bytes',
  'network.rx_packets',
  'network.rx_errors',
  'network.rx_dropped',
  'network.tx_bytes',
  'network.tx_packets',
  'network.tx_errors',
  'network.tx_dropped',
  'uptime',
];

describe('daemon against the real Docker Engine', () => {
  const containers = new TestContainers();
  const daemons: DaemonProcess[] = [];
  let receiver: BackstopReceiver;
  const prefixes = ['main', 'flush', 'wrongpw', 'unknown', 'flaky', 'bad'];

  const daemon = (args: string[], env: Record<string, string> = {}): DaemonProcess => {
    const d = new DaemonProcess(['--docker', 'unix:///var/run/docker.sock', '--label', containers.label, ...args], env);
    daemons.push(d);
    return d;
  };
  const url = (name: string, password = PASSWORD) => receiver.url({ name, user: 'ops', password });
  const pointsOf = (prefix: string, metric: string) =>
    receiver.points.filter((p) => p.prefix === prefix && p.metric === metric);
  const waitPoint = (prefix: string, metric: string, what = `${prefix}.${metric}`, after = 0) =>
    receiver.waitFor(() => pointsOf(prefix, metric).find((p) => p.measure_time >= after), { what, timeoutMs: 60_000 });

  const web = containers.name('web.api.blue.1');
  const idle = containers.name('idle');
  const webPath = `${containers.run}-web.blue`;

  before(async () => {
    receiver = await startBackstopReceiver({ prefixes, auth: [`ops:${PASSWORD}`] });
    // A busy loop held to part of a CPU: other test files run beside this one (docs/testing.md).
    await containers.start(web, {
      args: ['--memory', '64m', '--cpus', '0.25'],
      cmd: ['sh', '-c', 'while :; do :; done'],
    });
    await containers.start(idle);
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await containers.cleanup();
    await receiver.close();
  });

  describe('one daemon, followed through container life', () => {
    before(() => {
      daemon(['--backstop', url('main'), '--prefix', RULE, '--poll', '1s']);
    });

    it('delivers the original 18 metrics per container under the rewritten name, and containers.total', async () => {
      for (const name of ORIGINAL_18) await waitPoint('main', `${webPath}.${name}`);
      for (const name of ORIGINAL_18) await waitPoint('main', `${idle}.${name}`);
      const limit = pointsOf('main', `${webPath}.memory.limit`).at(-1)!;
      assert.equal(limit.value, 64 * 1024 * 1024, 'the --memory 64m limit');
      const busy = pointsOf('main', `${webPath}.cpu.total`);
      assert.ok(busy.at(-1)!.value > 0);
      const uptime = pointsOf('main', `${idle}.uptime`).at(-1)!;
      assert.ok(uptime.value >= 0 && uptime.value < 600, `uptime ${uptime.value}`);
      const now = Date.now() / 1000;
      assert.ok(Math.abs(limit.measure_time - now) < 60, 'stamped with the sample time');
      assert.ok(Number.isInteger(limit.measure_time));
      const total = await receiver.waitFor(
        () => pointsOf('main', `${hostPath}.containers.total`).find((p) => p.value === 2),
        { what: 'containers.total = 2' },
      );
      assert.equal(total.value, 2);
      assert.equal(receiver.carbonDropped.length, 0, 'every item was a valid carbon line');
    });

    it('picks up a container started later', async () => {
      const late = containers.name('late');
      await containers.start(late);
      await waitPoint('main', `${late}.memory.usage`);
    });

    it('follows a rename', async () => {
      const from = containers.name('before.x.rename.1');
      const to = containers.name('after');
      await containers.start(from);
      await waitPoint('main', `${containers.run}-before.rename.memory.usage`);
      const renamedAt = Math.floor(Date.now() / 1000);
      await docker('rename', from, to);
      await waitPoint('main', `${to}.memory.usage`, 'the new name', renamedAt);
    });

    it('sends no zeros, and nothing at all, for a stopped container', async () => {
      const doomed = containers.name('doomed');
      await containers.start(doomed);
      await waitPoint('main', `${doomed}.memory.usage`);
      await docker('stop', '-t', '0', doomed);
      const stoppedAt = Math.floor(Date.now() / 1000);
      // Let several ticks pass: the idle container keeps reporting meanwhile.
      await waitPoint('main', `${idle}.memory.usage`, 'ticks after the stop', stoppedAt + 3);
      const late = receiver.points.filter(
        (p: StoredPoint) => p.prefix === 'main' && p.metric.startsWith(`${doomed}.`) && p.measure_time > stoppedAt,
      );
      assert.deepEqual(late, [], 'no point stamped after the stop');
      const zeros = receiver.points.filter(
        (p) => p.prefix === 'main' && p.metric === `${doomed}.memory.usage` && p.value === 0,
      );
      assert.deepEqual(zeros, []);
    });

    it('posts each batch soon after its tick, aligned to whole seconds', () => {
      const posts = receiver.requests.filter((r) => r.path === '/publish/main' && r.status === 200);
      assert.ok(posts.length >= 5);
      const lateness = posts.map((r) => r.at % 1000);
      lateness.sort((a, b) => a - b);
      // Reported, not asserted as a bound: timing belongs in benchmarks.
      const median = lateness[lateness.length >> 1];
      console.log(`# tick → POST lateness (ms) over ${posts.length} posts: median ${median}, max ${lateness.at(-1)}`);
    });
  });

  it('SIGTERM sends what was collected, then exits 0', async () => {
    const c = containers.name('flushme');
    await containers.start(c);
    const watch = watchStats(c);
    try {
      const d = daemon(['--backstop', url('flush'), '--poll', '1h', '--include', c, '--verbose']);
      await d.waitForLog(new RegExp(`first stats sample container=${c}`), 'a first sample');
      // Two more samples on a stream of our own: at least one came after the daemon's first, so
      // the daemon holds a real sample (a CPU rate needs two) and has had a chance to send early.
      const seen = watch.samples;
      await waitFor(
        () => watch.samples >= seen + 2,
        () => `two more samples of ${c} (${watch.samples - seen} so far)`,
      );
      assert.equal(pointsOf('flush', `${c}.memory.usage`).length, 0, 'nothing sent before the hour tick');
      const { code } = await d.stop('SIGTERM');
      assert.equal(code, 0, d.stderr);
      assert.equal(pointsOf('flush', `${c}.memory.usage`).length, 1, 'the final flush delivered the sample');
      assert.equal(pointsOf('flush', `${c}.cpu.percent`).length, 1, 'from two samples: a CPU rate');
      assert.match(d.stderr, /stopping signal=SIGTERM/);
    } finally {
      watch.close();
    }
  });

  it('401: logs a configuration error naming the URL without its password, keeps running', async () => {
    const d = daemon(['--backstop', url('wrongpw', 'Wrong-Pw-987'), '--poll', '1s']);
    await d.waitForLog(/answered 401/, 'a 401 log line');
    assert.match(d.stderr, /ERROR.*check its configuration.*ops:\*\*\*@127\.0\.0\.1.*credentials/);
    assert.equal(d.child.exitCode, null, 'still running');
    await d.stop();
    assert.ok(!d.output.includes('Wrong-Pw-987'));
  });

  it('404: logs unknown prefix as a configuration error', async () => {
    const d = daemon(['--backstop', url('nosuchprefix'), '--poll', '1s']);
    await d.waitForLog(/Backstop answered 404 to POST .*PREFIXES/, 'a 404 log line');
    assert.doesNotMatch(d.stderr, /unknown prefix/, "the receiver's answer only in a debug line");
    await d.stop();
  });

  it('500: keeps the batch and delivers it once Backstop recovers', async () => {
    // A receiver of its own: the suite's main daemon posts to the shared one and would take the 500s.
    const flaky = await startBackstopReceiver();
    try {
      flaky.forceStatus(500, 3);
      const d = daemon(['--backstop', flaky.url(), '--poll', '1s', '--include', idle]);
      await d.waitForLog(/answered 500/, 'a 500 log line');
      await flaky.waitFor(() => flaky.points.find((p) => p.metric === `${idle}.memory.usage`), {
        what: 'the batch after the 500s',
      });
      await d.waitForLog(/sink delivers again/, 'recovery logged');
      await d.stop();
    } finally {
      await flaky.close();
    }
  });

  it('400: drops only the offending items and delivers the rest', async () => {
    const strict = await startBackstopReceiver({
      rejectItem: (item) => String(item['metric']).endsWith('.memory.limit'),
    });
    try {
      const d = daemon(['--backstop', strict.url(), '--poll', '1s', '--include', idle]);
      await strict.waitFor(() => strict.points.find((p) => p.metric === `${idle}.uptime`), {
        what: 'the rest of the batch',
      });
      await d.waitForLog(/rejected metrics as bad; dropped them.*metric=[^ ]*memory\.limit/, 'the dropped item logged');
      assert.equal(strict.points.filter((p) => p.metric.endsWith('.memory.limit')).length, 0);
      await d.stop();
    } finally {
      await strict.close();
    }
  });

  it('keeps trying when Docker cannot be reached, saying where it tried', async () => {
    const d = new DaemonProcess(['--docker', 'unix:///tmp/dstb-no-such-docker.sock', '--poll', '1s']);
    daemons.push(d);
    await d.waitForLog(/cannot reach Docker; retrying.*attempt=2/, 'a second attempt');
    assert.match(d.stderr, /unix:\/\/\/tmp\/dstb-no-such-docker\.sock/);
    assert.match(d.stderr, /ENOENT/);
    const { code } = await d.stop();
    assert.equal(code, 0);
  });

  it('--once with no Backstop prints carbon lines for the running containers and exits 0', async () => {
    const d = daemon(['--once', '--poll', '2s', '--prefix', RULE]);
    const { code } = await d.exited;
    assert.equal(code, 0, d.stderr);
    const lines = d.stdout.trim().split('\n');
    for (const line of lines) assert.match(line, /^[A-Za-z0-9_.-]+ -?[0-9.e+]+ \d{10}$/);
    assert.ok(lines.some((l) => l.startsWith(`${webPath}.cpu.total `)));
    assert.ok(lines.some((l) => l.startsWith(`${idle}.memory.usage `)));
    assert.ok(lines.some((l) => l.startsWith(`${hostPath}.containers.total `)));
  });

  it('never printed a password', () => {
    for (const d of daemons) {
      assert.ok(!d.output.includes(PASSWORD), 'password in output');
      assert.ok(!d.output.includes(encodeURIComponent(PASSWORD)));
    }
  });
});

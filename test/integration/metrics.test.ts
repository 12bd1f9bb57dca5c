import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The figures operators compare with `docker stats`, measured on the real Engine: CPU % of a
 * container limited to half a CPU, the working set of a container that fills a tmpfs, and health
 * from a healthcheck that flips. The daemon prints carbon lines (no Backstop) every 5 s.
 */

interface Line {
  path: string;
  value: number;
  time: number;
}
const lines = (d: DaemonProcess): Line[] =>
  d.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [path, value, time] = l.split(' ');
      return { path: path!, value: Number(value), time: Number(time) };
    });
const values = (d: DaemonProcess, path: string): number[] =>
  lines(d)
    .filter((l) => l.path === path)
    .map((l) => l.value);

/** `docker stats --no-stream` for one container: CPU % and MEM USAGE in bytes. */
async function dockerStats(name: string): Promise<{ cpu: number; mem: number }> {
  const out = await docker('stats', '--no-stream', '--format', '{{.CPUPerc}} {{.MemUsage}}', name);
  const m = /^([\d.]+)% ([\d.]+)([KMG]i)?B/.exec(out);
  assert.ok(m, `unexpected docker stats output: ${out}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[3] as 'Ki' | 'Mi' | 'Gi'] ?? 1;
  return { cpu: Number(m[1]), mem: Number(m[2]) * unit };
}

describe('metrics compared with docker stats, on the real Engine', () => {
  const containers = new TestContainers();
  let d: DaemonProcess;
  const half = containers.name('halfcpu');
  const tmpfs = containers.name('tmpfs');
  const health = containers.name('health');

  before(async () => {
    await containers.start(half, { args: ['--cpus', '0.5'], cmd: ['sh', '-c', 'while :; do :; done'] });
    await containers.start(tmpfs, {
      args: ['--tmpfs', '/data:size=128m'],
      cmd: ['sh', '-c', 'dd if=/dev/zero of=/data/fill bs=1M count=48 2>/dev/null; exec sleep 2147483647'],
    });
    await containers.start(health, {
      args: [
        '--health-cmd',
        'test -f /tmp/ok',
        '--health-interval',
        '1s',
        '--health-retries',
        '1',
        '--health-timeout',
        '2s',
      ],
      cmd: ['sh', '-c', 'touch /tmp/ok; sleep 8; rm /tmp/ok; exec sleep 2147483647'],
    });
    d = new DaemonProcess(['--docker', 'unix:///var/run/docker.sock', '--label', containers.label, '--poll', '5s']);
  });

  after(async () => {
    await d.kill();
    await containers.cleanup();
  });

  it('cpu.percent of a busy container limited with --cpus 0.5 is close to 50 and to docker stats', async () => {
    // Two full intervals, so that the figure spans a whole one.
    const ours = await waitFor(
      () => values(d, `${half}.cpu.percent`).slice(1).at(-1),
      'two cpu.percent values',
      60_000,
    );
    const theirs = await dockerStats(half);
    console.log(
      `# cpu.percent (--cpus 0.5, busy loop): ours ${ours.toFixed(1)} %, docker stats ${theirs.cpu.toFixed(1)} %`,
    );
    assert.ok(ours > 35 && ours < 65, `cpu.percent ${ours}`);
    assert.ok(Math.abs(ours - theirs.cpu) < 15, `ours ${ours} vs docker stats ${theirs.cpu}`);
    const throttled = values(d, `${half}.cpu.throttled_periods`).at(-1)!;
    assert.ok(throttled > 0, 'a CPU-limited busy container gets throttled');
  });

  it("memory.working_set of a container that filled a tmpfs is close to docker stats' MEM USAGE", async () => {
    const ours = await waitFor(
      () => values(d, `${tmpfs}.memory.working_set`).find((v) => v > 48e6),
      'a working set above 48 MB',
      60_000,
    );
    const theirs = await dockerStats(tmpfs);
    const latest = values(d, `${tmpfs}.memory.working_set`).at(-1)!;
    console.log(
      `# memory.working_set (48 MiB in tmpfs): ours ${(latest / 2 ** 20).toFixed(1)} MiB, ` +
        `docker stats ${(theirs.mem / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.ok(ours >= 48 * 2 ** 20);
    assert.ok(
      Math.abs(latest - theirs.mem) < Math.max(0.05 * theirs.mem, 2 * 2 ** 20),
      `ours ${latest} vs ${theirs.mem}`,
    );
    const percent = values(d, `${tmpfs}.memory.percent`).at(-1)!;
    const limit = values(d, `${tmpfs}.memory.limit`).at(-1)!;
    assert.ok(Math.abs(percent - (latest / limit) * 100) < 1e-6);
  });

  it('health.healthy follows a healthcheck from healthy to unhealthy', async () => {
    await waitFor(() => values(d, `${health}.health.healthy`).includes(1), 'healthy reported', 60_000);
    await waitFor(() => values(d, `${health}.health.healthy`).at(-1) === 0, 'unhealthy reported', 60_000);
    const streak = values(d, `${health}.health.failing_streak`).at(-1)!;
    assert.ok(streak >= 1, `failing streak ${streak}`);
  });

  it('reports per-interface counters, pids and the rates, never a negative one', async () => {
    await waitFor(() => values(d, `${half}.network.eth0.rx_bytes`).length > 0, 'per-interface counters');
    assert.ok(values(d, `${half}.pids.current`).at(-1)! >= 1);
    const rates = lines(d).filter((l) => l.path.endsWith('_per_second') || l.path.endsWith('.cpu.percent'));
    assert.ok(rates.length > 0);
    for (const r of rates) assert.ok(r.value >= 0, `${r.path} = ${r.value}`);
  });
});

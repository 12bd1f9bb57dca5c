import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseCount, parseOomControl } from '../../src/cgroup/kernel-files.js';
import { startBackstopReceiver, type BackstopReceiver, type StoredPoint } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

const exec = promisify(execFile);

/**
 * The kernel's own counters on the real Engine (cgroup v1, cgroupfs driver here), in every mode
 * (stream, one-shot, cgroup): a container under `--memory 32m` whose child allocates without bound and is
 * OOM-killed every couple of seconds while its shell lives on. The daemons' `oom_kills` must be the
 * kernel's count, read from the same file around the moment of the daemon's own read.
 */

/** The child gives itself to the OOM killer first (`oom_score_adj` 1000), so the shell survives. */
const OOM_LOOP = 'while true; do sh -c "echo 1000 > /proc/self/oom_score_adj; exec tail /dev/zero"; sleep 1; done';
const MODES = ['stream', 'oneshot', 'cgroup'] as const;

describe("kernel counters on the real Engine: oom_kills is the kernel's count, in every mode", () => {
  const containers = new TestContainers();
  const oom = containers.name('oom');
  const daemons: DaemonProcess[] = [];
  const sockets = new Set<Socket>();
  let receiver: BackstopReceiver;
  let forwarder: Server | undefined;
  let memoryDir = '';
  /** The kernel's count, read every 50 ms from before the daemons start: [epoch ms, oom_kill]. */
  const history: [number, number][] = [];
  let sampler: NodeJS.Timeout | undefined;

  const kernelCount = (): number => {
    const count = parseOomControl(readFileSync(`${memoryDir}/memory.oom_control`, 'latin1'));
    assert.ok(count !== undefined, 'this kernel has oom_kill in memory.oom_control');
    return count;
  };
  const daemon = (prefix: string, args: string[]): DaemonProcess => {
    const d = new DaemonProcess([
      '--label',
      containers.label,
      '--poll',
      '2s',
      '--backstop',
      receiver.url({ name: prefix }),
      ...args,
    ]);
    daemons.push(d);
    return d;
  };
  const pointsOf = (prefix: string, name: string): StoredPoint[] =>
    receiver.points.filter((p) => p.prefix === prefix && p.metric === `${oom}.${name}`);

  before(async () => {
    await exec('bash', [new URL('../../scripts/ensure-docker.sh', import.meta.url).pathname]);
    receiver = await startBackstopReceiver({ prefixes: [...MODES, 'remote'] });
    const id = await containers.start(oom, { args: ['--memory', '32m'], cmd: ['sh', '-c', OOM_LOOP] });
    memoryDir = `/sys/fs/cgroup/memory/docker/${id}`;
    history.push([Date.now(), kernelCount()]);
    sampler = setInterval(() => history.push([Date.now(), kernelCount()]), 50);
    for (const mode of MODES) daemon(mode, ['--docker', 'unix:///var/run/docker.sock', '--mode', mode]);
  });

  after(async () => {
    clearInterval(sampler);
    await Promise.all(daemons.map((d) => d.kill()));
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (forwarder ? forwarder.close(() => resolve()) : resolve()));
    await containers.cleanup();
    await receiver.close();
  });

  for (const mode of MODES) {
    it(`${mode} mode: oom_kills equals the kernel's count read around the daemon's read, at every tick`, async () => {
      // The kernel's count before the metric's time (the container's sample, which the tick and so
      // the daemon's read come after) and just after the point arrived bound what the daemon read.
      const checked: string[] = [];
      let seen = 0;
      while (checked.length < 3) {
        const point = await waitFor(
          () => pointsOf(mode, 'oom_kills')[seen],
          `oom_kills point ${seen + 1} (${mode})`,
          60_000,
        );
        const high = kernelCount();
        seen += 1;
        const low = history.filter(([at]) => at <= point.measure_time * 1000).at(-1)?.[1];
        assert.ok(low !== undefined, "the kernel was read before the point's time");
        assert.ok(
          point.value >= low && point.value <= high,
          `${mode}: oom_kills ${point.value}, kernel ${low} before and ${high} after`,
        );
        // A point from before the first kill would prove nothing about the count.
        if (point.value > 0) checked.push(`${point.value} in [${low}, ${high}]`);
      }
      console.log(`# ${mode} mode oom_kills vs the kernel's count: ${checked.join(', ')}`);
      const values = pointsOf(mode, 'oom_kills').map((p) => p.value);
      assert.ok(values.at(-1)! > values[0]!, `the count grows as the child is killed again: ${values.join(', ')}`);

      const failcnt = pointsOf(mode, 'memory.failcnt').at(-1);
      assert.ok(failcnt && failcnt.value > 0, `memory.failcnt of a container at its limit: ${failcnt?.value}`);
      assert.ok(failcnt.value <= parseCount(readFileSync(`${memoryDir}/memory.failcnt`, 'latin1'))!);
      const v2Only = receiver.points.filter(
        (p) => p.prefix === mode && /\.(pressure\.|memory\.events\.)/.test(p.metric),
      );
      assert.deepEqual(v2Only, [], 'cgroup v1 has no pressure files nor memory.events: absent, never 0');
    });
  }

  it("an Engine reached over TCP is another host's: its PIDs are not looked up here, said once", async () => {
    forwarder = createServer((client) => {
      const engine = createConnection('/var/run/docker.sock');
      for (const s of [client, engine]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(engine).pipe(client);
    });
    await new Promise<void>((resolve) => forwarder!.listen(0, '127.0.0.1', resolve));
    const { port } = forwarder.address() as { port: number };
    const remote = daemon('remote', ['--docker', `tcp://127.0.0.1:${port}`]);
    await waitFor(
      () => pointsOf('remote', 'memory.usage').length >= 2,
      'two ticks of the container from the TCP Engine',
      60_000,
    );
    assert.deepEqual(pointsOf('remote', 'memory.failcnt'), [], 'no kernel counter');
    const said = remote.stderr.split('\n').filter((l) => l.includes("the kernel's counters"));
    assert.equal(said.length, 1, remote.stderr);
    assert.match(said[0]!, /INFO .*are not read: the Engine is on another host/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Exits, CPU limits, and the host's container states and health, on the real Engine, in stream and
 * cgroup mode. Each mode has a label of its own, and its daemon is scoped to that label, so the
 * host counts cover exactly the containers made here. The daemon prints carbon lines every 2 s.
 */

interface Line {
  path: string;
  value: number;
  time: number;
}
/** The whole lines printed so far (a tick being written may end in a partial one). */
const lines = (d: DaemonProcess): Line[] =>
  d.stdout
    .slice(0, d.stdout.lastIndexOf('\n') + 1)
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
/** Lines printed at tick times (the host metrics): how many ticks the daemon has printed. */
const ticks = (d: DaemonProcess): number => values(d, 'lchost.containers.total').length;

for (const mode of ['stream', 'cgroup'] as const) {
  describe(`lifecycle metrics on the real Engine, --mode ${mode}`, () => {
    const containers = new TestContainers();
    const exit3 = containers.name('exit3');
    const cpus = containers.name('cpus');
    const paused = containers.name('paused');
    const health = containers.name('health');
    let d: DaemonProcess;
    let ready: Promise<true>;

    before(() => {
      d = new DaemonProcess([
        '--docker',
        'unix:///var/run/docker.sock',
        '--label',
        containers.label,
        '--poll',
        '2s',
        '--mode',
        mode,
        '--hostname',
        'lchost',
      ]);
      ready = d.waitForLog(/connected to Docker/, 'the daemon connected');
    });

    after(async () => {
      await d?.kill();
      await containers.cleanup();
    });

    it('`sleep 3; exit 3` reports exit_code 3 and oom_killed 0 exactly once, stamped with its end', async () => {
      await ready;
      await containers.start(exit3, { cmd: ['sh', '-c', 'sleep 3; exit 3'] });
      await waitFor(() => values(d, `${exit3}.cpu.total`).length > 0, 'metrics of the container while it runs', 30_000);
      await waitFor(() => values(d, `${exit3}.exit_code`).length > 0, 'exit_code', 60_000);
      // Three more ticks: a second exit_code would be there by then.
      const seen = ticks(d);
      await waitFor(() => ticks(d) >= seen + 3, 'three more ticks', 30_000);
      const exits = lines(d).filter((l) => l.path === `${exit3}.exit_code` || l.path === `${exit3}.oom_killed`);
      assert.deepEqual(
        exits.map((l) => `${l.path.slice(exit3.length + 1)}=${l.value}`),
        ['exit_code=3', 'oom_killed=0'],
      );
      const finished = Date.parse(await docker('inspect', '-f', '{{.State.FinishedAt}}', exit3)) / 1000;
      for (const l of exits) assert.ok(Math.abs(l.time - finished) <= 1, `stamped ${l.time}, finished at ${finished}`);
    });

    it('exit 137 is oom_killed 1 only for an OOM kill: docker kill gives 0', async () => {
      await ready;
      const killed = containers.name('killed');
      const oomed = containers.name('oomed');
      await containers.start(killed);
      // Its main process allocates past the limit (no swap to spill into) and is OOM-killed.
      await containers.start(oomed, {
        args: ['--memory', '32m', '--memory-swap', '32m'],
        cmd: ['sh', '-c', 'sleep 3; tail /dev/zero'],
      });
      await waitFor(() => values(d, `${killed}.cpu.total`).length > 0, 'metrics of the container to kill', 30_000);
      await docker('kill', killed);
      const outcome = (name: string): string | false => {
        const code = values(d, `${name}.exit_code`);
        const oom = values(d, `${name}.oom_killed`);
        return code.length > 0 && oom.length > 0 && `exit_code ${code.join(',')} oom_killed ${oom.join(',')}`;
      };
      assert.equal(
        await waitFor(() => outcome(killed), "the killed container's exit", 60_000),
        'exit_code 137 oom_killed 0',
      );
      assert.equal(
        await waitFor(() => outcome(oomed), "the OOM-killed container's exit", 60_000),
        'exit_code 137 oom_killed 1',
      );
    });

    it('--cpus 1.5 reports cpu.limit 1.5, and follows docker update; an unlimited container none', async () => {
      await ready;
      await containers.start(cpus, { args: ['--cpus', '1.5'] });
      await waitFor(() => values(d, `${cpus}.cpu.limit`).length > 0, 'cpu.limit', 30_000);
      assert.deepEqual([...new Set(values(d, `${cpus}.cpu.limit`))], [1.5]);
      const ofLimit = await waitFor(
        () =>
          lines(d)
            .filter((l) => l.path === `${cpus}.cpu.percent_of_limit`)
            .at(-1),
        'cpu.percent_of_limit',
        30_000,
      );
      const percent = lines(d).find((l) => l.path === `${cpus}.cpu.percent` && l.time === ofLimit.time);
      assert.ok(percent, 'cpu.percent at the same time');
      assert.ok(
        Math.abs(ofLimit.value - Math.min(100, percent.value / 1.5)) < 1e-9,
        `${ofLimit.value} vs ${percent.value} / 1.5`,
      );
      assert.deepEqual(values(d, `${exit3}.cpu.limit`), []);
      await docker('update', '--cpus', '0.5', cpus);
      await waitFor(() => values(d, `${cpus}.cpu.limit`).at(-1) === 0.5, 'cpu.limit 0.5 after docker update', 30_000);
    });

    it('a paused and an exited container show in containers_state, a healthcheck in containers_health', async () => {
      await ready;
      await containers.start(paused);
      await containers.start(health, {
        args: ['--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '1'],
      });
      await docker('pause', paused);
      await waitFor(() => values(d, `${exit3}.exit_code`).length > 0, 'the exited container', 60_000);
      const state = (s: string): number | undefined => values(d, `lchost.containers_state.${s}`).at(-1);
      await waitFor(
        () => state('paused') === 1 && state('running') === 2,
        'paused 1 and running 2 (cpus, health)',
        30_000,
      );
      assert.ok(state('exited')! >= 1, `exited ${state('exited')}`);
      for (const s of ['restarting', 'created', 'dead']) assert.equal(state(s), 0, s);
      await waitFor(
        () => values(d, 'lchost.containers_health.healthy').at(-1) === 1,
        'the healthcheck healthy',
        30_000,
      );
      assert.equal(values(d, 'lchost.containers_health.unhealthy').at(-1), 0);
      // Every tick carries all nine: counted from the same ticks as containers.total.
      const printed = lines(d);
      const count = (path: string): number => printed.filter((l) => l.path === path).length;
      const n = count('lchost.containers.total');
      assert.equal(count('lchost.containers_state.dead'), n);
      assert.equal(count('lchost.containers_health.starting'), n);
      await docker('unpause', paused);
    });
  });
}

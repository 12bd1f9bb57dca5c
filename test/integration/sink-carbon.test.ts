import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackstopReceiver } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { pollUntil } from '../helpers/poll.js';
import { Carbon, ensure, freePort } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { HOST_PATH } from '../helpers/host-path.js';

/**
 * `--carbon` against Debian's real carbon-cache (its own config, ports and whisper folder in a temp
 * dir, 1-second points), read back from the .wsp files with python3-whisper.
 */
const hostPath = HOST_PATH;

describe('carbon sink against the real carbon-cache', () => {
  const containers = new TestContainers();
  const carbon = new Carbon();
  const daemons: DaemonProcess[] = [];
  let spoolDir = '';
  const web = containers.name('web');

  const daemon = (args: string[]): DaemonProcess => {
    const d = new DaemonProcess([
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      containers.label,
      '--poll',
      '1s',
      ...args,
    ]);
    daemons.push(d);
    return d;
  };

  /** Polls the whisper file until `pick` finds something in its points. */
  const waitWhisper = async <T>(
    path: string,
    pick: (points: Map<number, number>) => T | undefined,
    what: string,
  ): Promise<T> => {
    const until = Date.now() + 90_000;
    for (;;) {
      if (existsSync(carbon.file(path))) {
        const got = pick(await carbon.fetch(path));
        if (got !== undefined) return got;
      }
      if (Date.now() > until) throw new Error(`timed out waiting for ${what} in ${carbon.file(path)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  before(async () => {
    await ensure('ensure-docker.sh');
    await ensure('ensure-carbon.sh');
    await carbon.setUp();
    await carbon.start();
    spoolDir = await mkdtemp(join(tmpdir(), 'dstb-carbon-spool-'));
    await containers.start(web, { args: ['--memory', '64m'] });
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await containers.cleanup();
    await carbon.cleanUp();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  });

  it('TCP: the whisper files appear under --carbon-prefix with the right values', async () => {
    const d = daemon(['--carbon', `tcp://127.0.0.1:${carbon.port}`, '--carbon-prefix', 'tcp.{host}']);
    const limit = await waitWhisper(
      `tcp.${hostPath}.${web}.memory.limit`,
      (p) => [...p.values()].at(-1),
      'memory.limit',
    );
    assert.equal(limit, 64 * 1024 * 1024, 'the --memory 64m limit');
    const total = await waitWhisper(
      `tcp.${hostPath}.${hostPath}.containers.total`,
      (p) => [...p.values()].at(-1),
      'containers.total',
    );
    assert.equal(total, 1);
    const uptime = await waitWhisper(`tcp.${hostPath}.${web}.uptime`, (p) => [...p.values()].at(-1), 'uptime');
    assert.ok(uptime >= 0 && uptime < 600, `uptime ${uptime}`);
    const stopped = await d.stop();
    assert.equal(stopped.code, 0, d.stderr);
  });

  it('UDP: the whisper files appear too', async () => {
    const d = daemon(['--carbon', `udp://127.0.0.1:${carbon.udpPort}`, '--carbon-prefix', 'udp']);
    const limit = await waitWhisper(`udp.${web}.memory.limit`, (p) => [...p.values()].at(-1), 'memory.limit over UDP');
    assert.equal(limit, 64 * 1024 * 1024);
    assert.equal((await d.stop()).code, 0, d.stderr);
  });

  it('Backstop, carbon and /metrics at once get the same collection; a dead sink delays none', async () => {
    const receiver = await startBackstopReceiver({ prefixes: ['combo'] });
    try {
      const port = await freePort();
      const deadCarbon = await freePort();
      const d = daemon([
        '--backstop',
        receiver.url({ name: 'combo' }),
        '--carbon',
        `tcp://127.0.0.1:${carbon.port}`,
        '--carbon-prefix',
        'combo',
        '--listen',
        `127.0.0.1:${port}`,
      ]);
      const limit = `${web}.memory.limit`;
      await receiver.waitFor(() => receiver.points.find((p) => p.prefix === 'combo' && p.metric === limit), {
        what: `combo.${limit} at Backstop`,
      });
      assert.equal(
        await waitWhisper(`combo.${limit}`, (p) => [...p.values()].at(-1), 'memory.limit in whisper'),
        64 * 1024 * 1024,
      );
      await pollUntil(
        async () =>
          (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes(
            `docker_container_memory_limit{name="${web}"`,
          ),
        'the series in /metrics',
      );
      assert.equal(d.stdout, '', 'no stdout when a sink is given');
      assert.equal((await d.stop()).code, 0, d.stderr);

      // Carbon unreachable: Backstop still gets every tick.
      const d2 = daemon(['--backstop', receiver.url({ name: 'combo' }), '--carbon', `tcp://127.0.0.1:${deadCarbon}`]);
      await d2.waitForLog(/sink send failed, will retry.*carbon/, 'carbon failing');
      const after = Math.floor(Date.now() / 1000);
      await receiver.waitFor(
        () =>
          receiver.points.filter((p) => p.prefix === 'combo' && p.metric === limit && p.measure_time > after).length >=
          3,
        {
          what: 'three more ticks at Backstop while carbon is down',
        },
      );
      await d2.kill();
    } finally {
      await receiver.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`carbon stopped with ${signal} and started again mid-run: the per-second series has no hole`, async () => {
      const prefix = `restart_${signal}`;
      const path = `${prefix}.${hostPath}.containers.total`;
      const d = daemon([
        '--carbon',
        `tcp://127.0.0.1:${carbon.port}`,
        '--carbon-prefix',
        prefix,
        '--spool-dir',
        spoolDir,
      ]);
      await waitWhisper(path, (p) => (p.size >= 3 ? true : undefined), 'three points before the restart');

      const stoppedAt = Date.now();
      await carbon.stop(signal);
      await d.waitForLog(/carbon connection closed/, 'the daemon notices the closed connection');
      const failuresBefore = (d.stderr.match(/sink send failed/g) ?? []).length;
      await waitFor(
        () => (d.stderr.match(/sink send failed/g) ?? []).length >= failuresBefore + 2,
        'two failed sends while carbon is down',
        60_000,
      );
      const downUntil = Math.floor(Date.now() / 1000);
      assert.ok(
        (await readdir(spoolDir)).some((f) => f.startsWith('carbon-')),
        'the carbon sink has its spool folder',
      );
      await carbon.start();
      const downSeconds = ((Date.now() - stoppedAt) / 1000).toFixed(1);
      await d.waitForLog(/sink delivers again/, 'the daemon reconnects');
      const lastTick = await waitWhisper(
        path,
        (p) => ([...p.keys()].some((t) => t >= downUntil + 3) ? Math.max(...p.keys()) : undefined),
        'points after the restart',
      );
      assert.equal((await d.stop()).code, 0, d.stderr);

      const points = await carbon.fetch(path);
      const times = [...points.keys()].sort((a, b) => a - b);
      const holes: number[] = [];
      for (let t = times[0]!; t <= lastTick; t += 1) if (!points.has(t)) holes.push(t);
      const resent = /wrote again what may have been lost with the connection.*items=(\d+)/.exec(d.stderr)?.[1] ?? '0';
      console.log(
        `carbon ${signal} restart: ${times.length} per-second points from ${times[0]} to ${lastTick}, ` +
          `carbon down for ${downSeconds} s; holes: ${holes.length} ${JSON.stringify(holes)}; ` +
          `items written again after the reconnect: ${resent}`,
      );
      assert.deepEqual(holes, [], 'every tick of the run is in the whisper file');
    });
  }
});

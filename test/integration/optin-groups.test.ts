import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackstopReceiver, type BackstopReceiver } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, IMAGE, TestContainers } from '../helpers/docker.js';
import { runScript } from '../helpers/image.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/services.js';
import { allowed, startSocketProxy, SWARM_ENDPOINTS } from '../helpers/socket-proxy.js';
import { enterSwarm, type SwarmLease } from '../helpers/swarm.js';

/**
 * The opt-in groups (issue 27) on the real Engine, each daemon under a --path-prefix of its own so
 * that one receiver tells them apart: `disk` measures a container that wrote a file of known size;
 * `swarm`, on a single-node swarm the test makes (and leaves) or finds, counts a service's tasks,
 * and a daemon without `+swarm` sends nothing of it.
 */
describe('opt-in groups on the real Engine', () => {
  const containers = new TestContainers();
  const daemons: DaemonProcess[] = [];
  let receiver: BackstopReceiver;
  /** Every daemon's host path is `h`, under the prefix its test gives it. */
  const start = (prefix: string, args: string[]): DaemonProcess => {
    const d = new DaemonProcess([
      '--backstop',
      receiver.url(),
      '--path-prefix',
      prefix,
      '--hostname',
      'h',
      '--label',
      containers.label,
      '--poll',
      '1s',
      ...args,
    ]);
    daemons.push(d);
    return d;
  };
  const points = (metric: string) => receiver.points.filter((p) => p.metric === metric);

  before(async () => {
    await runScript('ensure-docker.sh');
    receiver = await startBackstopReceiver();
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await containers.cleanup();
    await receiver?.close();
  });

  describe('disk', () => {
    const FILE_BYTES = 3 * 1024 * 1024;
    const writer = containers.name('writer');

    it('a file a container wrote: disk.rw_bytes at least its size, read at most every --disk-interval', async () => {
      await containers.start(writer, {
        cmd: [
          'sh',
          '-c',
          `dd if=/dev/zero of=/blob bs=1024 count=${FILE_BYTES / 1024} 2>/dev/null; exec sleep 2147483647`,
        ],
      });
      const d = start('disk', ['--metrics', '+disk', '--disk-interval', '3s']);
      start('nodisk', []);
      const total = 'disk.h.containers.total';
      const rw = await receiver.waitFor(
        () => points(`disk.${writer}.disk.rw_bytes`).find((p) => p.value >= FILE_BYTES),
        {
          timeoutMs: 90_000,
          what: `disk.${writer}.disk.rw_bytes >= ${FILE_BYTES}`,
        },
      );
      const root = points(`disk.${writer}.disk.root_bytes`).find((p) => p.measure_time === rw.measure_time);
      assert.ok(root && root.value >= rw.value, `disk.root_bytes ${root?.value} holds the writable layer ${rw.value}`);
      const size = await docker('ps', '--size', '--filter', `name=^${writer}$`, '--format', '{{.Size}}');
      console.log(
        `# disk.rw_bytes ${rw.value}, disk.root_bytes ${root.value} (file ${FILE_BYTES}; docker ps --size: ${size})`,
      );

      // Ten ticks later: about one measurement per three ticks, each sent once.
      const ticksBefore = points(total).length;
      await receiver.waitFor(() => points(total).length >= ticksBefore + 10, {
        timeoutMs: 60_000,
        what: 'ten more ticks',
      });
      const times = points(`disk.${writer}.disk.rw_bytes`).map((p) => p.measure_time);
      assert.equal(new Set(times).size, times.length, `each measurement sent once: ${times.join(', ')}`);
      assert.ok(
        times.length < points(total).length / 2,
        `${times.length} measurements in ${points(total).length} ticks`,
      );
      for (let i = 1; i < times.length; i++)
        assert.ok(times[i]! - times[i - 1]! >= 2, `measured ${times[i]! - times[i - 1]!} s apart`);
      assert.doesNotMatch(d.stderr, /cannot measure/);
    });

    it('--once waits for the measurement and sends it in its one batch', async () => {
      const once = new DaemonProcess(['--once', '--poll', '2s', '--label', containers.label, '--metrics', '+disk']);
      daemons.push(once);
      const { code } = await once.exited;
      assert.equal(code, 0, once.stderr);
      const line = once.stdout.split('\n').find((l) => l.startsWith(`${writer}.disk.rw_bytes `));
      assert.ok(
        line && Number(line.split(' ')[1]) >= FILE_BYTES,
        `a disk.rw_bytes line of at least ${FILE_BYTES} in:\n${once.stdout}`,
      );
    });

    it('is off by default', async () => {
      const total = 'nodisk.h.containers.total';
      await receiver.waitFor(() => points(total).filter((p) => p.value >= 1).length >= 5, {
        timeoutMs: 60_000,
        what: `five ticks of ${total} with the writer`,
      });
      assert.ok(points(`nodisk.${writer}.memory.usage`).length > 0, 'the writer is followed');
      assert.deepEqual(
        receiver.points
          .filter((p) => p.metric.startsWith('nodisk.') && p.metric.includes('.disk.'))
          .map((p) => p.metric),
        [],
      );
    });
  });

  describe('swarm', () => {
    let swarm: SwarmLease | undefined;
    let skip: string | undefined;
    let serviceMade = false;
    const service = containers.name('svc');

    before(async () => {
      const entered = await enterSwarm();
      if ('skip' in entered) {
        skip = entered.skip;
        return;
      }
      swarm = entered;
      serviceMade = true;
      await docker(
        'service',
        'create',
        '--detach',
        '--no-resolve-image',
        '--name',
        service,
        '--replicas',
        '2',
        '--label',
        containers.label,
        '--container-label',
        containers.label,
        '--restart-condition',
        'none',
        IMAGE,
        'sleep',
        '2147483647',
      );
    });

    after(async () => {
      const failures: unknown[] = [];
      const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
        try {
          await pollUntil(() => action().then(() => true), what, 60_000);
        } catch (err) {
          failures.push(err);
        }
      };
      if (serviceMade) {
        await step(`docker service rm ${service}`, () =>
          docker('service', 'rm', service).catch((err: Error) => {
            if (!/not found/i.test(err.message)) throw err;
          }),
        );
        await step("the service's containers gone", () =>
          pollUntil(
            async () =>
              (await docker('ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${service}`)) === '',
            "the service's containers gone",
            120_000,
          ),
        );
      }
      if (swarm) await step('the swarm left as it was found', () => swarm!.release());
      if (failures.length > 0) throw failures[0];
    });

    it('--metrics +swarm on a manager: 2 replicas running of 2 desired, in carbon and Prometheus', async (t) => {
      if (skip) return t.skip(skip);
      const port = await freePort();
      const d = start('swarm', ['--metrics', '+swarm', '--listen', `127.0.0.1:${port}`]);
      const path = `swarm.h.swarm.services.${service}`;
      await receiver.waitFor(
        () =>
          points(`${path}.running`).some((p) => p.value === 2) && points(`${path}.desired`).some((p) => p.value === 2),
        {
          timeoutMs: 180_000,
          what: `${path}.running and .desired 2`,
        },
      );
      const text = await pollUntil(async () => {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return body.includes(`docker_swarm_service_tasks_running{service="${service}"} 2`) ? body : undefined;
      }, 'the Prometheus series');
      assert.match(text, new RegExp(`^docker_swarm_service_tasks_desired\\{service="${service}"\\} 2$`, 'm'));
      assert.match(d.stderr, /this node is a swarm manager/);
      assert.doesNotMatch(d.stderr, /cannot list the swarm services/);
    });

    it('works through a read-only socket proxy that allows /info and /services besides, nothing refused', async (t) => {
      if (skip) return t.skip(skip);
      const dir = mkdtempSync(join(tmpdir(), 'dstb-optin-proxy-'));
      const proxy = await startSocketProxy(join(dir, 'docker.sock'), '/var/run/docker.sock', SWARM_ENDPOINTS);
      try {
        const d = start('proxied', ['--docker', `unix://${proxy.socketPath}`, '--metrics', '+swarm,+disk']);
        const path = `proxied.h.swarm.services.${service}.running`;
        await receiver.waitFor(() => points(path).some((p) => p.value === 2), {
          timeoutMs: 120_000,
          what: `${path} 2`,
        });
        await receiver.waitFor(() => receiver.points.some((p) => /^proxied\..*\.disk\.rw_bytes$/.test(p.metric)), {
          timeoutMs: 60_000,
          what: "a task container's disk.rw_bytes",
        });
        await d.stop();
        assert.deepEqual(proxy.forbidden(), [], 'nothing answered 403');
        assert.deepEqual(
          proxy.requests.filter((r) => !allowed(r.method, r.path, SWARM_ENDPOINTS)),
          [],
        );
        const bare = new Set(proxy.requests.map((r) => r.path.replace(/^\/v[\d.]+/, '')));
        for (const endpoint of ['/info', '/services', '/containers/json']) assert.ok(bare.has(endpoint), endpoint);
      } finally {
        await proxy.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('sends nothing of swarm without +swarm', async (t) => {
      if (skip) return t.skip(skip);
      start('noswarm', []);
      const total = 'noswarm.h.containers.total';
      // Ten ticks while the service runs (the +swarm daemon above saw it).
      await receiver.waitFor(() => points(total).length >= 10, { timeoutMs: 60_000, what: `ten ticks of ${total}` });
      assert.deepEqual(
        receiver.points
          .filter((p) => p.metric.startsWith('noswarm.') && p.metric.includes('.swarm.'))
          .map((p) => p.metric),
        [],
      );
      assert.ok(points(`swarm.h.swarm.services.${service}.running`).length > 0, 'the other daemon did send it');
    });
  });
});

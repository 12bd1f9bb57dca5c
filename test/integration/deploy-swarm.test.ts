import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startBackstopReceiver, type BackstopReceiver } from '../helpers/backstop-receiver.js';
import { docker, TestContainers } from '../helpers/docker.js';
import { buildImage, runScript } from '../helpers/image.js';
import { pollUntil } from '../helpers/poll.js';
import { enterSwarm, type SwarmLease } from '../helpers/swarm.js';

/**
 * deploy/swarm/docker-stack.yml deployed with `docker stack deploy` on the local Engine in swarm
 * mode (a single-node swarm the test makes and leaves, or the Engine's own swarm, used and left as
 * it was), from the image the Dockerfile builds, the Backstop URL in a Docker secret pointing at the
 * tests' Backstop receiver.
 *
 * The one change to the stack (an override file, `-c` twice, as users override it too): the task
 * runs on the host's network, so that it reaches the receiver on 127.0.0.1, which is all this
 * machine lets tests talk to; it is scoped to this run's containers, ticks every second, runs on
 * this node only, and its own host name is made different from the node's, so that the host path
 * can only have come from the stack's SRV_HOSTNAME template.
 */
const exec = promisify(execFile);
const STACK_FILE = fileURLToPath(new URL('../../deploy/swarm/docker-stack.yml', import.meta.url));
const SOCKET = '/var/run/docker.sock';
/** Obviously fake credentials, which the receiver demands: they can only have come from the secret. */
const USER = 'dstb';
const PASSWORD = 'fake-swarm-secret';

describe('Docker Swarm: deploy/swarm/docker-stack.yml', () => {
  const containers = new TestContainers();
  const stack = containers.run;
  const service = `${stack}_daemon`;
  const secret = `${stack}-backstop-url`;
  const image = `dstb-swarm-test:${containers.run}`;
  const taskHostname = `${containers.run}-task`;
  const web = containers.name('web');
  const socketGroup = String(statSync(SOCKET).gid);
  const dir = mkdtempSync(join(tmpdir(), 'dstb-swarm-'));
  let swarm: SwarmLease | undefined;
  let skip: string | undefined;
  let receiver: BackstopReceiver | undefined;
  let deployed = false;
  let secretMade = false;
  let imageBuilt = false;

  before(async () => {
    await runScript('ensure-docker.sh');
    const entered = await enterSwarm();
    if ('skip' in entered) {
      skip = entered.skip;
      return;
    }
    swarm = entered;
    await buildImage(image);
    imageBuilt = true;
    receiver = await startBackstopReceiver({ auth: [`${USER}:${PASSWORD}`] });
    await containers.start(web, { args: ['--memory', '64m'] });

    const secretFile = join(dir, 'backstop_url');
    writeFileSync(secretFile, receiver.url({ user: USER, password: PASSWORD }), { mode: 0o600 });
    await docker('secret', 'create', '--label', containers.label, secret, secretFile);
    secretMade = true;
    const override = join(dir, 'override.yml');
    // JSON is YAML.
    writeFileSync(
      override,
      JSON.stringify({
        version: '3.8',
        services: {
          daemon: {
            hostname: taskHostname,
            environment: { SRV_POLL: '1s', SRV_LABEL: containers.label },
            networks: ['hostnet'],
            deploy: { placement: { constraints: [`node.id == ${swarm.nodeId}`] } },
          },
        },
        networks: { hostnet: { external: true, name: 'host' } },
        secrets: { backstop_url: { external: true, name: secret } },
      }),
    );
    deployed = true;
    await exec('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', STACK_FILE, '-c', override, stack], {
      env: { ...process.env, DSTB_IMAGE: image, DOCKER_GID: socketGroup },
    });
  });

  after(async () => {
    // Every step runs whatever failed before it, and is retried for a minute (the shared Engine
    // may be restarting); the first failure is reported at the end.
    const failures: unknown[] = [];
    const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
      try {
        await pollUntil(() => action().then(() => true), what, 60_000);
      } catch (err) {
        failures.push(err);
      }
    };
    if (deployed) {
      await step(`docker stack rm ${stack}`, () => docker('stack', 'rm', stack));
      // `stack rm` returns at once; the task stops (final flush) and its container goes later.
      await step("the stack's containers gone", () =>
        pollUntil(
          async () => (await docker('ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack}`)) === '',
          "the stack's containers gone",
          120_000,
        ),
      );
    }
    // The secret can go once no service uses it any more.
    if (secretMade) await step(`docker secret rm ${secret}`, () => docker('secret', 'rm', secret));
    await step('the test containers removed', () => containers.cleanup());
    if (swarm) await step('the swarm left as it was found', () => swarm!.release());
    if (imageBuilt) await step(`docker image rm ${image}`, () => docker('image', 'rm', image));
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  });

  it("runs one task on the node, reporting under the node's host name with the URL from the secret", async (t) => {
    if (skip) return t.skip(skip);
    const nodePath = swarm!.nodeHostname.replace(/[^A-Za-z0-9_-]/g, '_');
    const tasks = await pollUntil(
      async () => {
        const rows = (
          await docker(
            'service',
            'ps',
            service,
            '--filter',
            'desired-state=running',
            '--format',
            '{{.Node}} {{.CurrentState}}',
          )
        ).split('\n');
        return rows.length === 1 && rows[0]!.startsWith(`${swarm!.nodeHostname} Running`) ? rows : undefined;
      },
      'one running task',
      180_000,
    );
    assert.equal(tasks.length, 1);
    assert.equal(await docker('service', 'ls', '--filter', `name=${service}`, '--format', '{{.Mode}}'), 'global');

    // Three ticks of this node's batches, with the test container in them.
    const total = `${nodePath}.containers.total`;
    await receiver!.waitFor(
      () => new Set(receiver!.points.filter((p) => p.metric === total).map((p) => p.measure_time)).size >= 3,
      {
        timeoutMs: 180_000,
        what: `three ticks of ${total}`,
      },
    );
    // The first tick may come before the first sample (0); never more than the run's one container.
    const counts = receiver!.points.filter((p) => p.metric === total).map((p) => p.value);
    assert.ok(counts.includes(1) && counts.every((n) => n <= 1), `containers.total: ${counts.join(', ')}`);
    assert.equal(receiver!.points.findLast((p) => p.metric === `${web}.memory.limit`)?.value, 64 * 1024 * 1024);
    assert.ok(
      !receiver!.points.some((p) => p.metric.startsWith(`${taskHostname}.`)),
      "nothing under the task container's own host name",
    );
    assert.ok(
      receiver!.requests.length > 0 && receiver!.requests.every((r) => r.status === 200),
      "every request authorised by the secret's credentials",
    );
  });

  it("runs the task as uid 1000 in the socket's group, socket and root fs read-only, limits set", async (t) => {
    if (skip) return t.skip(skip);
    const id = await pollUntil(
      async () => docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`),
      "the task's container",
    );
    const seen = JSON.parse(await docker('inspect', id, '--format', '{{json .}}')) as {
      Config: { User: string; Env: string[] };
      HostConfig: { ReadonlyRootfs: boolean; Memory: number; NanoCpus: number; CapDrop: string[] | null };
      Mounts: { Destination: string; RW: boolean }[];
    };
    assert.equal(seen.Config.User, `1000:${socketGroup}`);
    assert.ok(
      seen.Config.Env.includes(`SRV_HOSTNAME=${swarm!.nodeHostname}`),
      `the template filled in: ${seen.Config.Env.join(' ')}`,
    );
    assert.deepEqual(
      seen.Mounts.filter((m) => m.Destination === SOCKET).map((m) => m.RW),
      [false],
    );
    assert.equal(seen.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(seen.HostConfig.CapDrop, ['ALL']);
    assert.ok(seen.HostConfig.Memory > 0 && seen.HostConfig.NanoCpus > 0, 'resource limits');
    // The password is in the secret only: not in the service, not in the container's settings.
    assert.ok(!(await docker('service', 'inspect', service)).includes(PASSWORD));
    assert.ok(!(await docker('inspect', id)).includes(PASSWORD));
  });
});

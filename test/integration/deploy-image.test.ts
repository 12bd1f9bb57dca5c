import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { docker, TestContainers } from '../helpers/docker.js';
import { buildImage, runScript } from '../helpers/image.js';
import { pollUntil } from '../helpers/poll.js';

/**
 * The container image as users run it: the repository's Dockerfile, built here against a local
 * Node base image (nothing can be pulled), run with the Docker socket mounted read-only and the
 * socket's group added, never as root.
 */
const IMAGE = 'dstb-deploy-test:latest';
const RULE = '{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}';
const SOCKET = '/var/run/docker.sock';
/** A carbon plaintext line: `path value unixtime`. */
const CARBON_LINE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)* -?\d+(\.\d+)?(e[+-]?\d+)? \d{10}$/;

describe('container image (Dockerfile)', () => {
  const containers = new TestContainers();
  /** The daemon's own containers carry another label, so the daemons under test never see them. */
  const daemons = new TestContainers();
  const web = containers.name('web.api.blue.1');
  const idle = containers.name('idle');
  const webPath = `${containers.run}-web.blue`;
  const socketGroup = String(statSync(SOCKET).gid);
  const runArgs = (...extra: string[]): string[] => [
    '--label',
    daemons.label,
    '-v',
    `${SOCKET}:${SOCKET}:ro`,
    '--group-add',
    socketGroup,
    ...extra,
  ];

  before(async () => {
    await runScript('ensure-docker.sh');
    await buildImage(IMAGE);
    // A busy loop held to part of a CPU: other test files run beside this one (docs/testing.md).
    await containers.start(web, {
      args: ['--memory', '64m', '--cpus', '0.5'],
      cmd: ['sh', '-c', 'while :; do :; done'],
    });
    await containers.start(idle);
  });

  after(async () => {
    await daemons.cleanup();
    await containers.cleanup();
    // The image under test goes too; the Node base image and the build cache stay for the next run.
    await docker('image', 'rm', '-f', IMAGE).catch(() => '');
  });

  it('ships the compiled code and production dependencies only, and runs as a non-root user', async () => {
    assert.equal(await docker('image', 'inspect', '-f', '{{.Config.User}}', IMAGE), '1000:1000');
    const check = `
      const fs = require('node:fs');
      const has = (p) => fs.existsSync(p);
      console.log(JSON.stringify({
        main: has('/app/dist/main.js'), src: has('/app/src'),
        readme: has('/app/README.md'), license: has('/app/LICENSE'),
        got: has('/app/node_modules/got'), typescript: has('/app/node_modules/typescript'),
        tsx: has('/app/node_modules/tsx'),
        uid: process.getuid(), env: process.env.NODE_ENV,
      }));`;
    const seen = JSON.parse(
      await docker('run', '--rm', '--label', daemons.label, '--entrypoint', 'node', IMAGE, '-e', check),
    );
    assert.deepEqual(seen, {
      main: true,
      src: false,
      readme: true,
      license: true,
      got: true,
      typescript: false,
      tsx: false,
      uid: 1000,
      env: 'production',
    });
  });

  it('reads the mounted socket (read-only, socket group added) and prints carbon lines with --once', async () => {
    const out = await docker(
      'run',
      '--rm',
      ...runArgs(),
      IMAGE,
      '--once',
      '--poll',
      '2s',
      '--label',
      containers.label,
      '--prefix',
      RULE,
    );
    const lines = out.split('\n');
    for (const line of lines) assert.match(line, CARBON_LINE);
    const value = (path: string): number | undefined => {
      const line = lines.find((l) => l.startsWith(`${path} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    assert.ok(value(`${webPath}.cpu.total`)! > 0, `busy container's cpu.total in:\n${out}`);
    assert.equal(value(`${webPath}.memory.limit`), 64 * 1024 * 1024);
    assert.ok(value(`${idle}.uptime`)! >= 0);
    assert.ok(
      lines.some((l) => /^[A-Za-z0-9_-]+\.containers\.total 2 \d+$/.test(l)),
      'containers.total 2',
    );
  });

  it("--mode cgroup reads the host's /proc and cgroup tree through read-only mounts, not as root", async () => {
    const out = await dockerLogsOf(
      'run',
      '--rm',
      ...runArgs('-v', '/proc:/host/proc:ro', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro'),
      IMAGE,
      '--mode',
      'cgroup',
      '--host-proc',
      '/host/proc',
      '--once',
      '--poll',
      '3s',
      '--label',
      containers.label,
      '--prefix',
      RULE,
    );
    assert.match(out.stderr, /reading samples from the kernel hostProc=\/host\/proc cgroupRoot=\/sys\/fs\/cgroup/);
    assert.doesNotMatch(out.stderr, /using the Engine's stats stream|cannot read/, out.stderr);
    const lines = out.stdout.split('\n');
    const value = (path: string): number | undefined => {
      const line = lines.find((l) => l.startsWith(`${path} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    assert.equal(value(`${webPath}.memory.limit`), 64 * 1024 * 1024, out.stdout);
    assert.ok(value(`${webPath}.cpu.percent`)! > 10, 'the busy container, from the kernel');
    assert.ok(value(`${idle}.network.eth0.rx_bytes`)! >= 0, "network counters from the container's namespace");
  });

  it('stops on SIGTERM (docker stop) with a final flush and exit status 0', async () => {
    const name = daemons.name('daemon');
    await docker(
      'run',
      '-d',
      '--name',
      name,
      ...runArgs(),
      IMAGE,
      '--poll',
      '1s',
      '--label',
      containers.label,
      '--prefix',
      RULE,
    );
    await pollUntil(async () => (await docker('logs', name)).includes(`${webPath}.cpu.total `), 'metrics on stdout');
    await docker('stop', '-t', '30', name);
    const state = JSON.parse(await docker('inspect', '-f', '{{json .State}}', name)) as {
      ExitCode: number;
      OOMKilled: boolean;
    };
    const { stderr } = await dockerLogs(name);
    assert.equal(state.ExitCode, 0, stderr);
    assert.match(stderr, /INFO\s+stopping signal=SIGTERM/);
    assert.match(stderr, /INFO\s+stopped .*undelivered=0/);
  });
});

/** A docker command's stdout and stderr apart (a `docker run --rm` prints the container's). */
function dockerLogsOf(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)('docker', args, { maxBuffer: 16 << 20 });
}

/** `docker logs` with the two streams apart. */
function dockerLogs(name: string): Promise<{ stdout: string; stderr: string }> {
  return dockerLogsOf('logs', name);
}

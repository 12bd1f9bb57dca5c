import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runBinary } from '../helpers/daemon.js';
import { runScript } from '../helpers/image.js';
import { pollUntil } from '../helpers/poll.js';

const exec = promisify(execFile);
const IMAGE = process.env['DSTB_IMAGE'] ?? 'dstb-busybox:latest';
/** runc here cannot apply Podman's default rlimits: every `podman run` needs these. */
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

async function podman(...args: string[]): Promise<string> {
  const { stdout } = await exec('podman', args, { maxBuffer: 16 << 20 });
  return stdout.trim();
}

/** GET /version on the API socket: true once Podman's service answers. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/v1.41/version' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Podman's Docker-compatible API (`podman system service`, Debian's Podman 4.3), with a busybox
 * image imported into Podman's own store. The service is started here and stopped afterwards; the
 * containers carry this run's label and the daemon is scoped to it.
 */
describe('Podman (Docker-compatible API)', () => {
  const run = `t${randomBytes(4).toString('hex')}`;
  const label = `dstb.test=${run}`;
  const busy = `${run}-busy`;
  let dir: string;
  let socketPath: string;
  let service: ChildProcess | undefined;
  let serviceLog = '';

  before(async () => {
    await runScript('ensure-podman.sh');
    dir = mkdtempSync(join(tmpdir(), 'dstb-podman-'));
    socketPath = join(dir, 'podman.sock');
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout!.on('data', (b: Buffer) => (serviceLog += b.toString()));
    service.stderr!.on('data', (b: Buffer) => (serviceLog += b.toString()));
    await pollUntil(() => answers(socketPath), `podman system service on ${socketPath} (log: ${serviceLog})`, 60_000);
    // A busy loop held to half a CPU, as in the metrics test against Docker.
    await podman(
      'run',
      '-d',
      ...ULIMITS,
      '--cpus',
      '0.5',
      '--memory',
      '64m',
      '--label',
      label,
      '--name',
      busy,
      IMAGE,
      'sh',
      '-c',
      'while :; do :; done',
    );
  });

  after(async () => {
    const ids = await podman('ps', '-aq', '--filter', `label=${label}`).catch(() => '');
    if (ids !== '') await podman('rm', '-f', '-t', '0', ...ids.split('\n'));
    if (service && service.exitCode === null && service.signalCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** One --once run over 12 s: Podman 4.3 streams a sample every 5 s, so rates need a long interval. */
  let lines: string[] = [];
  const value = (path: string): number | undefined => {
    const line = lines.find((l) => l.startsWith(`${path} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };

  it('reports the container through the Podman socket', async () => {
    const out = await runBinary(
      ['--docker', `unix://${socketPath}`, '--label', label, '--once', '--poll', '12s'],
      {},
      90_000,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /connected to Docker .*engine=\d/);
    lines = out.stdout.split('\n').filter((l) => l !== '');
    for (const metric of [
      'cpu.total',
      'cpu.system',
      'cpu.user',
      'memory.usage',
      'memory.limit',
      'uptime',
      'pids.current',
    ]) {
      assert.ok(value(`${busy}.${metric}`) !== undefined, `${busy}.${metric} in:\n${out.stdout}`);
    }
    assert.equal(value(`${busy}.memory.limit`), 64 * 1024 * 1024);
    assert.ok(value(`${busy}.cpu.total`)! > 0);
    assert.ok(
      lines.some((l) => /\.containers\.total 1 \d+$/.test(l)),
      'containers.total 1',
    );
    console.log(`# podman: cpu.percent of a busy loop under --cpus 0.5: ${value(`${busy}.cpu.percent`)}`);
  });

  // Podman's system_cpu_usage is busy time only (src/docker/podman.ts): CPU % uses wall-clock time.
  it("reports a CPU % comparable to Docker's (about 50 for --cpus 0.5)", () => {
    const percent = value(`${busy}.cpu.percent`);
    assert.ok(percent !== undefined, 'a cpu.percent over the interval');
    assert.ok(percent > 30 && percent < 70, `cpu.percent ${percent}`);
  });

  it("sends no per-interface counters for Podman's pseudo-interface `network`", () => {
    assert.deepEqual(
      lines.filter((l) => l.startsWith(`${busy}.network.network.`)),
      [],
    );
    assert.ok(value(`${busy}.network.rx_bytes`) !== undefined, 'the totals are kept');
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { runScript } from '../helpers/image.js';
import { startSocketProxy, type SocketProxy } from '../helpers/socket-proxy.js';

/**
 * Rootless Docker: with no --docker, SRV_DOCKER or DOCKER_HOST and no /var/run/docker.sock, the
 * daemon takes $XDG_RUNTIME_DIR/docker.sock. The host's /var/run/docker.sock cannot be removed
 * for a test, so the daemon runs in a private mount namespace (unshare) where an empty tmpfs hides
 * /run (/var/run is a link to it); the "rootless socket" is a socket proxy of the tests' own in a
 * temporary XDG_RUNTIME_DIR, forwarding to the real Engine.
 */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built daemon with /run hidden, only `env` (and PATH) in its environment. */
function runWithoutRunDir(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const script = 'mount -t tmpfs dstb-empty-run /run && test ! -e /var/run/docker.sock && exec "$@"';
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, BIN, ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('rootless Docker socket fallback', () => {
  const containers = new TestContainers();
  const web = containers.name('web');
  let runtimeDir: string;
  let emptyRuntimeDir: string;
  let rootless: SocketProxy;

  before(async () => {
    await runScript('ensure-docker.sh');
    runtimeDir = mkdtempSync(join(tmpdir(), 'dstb-xdg-'));
    emptyRuntimeDir = mkdtempSync(join(tmpdir(), 'dstb-xdg-empty-'));
    rootless = await startSocketProxy(join(runtimeDir, 'docker.sock'));
    await containers.start(web);
  });

  after(async () => {
    await rootless.close();
    await containers.cleanup();
    rmSync(runtimeDir, { recursive: true, force: true });
    rmSync(emptyRuntimeDir, { recursive: true, force: true });
  });

  it('uses $XDG_RUNTIME_DIR/docker.sock when /var/run/docker.sock does not exist', async () => {
    const run = await runWithoutRunDir(['--once', '--poll', '2s', '--label', containers.label], {
      XDG_RUNTIME_DIR: runtimeDir,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`connected to Docker docker=unix://${runtimeDir}/docker\\.sock `));
    assert.match(run.stdout, new RegExp(`^${web}\\.memory\\.usage \\d+ \\d+$`, 'm'));
    assert.ok(rootless.requests.length > 0, 'the requests went through the rootless socket');
  });

  it('says what it tried when neither socket exists', async () => {
    const run = await runWithoutRunDir(['--once', '--poll', '1s', '--label', containers.label], {
      XDG_RUNTIME_DIR: emptyRuntimeDir,
    });
    assert.equal(run.code, 1, run.stderr);
    const tried = `tried /var/run/docker.sock, ${emptyRuntimeDir}/docker.sock`;
    const line = run.stderr.split('\n').find((l) => l.includes('cannot reach Docker'));
    assert.ok(line, run.stderr);
    assert.ok(line.includes(tried), `"${tried}" in: ${line}`);
    assert.match(line, /ENOENT/);
  });
});

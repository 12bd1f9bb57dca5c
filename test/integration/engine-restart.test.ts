import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

const exec = promisify(execFile);
const running = (process: string): boolean => {
  try {
    execFileSync('pgrep', ['-x', process]);
    return true;
  } catch {
    return false;
  }
};
const ENSURE = fileURLToPath(new URL('../../scripts/ensure-docker.sh', import.meta.url));

/**
 * Restarts the Docker Engine that the test environment started (scripts/ensure-docker.sh) while
 * the daemon follows a container with a restart policy: the daemon must notice, reconnect once the
 * Engine answers again, and report the container again. Test files run one at a time
 * (scripts/test.sh), so no other test's containers are affected.
 */
describe('Engine restart', () => {
  const containers = new TestContainers();
  let d: DaemonProcess;
  const name = containers.name('survivor');
  const points = (after: number) =>
    d.stdout.split('\n').filter((l) => l.startsWith(`${name}.memory.usage `) && Number(l.split(' ')[2]) > after);

  before(async () => {
    await containers.start(name, { args: ['--restart', 'always', '--stop-timeout', '1'] });
    d = new DaemonProcess(['--docker', 'unix:///var/run/docker.sock', '--label', containers.label, '--poll', '1s']);
  });

  after(async () => {
    await d.kill();
    await exec('bash', [ENSURE]);
    await containers.cleanup();
  });

  it('streams resume and metrics continue after the Engine restarts', async () => {
    await waitFor(() => points(0).length > 0, 'metrics before the restart');
    const stoppedAt = Math.floor(Date.now() / 1000);
    await exec('pkill', ['-TERM', '-x', 'dockerd']);
    await d.waitForLog(/lost the Docker event stream/, 'the loss noticed');
    await waitFor(() => !running('dockerd'), 'dockerd gone', 60_000);
    await exec('bash', [ENSURE]);
    const backAt = Math.floor(Date.now() / 1000);
    await docker('start', name).catch(() => ''); // the restart policy normally does this
    await waitFor(() => points(backAt).length > 0, 'metrics after the restart', 60_000);
    assert.equal((d.stderr.match(/connected to Docker/g) ?? []).length >= 2, true, d.stderr);
    console.log(`# Engine down from ${stoppedAt} to ${backAt}; metrics resumed at ${points(backAt)[0]?.split(' ')[2]}`);
  });
});

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, TestContainers } from '../helpers/docker.js';
import { runScript } from '../helpers/image.js';
import { waitFor } from '../helpers/wait.js';
import { allowed, startSocketProxy, type SocketProxy } from '../helpers/socket-proxy.js';

/**
 * Least privilege: a Docker socket is root-equivalent, so the daemon must work through a proxy
 * that lets only the GET endpoints of docs/architecture.md §2 through and answers 403 to everything else.
 */
describe('through a read-only socket proxy', () => {
  const containers = new TestContainers();
  const daemons: DaemonProcess[] = [];
  let dir: string;
  let proxy: SocketProxy;
  const web = containers.name('web');

  /** One request through the proxy; resolves with the status. */
  const ask = (method: string, path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: proxy.socketPath, method, path }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  before(async () => {
    await runScript('ensure-docker.sh');
    dir = mkdtempSync(join(tmpdir(), 'dstb-proxy-'));
    proxy = await startSocketProxy(join(dir, 'docker.sock'));
    // A busy loop held to part of a CPU: other test files run beside this one (docs/testing.md).
    await containers.start(web, { args: ['--cpus', '0.25'], cmd: ['sh', '-c', 'while :; do :; done'] });
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await proxy.close();
    await containers.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses everything but the read endpoints the daemon needs', async () => {
    const id = await docker('inspect', '-f', '{{.Id}}', web);
    assert.equal(await ask('GET', '/v1.41/version'), 200);
    assert.equal(await ask('GET', `/v1.41/containers/${id}/json`), 200);
    for (const [method, path] of [
      ['POST', '/v1.41/containers/create'],
      ['POST', `/v1.41/containers/${id}/kill`],
      ['POST', `/v1.41/containers/${id}/exec`],
      ['DELETE', `/v1.41/containers/${id}`],
      ['GET', `/v1.41/containers/${id}/archive`],
      ['GET', `/v1.41/containers/${id}/logs`],
      ['GET', '/v1.41/images/json'],
      ['GET', '/v1.41/info'],
      ['HEAD', '/v1.41/version'],
    ] as const) {
      assert.equal(await ask(method, path), 403, `${method} ${path}`);
    }
    assert.equal(await docker('inspect', '-f', '{{.State.Running}}', web), 'true', 'the kill never reached the Engine');
  });

  it('is enough for the daemon: metrics, containers started later, no request refused', async () => {
    const before = proxy.requests.length;
    const d = new DaemonProcess([
      '--docker',
      `unix://${proxy.socketPath}`,
      '--label',
      containers.label,
      '--poll',
      '3s',
    ]);
    daemons.push(d);
    await d.waitForLog(new RegExp(`^${web}\\.cpu\\.percent `, 'm'), 'a CPU rate for the busy container');
    const late = containers.name('late');
    await containers.start(late);
    await d.waitForLog(
      new RegExp(`^${late}\\.memory\\.usage `, 'm'),
      'the container started later (events through the proxy)',
    );
    await docker('rm', '-f', late);
    const removedAt = d.stdout.length;
    await waitFor(() => d.stdout.slice(removedAt).includes(`\n${web}.cpu.total `), 'a batch after the removal');
    const { code } = await d.stop();
    assert.equal(code, 0);

    const used = proxy.requests.slice(before);
    assert.deepEqual(
      used.filter((r) => !allowed(r.method, r.path)),
      [],
      'every request was a GET of §3',
    );
    assert.deepEqual(
      used.filter((r) => r.status === 403),
      [],
      'nothing answered 403',
    );
    const kinds = new Set(
      used.map((r) => r.path.replace(/^\/v[\d.]+/, '').replace(/\/containers\/[0-9a-f]{12,}\//, '/containers/{id}/')),
    );
    console.log(`# endpoints the daemon used through the proxy: ${[...kinds].sort().join(', ')}`);
    for (const endpoint of ['/version', '/events', '/containers/json', '/containers/{id}/stats'])
      assert.ok(kinds.has(endpoint), endpoint);
    // A word boundary: the run id in container names (t1a403bc…) may hold the digits 403.
    assert.doesNotMatch(d.stderr, /\b403\b|forbidden/i);
  });
});

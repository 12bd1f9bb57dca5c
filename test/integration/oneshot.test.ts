import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess, runBinary } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

/** `--mode oneshot`: one request per container per tick instead of a stream per container. */
describe('one-shot collection mode', () => {
  const containers = new TestContainers();
  const busy = containers.name('busy');
  const idle = containers.name('idle');
  let d: DaemonProcess;
  let oldEngine: Server;
  const dir = mkdtempSync(join(tmpdir(), 'dstb-oneshot-'));
  const socket = join(dir, 'docker.sock');

  before(async () => {
    await containers.start(busy, { args: ['--cpus', '0.5'], cmd: ['sh', '-c', 'while :; do :; done'] });
    await containers.start(idle);
    // An Engine of the test's own that speaks API 1.40 only.
    oldEngine = createServer((req, res) => {
      if (req.url?.includes('/version')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ Version: '19.03.15', ApiVersion: '1.40', MinAPIVersion: '1.12' }));
      } else if (req.url?.includes('/events')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
      } else {
        res.setHeader('content-type', 'application/json');
        res.end('[]');
      }
    });
    await new Promise<void>((resolve) => oldEngine.listen(socket, resolve));
  });

  after(async () => {
    await d?.kill();
    oldEngine.closeAllConnections();
    await new Promise((resolve) => oldEngine.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    await containers.cleanup();
  });

  it("reports every container each tick, with rates from the previous tick's sample", async () => {
    d = new DaemonProcess([
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      containers.label,
      '--poll',
      '2s',
      '--mode',
      'oneshot',
    ]);
    const percents = () =>
      d.stdout
        .split('\n')
        .filter((l) => l.startsWith(`${busy}.cpu.percent `))
        .map((l) => Number(l.split(' ')[1]));
    await waitFor(() => percents().length >= 2, 'two CPU % values', 60_000);
    const last = percents().at(-1)!;
    assert.ok(last > 30 && last < 70, `cpu.percent of a --cpus 0.5 busy loop: ${last}`);
    assert.ok(d.stdout.includes(`${idle}.memory.usage `));
    assert.doesNotMatch(d.stderr, /stats stream open/);
  });

  it('an Engine older than API 1.41 is a clear start-up error', async () => {
    const { code, stderr } = await runBinary(['--docker', `unix://${socket}`, '--mode', 'oneshot', '--poll', '1s']);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /--mode oneshot needs Docker Engine API 1\.41 or later.*speaks API 1\.40: use --mode stream/);
  });
});

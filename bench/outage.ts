/**
 * Points lost in a Backstop outage, and the time to drain the backlog: N busybox containers, the
 * built daemon with a spool and --poll, the receiver closed for the outage and reopened on the same
 * port. Prints ticks and container-ticks expected and received, and the drain time. Fails nothing.
 *
 *   npx tsx bench/outage.ts [N=100] [poll=10s] [outageSeconds=600]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackstopReceiver, type BackstopReceiver } from '../test/helpers/backstop-receiver.js';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { TestContainers } from '../test/helpers/docker.js';
import { waitFor } from '../test/helpers/wait.js';

const n = Number(process.argv[2] ?? 100);
const poll = process.argv[3] ?? '10s';
const outageSeconds = Number(process.argv[4] ?? 600);
const pollS = Number.parseInt(poll, 10);
const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
const self = (name: string) => `${host}.docker_stats_to_backstop.${name}`;

const containers = new TestContainers();
const spool = mkdtempSync(join(tmpdir(), 'dstb-outage-'));
const receivers: BackstopReceiver[] = [];
let daemon: DaemonProcess | undefined;
try {
  process.stderr.write(`starting ${n} containers…\n`);
  await containers.startMany(0, n);
  const first = await startBackstopReceiver();
  receivers.push(first);
  daemon = new DaemonProcess([
    '--backstop',
    first.url(),
    '--label',
    containers.label,
    '--poll',
    poll,
    '--spool-dir',
    spool,
  ]);
  await first.waitFor(() => first.points.filter((p) => p.metric === self('samples')).length >= 2 || undefined, {
    what: 'two ticks',
    timeoutMs: 10 * pollS * 1000,
  });
  await first.close();
  const downAt = Date.now();
  process.stderr.write(`receiver down for ${outageSeconds} s…\n`);
  await new Promise((r) => setTimeout(r, outageSeconds * 1000));
  const back = await startBackstopReceiver({ port: first.port });
  receivers.push(back);
  const upAt = Date.now();
  await back.waitFor(
    () =>
      back.points.some((p) => p.metric === self('spooled_bytes') && p.value === 0 && p.measure_time * 1000 > upAt) ||
      undefined,
    { what: 'the backlog drained', timeoutMs: 30 * 60_000 },
  );
  const drainedAt = Date.now();
  // One more tick so that the last interval is complete.
  await waitFor(() => Date.now() > drainedAt + pollS * 1000 + 2000, 'one more tick', (pollS + 5) * 1000);
  const all = [...first.points, ...back.points];
  const ticks = [...new Set(all.filter((p) => p.metric === self('samples')).map((p) => p.measure_time))].sort(
    (a, b) => a - b,
  );
  const expectedTicks = (ticks.at(-1)! - ticks[0]!) / pollS + 1;
  // Per container, the received sample times; a hole longer than one interval (plus the Engine's
  // one-second jitter) is a lost point.
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const times = [
      ...new Set(all.filter((p) => p.metric === `${containers.run}-c${i}.memory.usage`).map((p) => p.measure_time)),
    ].sort((a, b) => a - b);
    for (let k = 1; k < times.length; k++) {
      const gap = times[k]! - times[k - 1]!;
      if (gap > pollS + 1) missing += Math.round(gap / pollS) - 1;
    }
  }
  const result = {
    date: new Date().toISOString(),
    containers: n,
    poll,
    outageSeconds: Math.round((upAt - downAt) / 1000),
    ticksExpected: expectedTicks,
    ticksReceived: ticks.length,
    containerPointsMissing: missing,
    drainSeconds: Number(((drainedAt - upAt) / 1000).toFixed(1)),
    duplicatesReceived: all.length - new Set(all.map((p) => `${p.metric} ${p.measure_time}`)).size,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await daemon?.kill();
  await Promise.all(receivers.map((r) => r.close()));
  await containers.cleanup();
  rmSync(spool, { recursive: true, force: true });
}

/**
 * Footprint on the real Engine: N busybox containers, the built daemon streaming with --poll into a
 * local Backstop receiver for a few intervals. Prints the daemon's CPU (% of one core, from
 * /proc/<pid>/stat), peak RSS, samples per second, how long after each tick its batch arrived, and
 * whether every batch held all N containers. Fails nothing; cleans up its containers.
 *
 *   npx tsx bench/real-engine.ts [N=40] [poll=10s] [intervals=4]
 */
import { readFileSync } from 'node:fs';
import { startBackstopReceiver } from '../test/helpers/backstop-receiver.js';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { TestContainers } from '../test/helpers/docker.js';

const n = Number(process.argv[2] ?? 40);
const poll = process.argv[3] ?? '10s';
const intervals = Number(process.argv[4] ?? 4);
const pollMs = Number.parseInt(poll, 10) * 1000;
const TICKS_PER_SEC = 100;

const cpuTicks = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
};
const hwmKb = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

const containers = new TestContainers();
const receiver = await startBackstopReceiver({ prefixes: ['bench'] });
try {
  process.stderr.write(`starting ${n} containers…\n`);
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, j) => containers.start(containers.name(`c${i + j}`))),
    );
  }
  const daemon = new DaemonProcess([
    '--backstop', receiver.url({ name: 'bench' }), '--label', containers.label, '--poll', poll, '--verbose',
  ]);
  const pid = daemon.child.pid!;
  // Let streams open and one interval pass before measuring.
  await daemon.waitForLog(/connected to Docker/);
  await new Promise((r) => setTimeout(r, pollMs + 2000));
  const t0 = Date.now();
  const c0 = cpuTicks(pid);
  const firstRequest = receiver.requests.length;
  const samples0 = Number([...daemon.stderr.matchAll(/samples=(\d+)/g)].at(-1)?.[1] ?? 0);
  await new Promise((r) => setTimeout(r, intervals * pollMs));
  const seconds = (Date.now() - t0) / 1000;
  const cpu = ((cpuTicks(pid) - c0) / TICKS_PER_SEC / seconds) * 100;
  const rssMb = hwmKb(pid) / 1024;
  const samples1 = Number([...daemon.stderr.matchAll(/samples=(\d+)/g)].at(-1)?.[1] ?? 0);
  await daemon.stop();

  const posts = receiver.requests.slice(firstRequest).filter((r) => r.status === 200);
  const lateness = posts.map((r) => r.at % pollMs).sort((a, b) => a - b);
  const perBatch = new Map<number, Set<string>>();
  for (const p of receiver.points) {
    const m = /^(t[0-9a-f]+-c\d+)\.cpu\.total$/.exec(p.metric);
    if (!m) continue;
    const tick = Math.ceil(p.measure_time / (pollMs / 1000));
    if (!perBatch.has(tick)) perBatch.set(tick, new Set());
    perBatch.get(tick)!.add(m[1]!);
  }
  const complete = [...perBatch.values()].slice(1, -1).every((s) => s.size === n);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    containers: n,
    poll,
    measuredSeconds: Math.round(seconds),
    daemonCpuPercentOfOneCore: Number(cpu.toFixed(2)),
    daemonPeakRssMb: Number(rssMb.toFixed(1)),
    samplesPerSecond: Number(((samples1 - samples0) / seconds).toFixed(1)),
    postLatenessMs: { median: lateness[lateness.length >> 1], max: lateness.at(-1) },
    batchesComplete: complete,
    batchSizes: [...perBatch.values()].map((s) => s.size),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await containers.cleanup();
  await receiver.close();
}

/**
 * Does cgroup mode cost the Engine anything beyond what its containers cost it idle? N busybox
 * containers (label-scoped, removed afterwards); windows alternated K times: no daemon, then the
 * built daemon in `--mode cgroup` (measured after a warm-up). Per window, for dockerd, containerd
 * and the shims (every thread, from /proc/<pid>/task/<tid>/schedstat): CPU (% of one core) and
 * wake-ups a second (the times a thread was put on a CPU); the daemon's CPU besides.
 *
 *   npx tsx bench/engine-idle.ts [N=100] [K=2] [windowSeconds=60] [warmSeconds=40]
 *
 * Needs the build (`npm run build`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startBackstopReceiver } from '../test/helpers/backstop-receiver.js';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { TestContainers } from '../test/helpers/docker.js';
import { enginePids, log, round, sleepMs } from './lib.js';

const N = Number(process.argv[2] ?? 100);
const K = Number(process.argv[3] ?? 2);
const WINDOW_S = Number(process.argv[4] ?? 60);
const WARM_S = Number(process.argv[5] ?? 40);

/** Per process kind: CPU ns and times put on a CPU, summed over every thread (a thread gone meanwhile is lost). */
function snapshot(pids: readonly number[]): Map<string, { ns: number; runs: number }> {
  const by = new Map<string, { ns: number; runs: number }>();
  for (const pid of pids) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const kind = comm.startsWith('containerd-shim') ? 'shims' : comm;
      const sum = by.get(kind) ?? { ns: 0, runs: 0 };
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const [ns, , runs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
        sum.ns += ns!;
        sum.runs += runs!;
      }
      by.set(kind, sum);
    } catch {
      // gone meanwhile
    }
  }
  return by;
}

async function window(pids: () => number[]): Promise<string> {
  const before = snapshot(pids());
  await sleepMs(WINDOW_S * 1000);
  const after = snapshot(pids());
  const parts: string[] = [];
  for (const kind of ['dockerd', 'containerd', 'shims', 'node']) {
    const a = after.get(kind);
    const b = before.get(kind);
    if (a === undefined || b === undefined) continue;
    const cpu = (a.ns - b.ns) / (WINDOW_S * 1e7);
    const wakeups = (a.runs - b.runs) / WINDOW_S;
    parts.push(`${kind === 'node' ? 'daemon' : kind} ${round(cpu, 2)} % (${round(wakeups, 0)}/s)`);
  }
  return parts.join(' | ');
}

async function main(): Promise<void> {
  const containers = new TestContainers();
  const receiver = await startBackstopReceiver();
  try {
    log(`starting ${N} containers (label ${containers.label})…`);
    await containers.startMany(0, N);
    await sleepMs(10_000);
    const rows = ['| window | dockerd, containerd, shims, daemon: CPU % of a core (wake-ups a second) |', '|---|---|'];
    for (let k = 0; k < K; k++) {
      rows.push(`| no daemon | ${await window(enginePids)} |`);
      log(rows.at(-1)!);
      const daemon = new DaemonProcess(['--backstop', receiver.url(), '--label', containers.label, '--poll', '10s', '--mode', 'cgroup']);
      try {
        await sleepMs(WARM_S * 1000);
        const pid = daemon.child.pid!;
        rows.push(`| cgroup daemon | ${await window(() => [...enginePids(), pid])} |`);
        log(rows.at(-1)!);
      } finally {
        await daemon.stop();
      }
      await sleepMs(5_000);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    log('removing the containers…');
    await containers.cleanup();
    await receiver.close();
  }
}

await main();

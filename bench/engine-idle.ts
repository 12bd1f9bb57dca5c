/**
 * Does cgroup mode cost the Engine anything beyond what its containers cost it idle? N busybox
 * containers (label-scoped, removed afterwards); windows alternated K times: no daemon, then the
 * built daemon in `--mode cgroup` (measured after a warm-up). Per window, for dockerd, containerd
 * and the shims (every thread, from /proc/<pid>/task/<tid>/schedstat): CPU (% of one core) and
 * wake-ups a second (the times a thread was put on a CPU); the daemon's CPU besides. In each
 * window without the daemon, SAMPLED shims are also read every 100 ms, to show when their CPU is
 * spent: in bursts (a 100 ms slot of over 0.2 ms), how many, how far apart and how large.
 *
 *   npx tsx bench/engine-idle.ts [N=100] [K=2] [windowSeconds=60] [warmSeconds=40]
 *
 * Needs the build (`npm run build`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startBackstopReceiver } from '../test/helpers/backstop-receiver.js';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { TestContainers } from '../test/helpers/docker.js';
import { enginePids, log, median, round, sleepMs } from './lib.js';

const N = Number(process.argv[2] ?? 100);
const K = Number(process.argv[3] ?? 2);
const WINDOW_S = Number(process.argv[4] ?? 60);
const WARM_S = Number(process.argv[5] ?? 40);
/** Shims read every 100 ms in the windows without the daemon (bursts()). */
const SAMPLED = 3;
const SLOT_MS = 100;
/** A slot with more CPU than this is part of a burst. */
const BURST_NS = 200_000;

/** A process's kind: `shims` for every containerd-shim, else its comm; undefined once it is gone. */
function kindOf(pid: number): string | undefined {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm.startsWith('containerd-shim') ? 'shims' : comm;
  } catch {
    return undefined;
  }
}

/** CPU ns and times put on a CPU so far, summed over a process's threads; undefined once it is gone. */
function processStats(pid: number): { ns: number; runs: number } | undefined {
  try {
    const sum = { ns: 0, runs: 0 };
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const [ns, , runs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      sum.ns += ns!;
      sum.runs += runs!;
    }
    return sum;
  } catch {
    return undefined;
  }
}

/** Per process kind: CPU ns and times put on a CPU, summed over every thread (a process gone meanwhile is lost). */
function snapshot(pids: readonly number[]): Map<string, { ns: number; runs: number }> {
  const by = new Map<string, { ns: number; runs: number }>();
  for (const pid of pids) {
    const kind = kindOf(pid);
    const stats = processStats(pid);
    if (kind === undefined || stats === undefined) continue;
    const sum = by.get(kind) ?? { ns: 0, runs: 0 };
    sum.ns += stats.ns;
    sum.runs += stats.runs;
    by.set(kind, sum);
  }
  return by;
}

/**
 * Reads `shims` every SLOT_MS for `ms` and tells when their CPU went: the share spent in bursts,
 * and over all of them the bursts' count, spacing (between one shim's) and size (a shim's busy
 * slots at most one slot apart are one burst).
 */
async function bursts(shims: readonly number[], ms: number): Promise<string> {
  const last = shims.map((pid) => processStats(pid)?.ns);
  const found = shims.map(() => [] as { at: number; ns: number }[]);
  let all = 0;
  let inBursts = 0;
  const start = Date.now();
  while (Date.now() - start < ms) {
    await sleepMs(SLOT_MS);
    const at = Date.now() - start;
    shims.forEach((pid, i) => {
      const now = processStats(pid)?.ns;
      if (now === undefined || last[i] === undefined) return;
      const ns = now - last[i]!;
      last[i] = now;
      all += ns;
      if (ns <= BURST_NS) return;
      inBursts += ns;
      const open = found[i]!.at(-1);
      if (open && at - open.at <= 2 * SLOT_MS) {
        open.ns += ns;
        open.at = at;
      } else found[i]!.push({ at, ns });
    });
  }
  const sizes = found.flat().map((b) => b.ns / 1e6);
  const gaps = found.flatMap((list) => list.slice(1).map((b, k) => (b.at - list[k]!.at) / 1000));
  const mid = (xs: readonly number[]): string => (xs.length === 0 ? 'n/a' : String(round(median(xs), 1)));
  return (
    `${shims.length} shims read every ${SLOT_MS} ms: ${round(all / 1e6, 1)} ms of CPU, ` +
    `${all > 0 ? round((100 * inBursts) / all, 0) : 0} % of it in ` +
    `${sizes.length} bursts, ${mid(gaps)} s apart, ${mid(sizes)} ms each (medians)`
  );
}

async function window(pids: () => number[], sampleShims = false): Promise<string> {
  const before = snapshot(pids());
  const shims = sampleShims
    ? pids()
        .filter((pid) => kindOf(pid) === 'shims')
        .slice(0, SAMPLED)
    : [];
  const shimBursts = shims.length > 0 ? bursts(shims, WINDOW_S * 1000) : undefined;
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
  if (shimBursts) parts.push(await shimBursts);
  return parts.join(' | ');
}

async function main(): Promise<void> {
  const containers = new TestContainers();
  const receiver = await startBackstopReceiver();
  try {
    log(`starting ${N} containers (label ${containers.label})…`);
    await containers.startMany(0, N);
    await sleepMs(10_000);
    const rows = [
      '| window | dockerd, containerd, shims, daemon: CPU % of a core (wake-ups a second); ' +
        'without the daemon, when a few shims spent theirs |',
      '|---|---|',
    ];
    for (let k = 0; k < K; k++) {
      rows.push(`| no daemon | ${await window(enginePids, true)} |`);
      log(rows.at(-1)!);
      const daemon = new DaemonProcess([
        '--backstop',
        receiver.url(),
        '--label',
        containers.label,
        '--poll',
        '10s',
        '--mode',
        'cgroup',
      ]);
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

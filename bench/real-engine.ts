/**
 * Footprint on the real Engine: N busybox containers (label-scoped, removed afterwards), the built
 * daemon streaming with --poll into a local Backstop receiver for a few intervals. Reports the
 * daemon's CPU and peak RSS, the Engine's CPU (dockerd + containerd + containerd-shim*, from /proc)
 * over the same window and with nothing of ours watching it, how long after each tick the batch
 * arrived, and whether every batch held all N. Also the collection modes compared: stream against
 * `--mode oneshot` on the same containers, and stream against `--mode cgroup` host-wide (daemon +
 * Engine) at each N. Fails nothing.
 *
 *   npx tsx bench/real-engine.ts [N=40] [poll=10s] [intervals=4]
 */
import { TestContainers } from '../test/helpers/docker.js';
import { check, log, sleepMs, type TargetCheck } from './lib.js';
import { engineIdleCpu, measureRun, type RunFigures } from './measure.js';

export interface RealResult extends RunFigures {
  containers: number;
  poll: string;
  mode: 'stream' | 'oneshot' | 'cgroup';
  engineIdleCpuPercent: number;
  /** The daemon's CPU plus the Engine's (dockerd + containerd + shims), % of one core. */
  hostWideCpuPercent: number;
}

const parsePollMs = (poll: string): number => Number.parseInt(poll, 10) * (poll.endsWith('m') ? 60_000 : 1000);

async function measureReal(
  containers: TestContainers,
  n: number,
  poll: string,
  intervals: number,
  mode: RealResult['mode'],
): Promise<RealResult> {
  log(`real Engine: ${n} containers, ${mode}, --poll ${poll}, ${intervals} intervals`);
  // The Engine with nothing of ours watching it (after a pause: a previous run's streams wind down).
  await sleepMs(5_000);
  const engineIdleCpuPercent = await engineIdleCpu(10_000);
  log(`  Engine idle: ${engineIdleCpuPercent} % CPU`);
  const pollMs = parsePollMs(poll);
  const figures = await measureRun({
    args: ['--label', containers.label, '--poll', poll, '--mode', mode, '--verbose'],
    pollMs,
    intervals,
    expected: n,
    engine: true,
  });
  const hostWideCpuPercent = Math.round((figures.daemonCpuPercent + (figures.engineCpuPercent ?? 0)) * 100) / 100;
  log(
    `  host-wide ${hostWideCpuPercent} % (daemon ${figures.daemonCpuPercent} %, Engine ${figures.engineCpuPercent} %)`,
  );
  return { containers: n, poll, mode, engineIdleCpuPercent, hostWideCpuPercent, ...figures };
}

/** Part (b): N = each of `ns`, stream mode. Containers are added as N grows and removed at the end. */
export async function runReal(
  ns: readonly number[],
  poll: string,
  intervals: number,
): Promise<{ runs: RealResult[]; targets: TargetCheck[] }> {
  const runs = await growing(ns, (containers, n) => [() => measureReal(containers, n, poll, intervals, 'stream')]);
  const at100 = runs.find((r) => r.containers === 100) ?? runs.at(-1);
  const targets = at100
    ? [
        check(
          `${at100.containers} real containers: daemon ≤ 2 % of one core`,
          `${at100.daemonCpuPercent} %`,
          at100.daemonCpuPercent <= 2,
        ),
        check(
          `${at100.containers} real containers: daemon ≤ 110 MB RSS`,
          `${at100.daemonPeakRssMb} MB`,
          at100.daemonPeakRssMb <= 110,
        ),
        check(
          `${at100.containers} real containers: every batch complete, posted within 1 s of its tick`,
          `${at100.allComplete ? 'complete' : `incomplete (${at100.ticks.map((t) => t.containers).join(', ')})`}, ` +
            `latest ${at100.maxArrivedMs} ms`,
          at100.allComplete && at100.maxArrivedMs <= 1000,
        ),
      ]
    : [];
  return { runs, targets };
}

/**
 * Runs the measurements `each` gives for each N of `ns`, smallest first, on containers added as N
 * grows (all removed at the end).
 */
async function growing(
  ns: readonly number[],
  each: (containers: TestContainers, n: number) => (() => Promise<RealResult>)[],
): Promise<RealResult[]> {
  const containers = new TestContainers();
  const runs: RealResult[] = [];
  try {
    let running = 0;
    for (const n of [...ns].sort((a, b) => a - b)) {
      if (n > running) {
        await startContainersFrom(containers, running, n);
        running = n;
      }
      for (const measure of each(containers, n)) runs.push(await measure());
    }
  } finally {
    await containers.cleanup();
  }
  return runs;
}

async function startContainersFrom(containers: TestContainers, from: number, to: number): Promise<void> {
  log(`starting containers ${from}..${to - 1}…`);
  await containers.startMany(from, to);
}

/** Part (d): stream against one-shot on the same N containers at a long poll. */
export async function runModes(
  n: number,
  poll: string,
  intervals: number,
): Promise<{ runs: RealResult[]; targets: TargetCheck[] }> {
  const containers = new TestContainers();
  const runs: RealResult[] = [];
  try {
    await startContainersFrom(containers, 0, n);
    runs.push(await measureReal(containers, n, poll, intervals, 'stream'));
    runs.push(await measureReal(containers, n, poll, intervals, 'oneshot'));
  } finally {
    await containers.cleanup();
  }
  const [stream, oneshot] = runs as [RealResult, RealResult];
  // The Engine's CPU due to the daemon: over the window, minus the same Engine watched by nobody
  // (the lower of the two idle figures: other work on the machine only ever adds to them).
  const idle = Math.min(stream.engineIdleCpuPercent, oneshot.engineIdleCpuPercent);
  const net = (r: RealResult): number => Math.max(0, (r.engineCpuPercent ?? 0) - idle);
  const ratio = net(stream) > 0 ? net(oneshot) / net(stream) : Number.NaN;
  return {
    runs,
    targets: [
      check(
        `one-shot at --poll ${poll}: Engine CPU ≤ 1/5 of stream's`,
        `${net(oneshot).toFixed(2)} % vs ${net(stream).toFixed(2)} % (net of idle) = ` +
          (Number.isFinite(ratio) ? `1/${(1 / ratio).toFixed(1)}` : 'n/a'),
        Number.isFinite(ratio) && ratio <= 0.2,
      ),
    ],
  };
}

/**
 * Part (e): stream against cgroup mode at each N (both sample every container once a second),
 * host-wide: the daemon's CPU plus the Engine's over the same window.
 */
export async function runCgroup(
  ns: readonly number[],
  poll: string,
  intervals: number,
): Promise<{ runs: RealResult[]; targets: TargetCheck[] }> {
  const runs = await growing(ns, (containers, n) => [
    () => measureReal(containers, n, poll, intervals, 'stream'),
    () => measureReal(containers, n, poll, intervals, 'cgroup'),
  ]);
  const top = Math.max(...runs.map((r) => r.containers));
  const stream = runs.find((r) => r.containers === top && r.mode === 'stream');
  const cgroup = runs.find((r) => r.containers === top && r.mode === 'cgroup');
  if (!stream || !cgroup) return { runs, targets: [] };
  const ratio = cgroup.hostWideCpuPercent / stream.hostWideCpuPercent;
  return {
    runs,
    targets: [
      check(
        `cgroup mode, ${top} containers: host-wide ≤ 1/10 of stream mode's`,
        `${cgroup.hostWideCpuPercent} % vs ${stream.hostWideCpuPercent} % = 1/${(1 / ratio).toFixed(1)}; ` +
          `net of the Engine's idle ${daemonShare(cgroup)} % vs ${daemonShare(stream)} % ` +
          `= 1/${(daemonShare(stream) / daemonShare(cgroup)).toFixed(1)}`,
        ratio <= 0.1,
      ),
      check(
        `cgroup mode, ${top} containers: host-wide ≤ 2 % of one core`,
        `${cgroup.hostWideCpuPercent} % (daemon ${cgroup.daemonCpuPercent} %, ` +
          `Engine ${cgroup.engineCpuPercent ?? 0} %, its idle just before ${cgroup.engineIdleCpuPercent} %)`,
        cgroup.hostWideCpuPercent <= 2,
      ),
      // The same, without what the Engine spends on its containers whoever reads their stats (its
      // idle cost, measured just before: in cgroup mode the daemon adds nothing to it, see
      // bench/engine-idle.ts and docs/cgroup.md). Reported beside the target, not instead of it.
      check(
        `cgroup mode, ${top} containers: what the daemon costs the host ` +
          '(daemon + the Engine over its idle) ≤ 2 % of one core',
        `${daemonShare(cgroup)} %`,
        daemonShare(cgroup) <= 2,
      ),
      check(
        `cgroup mode, ${top} containers: every batch complete`,
        cgroup.allComplete ? 'complete' : `incomplete (${cgroup.ticks.map((t) => t.containers).join(', ')})`,
        cgroup.allComplete,
      ),
    ],
  };
}

/** Host-wide net of the Engine's idle: the daemon's CPU plus the Engine's above its idle (never below the daemon's). */
const daemonShare = (r: RealResult): number =>
  Math.round((r.daemonCpuPercent + Math.max(0, (r.engineCpuPercent ?? 0) - r.engineIdleCpuPercent)) * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 40);
  const poll = process.argv[3] ?? '10s';
  const intervals = Number(process.argv[4] ?? 4);
  console.log(JSON.stringify(await runReal([n], poll, intervals), null, 2));
}

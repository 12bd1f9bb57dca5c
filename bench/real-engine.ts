/**
 * Footprint on the real Engine: N busybox containers (label-scoped, removed afterwards), the built
 * daemon streaming with --poll into a local Backstop receiver for a few intervals. Reports the
 * daemon's CPU and peak RSS, the Engine's CPU (dockerd + containerd + containerd-shim*, from /proc)
 * over the same window and with nothing of ours watching it, how long after each tick the batch
 * arrived, and whether every batch held all N. Also the collection modes compared: stream against
 * `--mode oneshot` on the same containers. Fails nothing.
 *
 *   npx tsx bench/real-engine.ts [N=40] [poll=10s] [intervals=4]
 */
import { TestContainers } from '../test/helpers/docker.js';
import { check, log, sleepMs, type TargetCheck } from './lib.js';
import { engineIdleCpu, measureRun, type RunFigures } from './measure.js';

export interface RealResult extends RunFigures {
  containers: number;
  poll: string;
  mode: 'stream' | 'oneshot';
  engineIdleCpuPercent: number;
}

const parsePollMs = (poll: string): number => Number.parseInt(poll, 10) * (poll.endsWith('m') ? 60_000 : 1000);

async function startContainers(containers: TestContainers, n: number): Promise<void> {
  log(`starting ${n} containers…`);
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, j) => containers.start(containers.name(`c${i + j}`))),
    );
  }
}

async function measureReal(
  containers: TestContainers,
  n: number,
  poll: string,
  intervals: number,
  mode: 'stream' | 'oneshot',
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
  return { containers: n, poll, mode, engineIdleCpuPercent, ...figures };
}

/** Part (b): N = each of `ns`, stream mode. Containers are added as N grows and removed at the end. */
export async function runReal(ns: readonly number[], poll: string, intervals: number): Promise<{ runs: RealResult[]; targets: TargetCheck[] }> {
  const containers = new TestContainers();
  const runs: RealResult[] = [];
  try {
    let running = 0;
    for (const n of [...ns].sort((a, b) => a - b)) {
      if (n > running) {
        await startContainersFrom(containers, running, n);
        running = n;
      }
      runs.push(await measureReal(containers, n, poll, intervals, 'stream'));
    }
  } finally {
    await containers.cleanup();
  }
  const at100 = runs.find((r) => r.containers === 100) ?? runs.at(-1);
  const targets = at100
    ? [
        check(`${at100.containers} real containers: daemon ≤ 2 % of one core`, `${at100.daemonCpuPercent} %`, at100.daemonCpuPercent <= 2),
        check(`${at100.containers} real containers: daemon ≤ 100 MB RSS`, `${at100.daemonPeakRssMb} MB`, at100.daemonPeakRssMb <= 100),
        check(
          `${at100.containers} real containers: every batch complete, posted within 1 s of its tick`,
          `${at100.allComplete ? 'complete' : `incomplete (${at100.ticks.map((t) => t.containers).join(', ')})`}, latest ${at100.maxArrivedMs} ms`,
          at100.allComplete && at100.maxArrivedMs <= 1000,
        ),
      ]
    : [];
  return { runs, targets };
}

async function startContainersFrom(containers: TestContainers, from: number, to: number): Promise<void> {
  log(`starting containers ${from}..${to - 1}…`);
  for (let i = from; i < to; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, to - i) }, (_, j) => containers.start(containers.name(`c${i + j}`))),
    );
  }
}

/** Part (d): stream against one-shot on the same N containers at a long poll. */
export async function runModes(n: number, poll: string, intervals: number): Promise<{ runs: RealResult[]; targets: TargetCheck[] }> {
  const containers = new TestContainers();
  const runs: RealResult[] = [];
  try {
    await startContainers(containers, n);
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
        `${net(oneshot).toFixed(2)} % vs ${net(stream).toFixed(2)} % (net of idle) = ${Number.isFinite(ratio) ? `1/${(1 / ratio).toFixed(1)}` : 'n/a'}`,
        Number.isFinite(ratio) && ratio <= 0.2,
      ),
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 40);
  const poll = process.argv[3] ?? '10s';
  const intervals = Number(process.argv[4] ?? 4);
  console.log(JSON.stringify(await runReal([n], poll, intervals), null, 2));
}

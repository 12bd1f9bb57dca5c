/**
 * What issue 27's metrics (OOM kills, exits, limits, states, pressure) cost: the daemon's CPU at N
 * real containers, built from a baseline commit and from this tree, in one run on the same
 * containers, for each mode. By default both daemons run side by side over the same windows, so that
 * drift on the machine (steal, other work) falls on both alike, except in stream mode, where two
 * daemons would be 2N stats streams and the Engine's queueing, not our code, would set the figures:
 * there they run one after the other, A B B A. `BENCH_COST_DESIGN=paired|alternate` sets one design
 * for every mode. The Engine's CPU of a side-by-side window is the
 * Engine's for both. Prints each run's figures and, per mode, the ratio of the medians and of the
 * means. Fails nothing.
 *
 *   npx tsx bench/lifecycle-cost.ts [N=100] [poll=10s] [intervals=6] [rounds=2] [modes=stream,cgroup]
 *   BENCH_BASELINE_REF   the commit to compare with (default 6222ad4, the last before issue 27)
 *   BENCH_COST_DESIGN    auto (default: alternate in stream mode, paired otherwise), paired or alternate
 *   BENCH_COST_WARM_S    seconds from the daemon's start to the window (default 180, see warmMs)
 *
 * The baseline is built in a temporary git worktree (node_modules linked from this tree) and removed
 * afterwards; this tree's dist/ must be built (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TestContainers } from '../test/helpers/docker.js';
import { BIN } from '../test/helpers/daemon.js';
import { envNumber, envString, log, machine, median, round } from './lib.js';
import { measureRun, type RunFigures } from './measure.js';

const ref = envString('BENCH_BASELINE_REF', '6222ad4');
const design = envString('BENCH_COST_DESIGN', 'auto');
/** Side by side, or one after the other (see the head of this file). */
const pairedIn = (mode: string): boolean => (design === 'auto' ? mode !== 'stream' : design === 'paired');
/**
 * A long warm-up: at --poll 10s the per-tick code runs six times a minute, and V8 goes on optimising
 * it on its helper threads for minutes. After 30 s those threads still took about a sixth of the
 * daemon's CPU in the window (more for the build with more per-tick code); after 180 s, 0.1 % of a core.
 */
const warmMs = envNumber('BENCH_COST_WARM_S', 180) * 1000;
const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds `ref` in a temporary worktree; returns its dist/main.js and a function that removes it. */
function buildBaseline(): { bin: string; remove: () => void } {
  const dir = join(mkdtempSync(join(tmpdir(), 'dstb-baseline-')), 'tree');
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, ref], { stdio: 'ignore' });
  const remove = (): void => {
    execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
  };
  try {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], {
      stdio: 'inherit',
    });
  } catch (err) {
    remove();
    throw err;
  }
  return { bin: join(dir, 'dist/main.js'), remove };
}

export interface CostOptions {
  readonly n: number;
  readonly poll: string;
  readonly intervals: number;
  readonly rounds: number;
  readonly modes: readonly string[];
}

export interface CostSummary {
  readonly mode: string;
  readonly daemonCpuPercent: { readonly baseline: number[]; readonly current: number[] };
  readonly engineCpuPercent: { readonly baseline: number[]; readonly current: number[] };
  readonly stealPercent: number[];
  readonly allComplete: boolean;
  readonly design: 'paired' | 'alternate';
  readonly medianRatio: number;
  readonly meanRatio: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The runs of each mode (side by side, or A B B A); the summary per mode. Writes the runs to bench/results/. */
export async function runLifecycleCost({ n, poll, intervals, rounds, modes }: CostOptions): Promise<CostSummary[]> {
  const pollMs = Number.parseInt(poll, 10) * (poll.endsWith('m') ? 60_000 : 1000);
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  log(`building the baseline ${ref}…`);
  const baseline = buildBaseline();
  const bins = { baseline: baseline.bin, current: BIN };
  const containers = new TestContainers();
  const runs: { mode: string; build: 'baseline' | 'current'; figures: RunFigures }[] = [];
  try {
    log(`starting ${n} containers…`);
    await containers.startMany(0, n);
    for (const mode of modes) {
      for (let r = 0; r < rounds; r++) {
        const args = ['--label', containers.label, '--poll', poll, '--mode', mode];
        const run = (build: 'baseline' | 'current'): Promise<RunFigures> =>
          measureRun({ args, pollMs, intervals, expected: n, engine: true, bin: bins[build], warmMs });
        if (pairedIn(mode)) {
          // Both at once, over the same window: what the machine does meanwhile falls on both alike.
          log(`${mode}: ${n} containers, --poll ${poll}, baseline and current side by side (round ${r + 1})`);
          const [before, after] = await Promise.all([run('baseline'), run('current')]);
          runs.push({ mode, build: 'baseline', figures: before }, { mode, build: 'current', figures: after });
          continue;
        }
        const order = r % 2 === 0 ? (['baseline', 'current'] as const) : (['current', 'baseline'] as const);
        for (const build of order) {
          log(`${mode}: ${n} containers, --poll ${poll}, ${build}`);
          runs.push({ mode, build, figures: await run(build) });
        }
      }
    }
  } finally {
    await containers.cleanup();
    baseline.remove();
  }

  const pick = (mode: string, build: string, f: (r: RunFigures) => number): number[] =>
    runs.filter((r) => r.mode === mode && r.build === build).map((r) => f(r.figures));
  const summary: CostSummary[] = modes.map((mode) => {
    const before = pick(mode, 'baseline', (f) => f.daemonCpuPercent);
    const after = pick(mode, 'current', (f) => f.daemonCpuPercent);
    return {
      mode,
      daemonCpuPercent: { baseline: before, current: after },
      engineCpuPercent: {
        baseline: pick(mode, 'baseline', (f) => f.engineCpuPercent ?? Number.NaN),
        current: pick(mode, 'current', (f) => f.engineCpuPercent ?? Number.NaN),
      },
      stealPercent: runs.filter((r) => r.mode === mode).map((r) => r.figures.stealPercent ?? Number.NaN),
      allComplete: runs.filter((r) => r.mode === mode).every((r) => r.figures.allComplete),
      design: pairedIn(mode) ? 'paired' : 'alternate',
      medianRatio: round(median(after) / median(before), 3),
      meanRatio: round(mean(after) / mean(before), 3),
    };
  });
  const out = { machine: machine(), containers: n, poll, intervals, rounds, baseline: ref, summary };
  console.log(JSON.stringify(out, null, 2));
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${out.machine.date.replace(/[:.]/g, '-')}-lifecycle-cost.json`);
  writeFileSync(file, `${JSON.stringify({ ...out, runs }, null, 2)}\n`);
  log(`results in ${file}`);
  return summary;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runLifecycleCost({
    n: Number(process.argv[2] ?? 100),
    poll: process.argv[3] ?? '10s',
    intervals: Number(process.argv[4] ?? 6),
    rounds: Number(process.argv[5] ?? 2),
    modes: (process.argv[6] ?? 'stream,cgroup').split(','),
  });
}

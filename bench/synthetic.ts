/**
 * Scale beyond what this machine holds as real containers: the daemon against the synthetic Engine
 * (bench/synthetic-engine.ts, in its own process so its CPU is not the daemon's) for N streams at
 * 1 Hz each. Reports the daemon's CPU, peak RSS, samples processed per second and whether it keeps
 * up: every batch complete, and the age of the oldest container's latest sample not growing.
 *
 *   npx tsx bench/synthetic.ts [N=1000] [poll=10s] [intervals=3]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, log, round, type TargetCheck } from './lib.js';
import { measureRun, type RunFigures } from './measure.js';

export interface SyntheticResult extends RunFigures {
  streams: number;
  poll: string;
  generatorCpuPercent: number | undefined;
  generator: { written: number; refused: number; queuedBytes: number; open: number } | undefined;
  keepsUp: boolean;
}

const ENGINE = fileURLToPath(new URL('./synthetic-engine.ts', import.meta.url));

async function one(n: number, poll: string, intervals: number): Promise<SyntheticResult> {
  log(`synthetic Engine: ${n} streams, --poll ${poll}, ${intervals} intervals`);
  const dir = mkdtempSync(join(tmpdir(), 'dstb-bench-'));
  const socket = join(dir, 'engine.sock');
  const gen = spawn(process.execPath, ['--import', 'tsx', ENGINE, socket, String(n)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  gen.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => gen.once('exit', () => r()));
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (out.includes('ready')) {
          clearInterval(t);
          resolve();
        } else if (gen.exitCode !== null) {
          clearInterval(t);
          reject(new Error('the synthetic Engine exited'));
        }
      }, 50);
    });
    const figures = await measureRun({
      args: ['--docker', `unix://${socket}`, '--poll', poll, '--stall-timeout', '60s'],
      pollMs: Number.parseInt(poll, 10) * 1000,
      intervals,
      expected: n,
      engine: false,
      otherPid: gen.pid,
    });
    gen.kill('SIGTERM');
    await exited;
    const lastLine = out.trim().split('\n').at(-1) ?? '';
    const generator = lastLine.startsWith('{') ? (JSON.parse(lastLine) as SyntheticResult['generator']) : undefined;
    return {
      streams: n,
      poll,
      ...figures,
      generatorCpuPercent: figures.otherCpuPercent,
      generator,
      keepsUp: figures.allComplete && figures.lagGrowthSeconds <= 1 && figures.ticks.every((t) => t.lagSeconds <= 2),
    };
  } finally {
    if (gen.exitCode === null) gen.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runSynthetic(
  ns: readonly number[],
  poll: string,
  intervals: number,
): Promise<{ runs: SyntheticResult[]; targets: TargetCheck[] }> {
  const runs: SyntheticResult[] = [];
  for (const n of ns) runs.push(await one(n, poll, intervals));
  const top = runs.find((r) => r.streams === 5000) ?? runs.at(-1);
  const targets = top
    ? [
        check(
          `${top.streams} synthetic streams: ≤ 35 % of one core`,
          `${top.daemonCpuPercent} %`,
          top.daemonCpuPercent <= 35,
        ),
        check(
          `${top.streams} synthetic streams: ≤ 250 MB RSS`,
          `${top.daemonPeakRssMb} MB`,
          top.daemonPeakRssMb <= 250,
        ),
        check(
          `${top.streams} synthetic streams: no lag growth`,
          `${round(top.samplesPerSecond, 0)} samples/s, lag ${top.ticks.map((t) => t.lagSeconds).join('→')} s, ` +
            (top.allComplete ? 'complete' : 'incomplete'),
          top.keepsUp,
        ),
      ]
    : [];
  return { runs, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1000);
  console.log(JSON.stringify(await runSynthetic([n], process.argv[3] ?? '10s', Number(process.argv[4] ?? 3)), null, 2));
}

/**
 * What the write-ahead spool costs: the built daemon's CPU at N real containers without and with
 * --spool-dir (on the disk the rest of the machine uses, not a tmpfs, so that fdatasync is real),
 * in one run on the same containers, alternating A B B A so that drift on the machine falls on
 * both. Prints each run's figures and the ratio of the medians. Fails nothing.
 *
 *   npx tsx bench/spool-cost.ts [N=100] [poll=10s] [intervals=6] [rounds=2]
 *   (BENCH_WARM_S as for the other benches; BENCH_SPOOL_PARENT: where the spool folder goes, /var/tmp)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestContainers } from '../test/helpers/docker.js';
import { envString, log, median, round } from './lib.js';
import { measureRun, type RunFigures } from './measure.js';

const n = Number(process.argv[2] ?? 100);
const poll = process.argv[3] ?? '10s';
const intervals = Number(process.argv[4] ?? 6);
const rounds = Number(process.argv[5] ?? 2);
const pollMs = Number.parseInt(poll, 10) * (poll.endsWith('m') ? 60_000 : 1000);

const containers = new TestContainers();
const runs: { spool: boolean; figures: RunFigures }[] = [];
try {
  log(`starting ${n} containers…`);
  await containers.startMany(0, n);
  for (let round_ = 0; round_ < rounds; round_++) {
    // A B, then B A: whatever drifts over the run (other work on the machine) falls on both.
    for (const spool of round_ % 2 === 0 ? [false, true] : [true, false]) {
      const parent = envString('BENCH_SPOOL_PARENT', '/var/tmp');
      const dir = spool ? mkdtempSync(join(parent, 'dstb-spool-cost-')) : undefined;
      log(`${n} containers, --poll ${poll}, ${spool ? `--spool-dir ${dir}` : 'no spool'}`);
      try {
        const figures = await measureRun({
          args: ['--label', containers.label, '--poll', poll, ...(dir ? ['--spool-dir', dir] : [])],
          pollMs,
          intervals,
          expected: n,
          engine: false,
        });
        runs.push({ spool, figures });
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await containers.cleanup();
}
const cpu = (spool: boolean): number[] => runs.filter((r) => r.spool === spool).map((r) => r.figures.daemonCpuPercent);
const rss = (spool: boolean): number[] => runs.filter((r) => r.spool === spool).map((r) => r.figures.daemonPeakRssMb);
const without = median(cpu(false));
const withSpool = median(cpu(true));
console.log(
  JSON.stringify(
    {
      containers: n,
      poll,
      intervals,
      rounds,
      daemonCpuPercent: { withoutSpool: cpu(false), withSpool: cpu(true) },
      peakRssMb: { withoutSpool: rss(false), withSpool: rss(true) },
      allComplete: runs.every((r) => r.figures.allComplete),
      medianRatio: round(withSpool / without, 3),
    },
    null,
    2,
  ),
);

/**
 * One build's CgroupReader against another's, on the same containers at the same moments: what a
 * change to src/cgroup/ saves per container sample, below what a whole daemon's CPU can tell apart.
 * N busybox containers (label-scoped, removed afterwards); every second each build reads all of
 * them in one round (reader.round, as the collector does), the two rounds 500 ms apart and the
 * order swapped every second, so both see the same cold caches and the same neighbours. Reported:
 * CPU µs (user + system of this process) per container sample, median and mean over the rounds.
 *
 *   npx tsx bench/cgroup-reader-ab.ts DIST_A DIST_B [N=100] [seconds=60]
 *
 * DIST_A and DIST_B are built `dist/` directories (`npm run build`), e.g. one of a `git worktree`
 * of the commit before the change.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CgroupTarget } from '../src/cgroup/locate.js';
import type { openCgroupReader as Open } from '../src/cgroup/reader.js';
import { TestContainers } from '../test/helpers/docker.js';
import { log, median, round, sleepMs } from './lib.js';

const [distA, distB] = [process.argv[2], process.argv[3]];
if (distA === undefined || distB === undefined) {
  process.stderr.write('usage: npx tsx bench/cgroup-reader-ab.ts DIST_A DIST_B [N=100] [seconds=60]\n');
  process.exit(2);
}
const N = Number(process.argv[4] ?? 100);
const SECONDS = Number(process.argv[5] ?? 60);

/** A build's reader on the containers: a function that reads them all once and returns CPU µs per sample. */
async function build(dist: string, containers: readonly { id: string; pid: number }[]): Promise<() => number> {
  const url = pathToFileURL(resolve(dist, 'cgroup/reader.js')).href;
  const { openCgroupReader } = (await import(url)) as { openCgroupReader: typeof Open };
  const opened = openCgroupReader({ hostProc: '/proc', cgroupRoot: '/sys/fs/cgroup', now: Date.now });
  if (opened.kind !== 'ready') throw new Error(`${dist}: ${JSON.stringify(opened)}`);
  const reader = opened.reader;
  const targets: CgroupTarget[] = containers.map(({ id, pid }) => {
    const located = reader.locate(id, pid);
    if (located.kind !== 'located') throw new Error(`${dist} ${id}: ${JSON.stringify(located)}`);
    return located.target;
  });
  return () => {
    const c0 = process.cpuUsage();
    reader.round(() => {
      for (const target of targets) {
        const outcome = reader.read(target);
        if (outcome.kind !== 'sample') throw new Error(`${dist}: ${JSON.stringify(outcome)}`);
      }
    });
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / targets.length;
  };
}

async function main(): Promise<void> {
  const containers = new TestContainers();
  try {
    log(`starting ${N} containers (label ${containers.label})…`);
    const ids = await containers.startMany(0, N);
    const found = await containers.initPids(ids);
    const readA = await build(distA!, found);
    const readB = await build(distB!, found);
    readA(); // warm-up: opens the kept descriptors
    readB();
    const a: number[] = [];
    const b: number[] = [];
    log(`${SECONDS} rounds of each, a second apart…`);
    for (let s = 0; s < SECONDS; s++) {
      const [first, second] = s % 2 === 0 ? [readA, readB] : [readB, readA];
      await sleepMs(500);
      const x = first();
      await sleepMs(500);
      const y = second();
      (first === readA ? a : b).push(x);
      (second === readA ? a : b).push(y);
    }
    const mean = (xs: readonly number[]): number => xs.reduce((p, q) => p + q, 0) / xs.length;
    const out = [
      `| build (${N} containers, ${SECONDS} rounds each, a round a second) | CPU µs per sample, median | mean |`,
      '|---|---|---|',
      `| A ${distA} | ${round(median(a), 1)} | ${round(mean(a), 1)} |`,
      `| B ${distB} | ${round(median(b), 1)} | ${round(mean(b), 1)} |`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    log('removing the containers…');
    await containers.cleanup();
  }
}

await main();

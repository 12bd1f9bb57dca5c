/**
 * What the kernel counters cost (src/cgroup/tick-counters.ts): CPU µs per container per tick, on
 * the real files of N real busybox containers (label-scoped, removed afterwards), against what
 * cgroup mode's per-second sample of the same containers costs (src/cgroup/reader.ts), in the
 * same run. Both paced as the daemon paces them: a tick every P seconds, a sample every second,
 * so that caches are as cold as they are in the daemon.
 *
 *   npx tsx bench/tick-counters.ts [N=100] [R=10] [P=2]
 *
 * Reported, median (range) over R reads: the first tick (each container located: /proc/<pid>/cgroup
 * and stats of its directories), later ticks, and cgroup mode's sample; and what the ticks add to
 * cgroup mode's reading at a 10 s and at the default 60 s poll.
 */
import { openCgroupReader } from '../src/cgroup/reader.js';
import { openTickCounters } from '../src/cgroup/tick-counters.js';
import type { CgroupTarget } from '../src/cgroup/locate.js';
import type { ContainerRef } from '../src/model/container.js';
import { silentLogger } from '../src/log.js';
import { TestContainers } from '../test/helpers/docker.js';
import { log, median, round, sleepMs } from './lib.js';

const N = Number(process.argv[2] ?? 100);
const R = Number(process.argv[3] ?? 10);
const P = Number(process.argv[4] ?? 2);
const paths = { hostProc: '/proc', cgroupRoot: '/sys/fs/cgroup' };

/** CPU µs (user + system of this process) that `run` takes, per container. */
function cpuPerContainer(run: () => void): number {
  const c0 = process.cpuUsage();
  run();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

const fmt = (xs: number[]): string =>
  `${round(median(xs), 1)} (${round(Math.min(...xs), 1)}–${round(Math.max(...xs), 1)})`;

async function main(): Promise<void> {
  const containers = new TestContainers();
  try {
    log(`starting ${N} containers (label ${containers.label})…`);
    const ids = await containers.startMany(0, N);
    const refs: ContainerRef[] = (await containers.initPids(ids)).map(({ id, pid }) => ({
      id,
      name: id.slice(0, 12),
      image: 'busybox',
      labels: {},
      facts: { pid },
    }));

    const first: number[] = [];
    const later: number[] = [];
    let files = 0;
    for (let r = 0; r < R; r++) {
      const opened = openTickCounters({ ...paths, now: Date.now, logger: silentLogger });
      if (opened.kind !== 'ready') throw new Error(opened.why);
      let read = new Map();
      first.push(cpuPerContainer(() => (read = opened.counters.read(refs))));
      if (read.size !== N) throw new Error(`read ${read.size} of ${N} containers`);
      // v1: memory.oom_control, memory.failcnt, cpu.cfs_quota_us; v2: memory.events, 3 *.pressure, cpu.max.
      files = read.values().next().value.pressure === undefined ? 3 : 5;
      await sleepMs(P * 1000);
      later.push(cpuPerContainer(() => opened.counters.read(refs)));
      opened.counters.close();
    }

    const reader = openCgroupReader({ ...paths, now: Date.now });
    if (reader.kind !== 'ready') throw new Error(JSON.stringify(reader));
    const targets: CgroupTarget[] = refs.map((c) => {
      const l = reader.reader.locate(c.id, c.facts.pid!);
      if (l.kind !== 'located') throw new Error(JSON.stringify(l));
      return l.target;
    });
    const sample = () =>
      reader.reader.round(() => {
        for (const t of targets) reader.reader.read(t);
      });
    sample(); // opens the descriptors it keeps
    const samples: number[] = [];
    for (let r = 0; r < R; r++) {
      await sleepMs(1000);
      samples.push(cpuPerContainer(sample));
    }
    reader.reader.close();

    const tick = median(later);
    const second = median(samples);
    const out = [
      `| ${N} containers, cgroup v${reader.reader.version}, ${files} kernel counter files ` +
        '| CPU µs per container, median (range) |',
      '|---|---|',
      `| kernel counters, first tick (located) | ${fmt(first)} |`,
      `| kernel counters, each later tick (${P} s apart) | ${fmt(later)} |`,
      `| cgroup mode's sample, each second | ${fmt(samples)} |`,
      `| added to cgroup mode's reading at --poll 10s | ${round((tick / 10 / second) * 100, 2)} % |`,
      `| added to cgroup mode's reading at --poll 60s | ${round((tick / 60 / second) * 100, 2)} % |`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    log('removing the containers…');
    await containers.cleanup();
  }
}

await main();

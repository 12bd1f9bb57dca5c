/**
 * What parsing a cgroup v1 sample costs: v1Sample (src/cgroup/kernel-sample.ts) on the texts of a
 * real container's files, captured in test/fixtures/cgroup/v1-cgroupfs. Each call gets its own
 * copies of the texts, as the reader makes a string of each file it reads.
 *
 *   npx tsx bench/cgroup-parse.ts [SECONDS=20]
 *
 * - back to back: 1,000 samples, 100 times, best of the runs (µs a sample);
 * - paced: 100 samples a second for SECONDS, as the daemon at 100 containers parses them, caches
 *   cold after each second's sleep (median µs a sample over the seconds after the first 5).
 */
import { readFileSync } from 'node:fs';
import { parseProcStat } from '../src/cgroup/kernel-files.js';
import { v1Sample, type HostTexts, type V1Texts } from '../src/cgroup/kernel-sample.js';
import { log, median, round, sleepMs } from './lib.js';

const SECONDS = Number(process.argv[2] ?? 20);
const ID = '8d922a22b3571e2bb6244a4b17d2e4a33adf953ebc77cd39dd318a66f18b9995';
const root = new URL('../test/fixtures/cgroup/v1-cgroupfs/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'latin1');
const group = (controller: string, file: string): string => read(`sys/fs/cgroup/${controller}/docker/${ID}/${file}`);

const texts: V1Texts = {
  'cpuacct.usage': group('cpuacct', 'cpuacct.usage'),
  'cpuacct.stat': group('cpuacct', 'cpuacct.stat'),
  'cpu.stat': group('cpu', 'cpu.stat'),
  'memory.usage_in_bytes': group('memory', 'memory.usage_in_bytes'),
  'memory.max_usage_in_bytes': group('memory', 'memory.max_usage_in_bytes'),
  'memory.limit_in_bytes': group('memory', 'memory.limit_in_bytes'),
  'memory.stat': group('memory', 'memory.stat'),
  blkio: group('blkio', 'blkio.throttle.io_service_bytes'),
  'pids.current': group('pids', 'pids.current'),
  'pids.max': group('pids', 'pids.max'),
};
const netDev = read('proc/25597/net/dev');
const cpu = parseProcStat(read('proc/stat'));

/** Fresh strings, as Buffer.toString gives the reader at each read. */
const copy = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');
function inputs(n: number): [V1Texts, HostTexts][] {
  return Array.from({ length: n }, () => [
    Object.fromEntries(Object.entries(texts).map(([k, v]) => [k, copy(v)])) as unknown as V1Texts,
    { cpu, netDev: copy(netDev), memTotal: 24 * 2 ** 30, readMs: Date.now() },
  ]);
}

function parseAll(batch: [V1Texts, HostTexts][]): number {
  const t0 = performance.now();
  for (const [t, h] of batch) if (v1Sample(t, h).kind !== 'values') throw new Error('the fixture did not parse');
  return ((performance.now() - t0) * 1000) / batch.length;
}

const tight: number[] = [];
for (let r = 0; r < 100; r++) tight.push(parseAll(inputs(1_000)));
log(`back to back: ${round(Math.min(...tight), 2)} µs a sample (best of 100 runs of 1,000)`);

const paced: number[] = [];
for (let s = 0; s < SECONDS; s++) {
  const batch = inputs(100);
  await sleepMs(1000);
  const us = parseAll(batch);
  if (s >= 5) paced.push(us);
}
const pacedRange = `${round(Math.min(...paced), 2)}–${round(Math.max(...paced), 2)}`;
log(`paced, 100 a second: ${round(median(paced), 2)} µs a sample (median of ${paced.length} seconds; ${pacedRange})`);

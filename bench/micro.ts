/**
 * Reducer micro-benchmark: what one stats sample costs the daemon's own code, against the floor of
 * a bare JSON.parse of the same line. The corpus is built from the captured fixture samples: C
 * containers, each replaying one fixture sample with its `read` time and counters advanced by one
 * second per step, interleaved as the Engine sends them. The pipeline is the daemon's, minus I/O:
 * per line JSON.parse + sampleValues + SampleStore.record; per tick (every K steps) take +
 * tickMetrics (the structured metrics) + CarbonPaths.points (naming) + encodeBackstopBatch. Figures are
 * samples per CPU-second (user + system) of this process.
 * Apart: what one containerPath call costs (the naming rules run once per container per tick).
 */
import { randomBytes } from 'node:crypto';
import type { ContainerRef } from '../src/model/container.js';
import { sampleReadMs, sampleValues } from '../src/docker/sample-values.js';
import type { DockerStats } from '../src/docker/stats-types.js';
import { CarbonPaths } from '../src/naming/carbon-path.js';
import { containerPath, parseRules } from '../src/naming/rules.js';
import { DEFAULT_METRIC_OPTIONS } from '../src/reduce/container-metrics.js';
import { SampleStore } from '../src/reduce/sample-store.js';
import { tickMetrics } from '../src/reduce/tick.js';
import { encodeBackstopBatch } from '../src/sinks/backstop-encode.js';
import { fixtureFiles, loadSamples } from '../test/helpers/fixtures.js';
import { check, envNumber, round, type TargetCheck } from './lib.js';

export interface MicroResult {
  containers: number;
  samplesPerTick: number;
  lines: number;
  avgLineBytes: number;
  bareParsePerSecond: number;
  pipelinePerSecond: number;
  /** Pipeline cost per sample / bare JSON.parse cost per sample. */
  ratio: number;
  /** The same with a tick after every sample (the worst case: reduce per sample). */
  reducePerSampleRatio: number;
  metricsPerTick: number;
  /** CPU µs per containerPath call: NAMING_RULES on the corpus' names and a few other shapes. */
  containerPathMicros: number;
  /** The same for HOSTILE_NAME under HOSTILE_RULE (linear in RE2, hours in a backtracking engine). */
  containerPathHostileMicros: number;
  targets: TargetCheck[];
}

/** Rules of the shapes users write: a category by prefix, named groups, the original's rewrite. */
const NAMING_RULES = JSON.stringify([
  { regexp: '^db-', category: 'database' },
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Go-style template, expanded by the daemon.
  { regexp: '^(?P<app>[a-z]+)-(?P<n>\\d+)$', into: '${app}.i${n}' },
  { regexp: '(.*)\\..*\\.(.*)\\..*', into: '$1.$2' },
]);
const HOSTILE_RULE = '{"regexp":"^([a-z0-9]+-?)+\\\\.(.*)$","into":"$2"}';
const HOSTILE_NAME = `/t1a2b3c4d-${'a'.repeat(32)}_`;

/** Advances a sample by `step` seconds: `read`, CPU and network counters grow, as a live one's do. */
function advance(base: DockerStats, baseMs: number, step: number): DockerStats {
  const s = structuredClone(base);
  s.read = new Date(baseMs + step * 1000).toISOString();
  const cpu = s.cpu_stats?.cpu_usage;
  if (cpu?.total_usage !== undefined) cpu.total_usage += step * 10_000_000;
  if (s.cpu_stats?.system_cpu_usage !== undefined) s.cpu_stats.system_cpu_usage += step * 2_000_000_000;
  for (const n of Object.values(s.networks ?? {})) {
    if (n.rx_bytes !== undefined) n.rx_bytes += step * 1000;
    if (n.tx_bytes !== undefined) n.tx_bytes += step * 500;
  }
  return s;
}

function corpus(containers: number, steps: number): { lines: string[]; refs: ContainerRef[] } {
  const bases = fixtureFiles()
    .flatMap((f) => loadSamples(f))
    .filter((s) => sampleReadMs(s) !== undefined);
  const t0 = Date.parse('2026-11-22T07:00:00Z');
  const refs: ContainerRef[] = Array.from({ length: containers }, (_, c) => ({
    id: randomBytes(32).toString('hex'),
    name: `bench.web.svc${c}.1`,
    image: 'busybox',
    labels: {},
    facts: { startedAtMs: t0 - 3_600_000, restartCount: 0 },
  }));
  const lines: string[] = [];
  for (let step = 0; step < steps; step++) {
    for (let c = 0; c < containers; c++) lines.push(JSON.stringify(advance(bases[c % bases.length]!, t0, step)));
  }
  return { lines, refs };
}

/** Runs `round` until `minMs` of wall time have passed; returns items per CPU-second. */
function measure(minMs: number, itemsPerRound: number, round: () => void): number {
  for (let i = 0; i < 3; i++) round(); // warm-up: let the JIT settle
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rounds = 0;
  while (performance.now() - t0 < minMs) {
    round();
    rounds += 1;
  }
  const used = process.cpuUsage(cpu0);
  return (rounds * itemsPerRound) / ((used.user + used.system) / 1e6);
}

/**
 * The machine's speed now: bare JSON.parse calls of the corpus' stats lines per CPU-second of
 * this process, over `ms` of wall time. The machine's speed drifts by a third within a day (its
 * host's steal and neighbours); a run's CPU figures are read beside this one.
 */
export function parseSpeed(ms = 1000): number {
  return Math.round(bareParse(corpus(100, 3).lines, ms));
}

/** Bare JSON.parse calls of `lines` per CPU-second, over `ms` of wall time: the floor. */
function bareParse(lines: readonly string[], ms: number): number {
  let keep = 0;
  const rate = measure(ms, lines.length, () => {
    for (const line of lines) keep += (JSON.parse(line) as DockerStats).read!.length;
  });
  if (keep === 0) throw new Error('unreachable');
  return rate;
}

export function runMicro(): MicroResult {
  const containers = envNumber('BENCH_MICRO_CONTAINERS', 100);
  const perTick = envNumber('BENCH_MICRO_SAMPLES_PER_TICK', 10);
  const steps = perTick * 3;
  const ms = envNumber('BENCH_MICRO_MS', 3000);
  const { lines, refs } = corpus(containers, steps);
  const rules = parseRules('{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}');
  const paths = new CarbonPaths({ rules, pathPrefix: '', hostPath: 'benchhost' });

  const bare = bareParse(lines, ms);
  let keep = 0;

  let metricsPerTick = 0;
  const pipeline = (tickEvery: number) => () => {
    // A fresh store per round: the corpus' read times start over.
    const store = new SampleStore();
    let i = 0;
    for (const line of lines) {
      store.record(refs[i % containers]!, sampleValues(JSON.parse(line) as DockerStats));
      i += 1;
      if (i % (containers * tickEvery) === 0) {
        const metrics = tickMetrics(store.take(), {
          tickSeconds: i,
          metrics: DEFAULT_METRIC_OPTIONS,
          categoryOf: (c) => paths.container(c).category,
        });
        const points = paths.points(metrics);
        metricsPerTick = points.length;
        keep += encodeBackstopBatch(points).length;
      }
    }
  };
  const full = measure(ms, lines.length, pipeline(perTick));
  const worst = measure(ms, lines.length, pipeline(1));
  if (keep === 0) throw new Error('unreachable');

  const namingRules = parseRules(NAMING_RULES);
  const names = [...refs.map((r) => r.name), '/db-main', '/web-12', '/compose_project_service_1', '/plain'];
  const naming = measure(ms / 3, names.length, () => {
    for (const name of names) keep += containerPath(namingRules, name, 'fallback').path.length;
  });
  const hostileRules = parseRules(HOSTILE_RULE);
  const hostile = measure(ms / 3, 1, () => {
    keep += containerPath(hostileRules, HOSTILE_NAME, 'fallback').path.length;
  });
  if (keep === 0) throw new Error('unreachable');

  const ratio = bare / full;
  return {
    containers,
    samplesPerTick: perTick,
    lines: lines.length,
    avgLineBytes: Math.round(lines.reduce((n, l) => n + l.length, 0) / lines.length),
    bareParsePerSecond: Math.round(bare),
    pipelinePerSecond: Math.round(full),
    ratio: round(ratio, 2),
    reducePerSampleRatio: round(bare / worst, 2),
    metricsPerTick,
    containerPathMicros: round(1e6 / naming, 2),
    containerPathHostileMicros: round(1e6 / hostile, 2),
    targets: [check('per-sample cost ≤ 3× bare JSON.parse', `${round(ratio, 2)}×`, ratio <= 3)],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(runMicro(), null, 2));

/**
 * `npm run bench`: the whole suite, after a build. Prints each target of issue 5 beside its
 * measured figure and "met" / "not met", writes bench/results/<date>.json and .md (and latest.md),
 * and fails nothing (exit 0 unless the suite itself broke). Parts and sizes are env-overridable:
 *
 *   BENCH_PARTS=micro,real,synthetic,modes,cgroup,cost   which parts to run (default these six)
 *   BENCH_PARTS=...,netdata            opt-in: against Netdata's cgroups collector (bench/netdata.ts;
 *                                      installs Debian's netdata-core if missing)
 *   BENCH_NETDATA_N=100  BENCH_NETDATA_S=60  BENCH_NETDATA_ROUNDS=1
 *   BENCH_REAL_N=10,50,100  BENCH_REAL_POLL=10s  BENCH_REAL_INTERVALS=3
 *   BENCH_SYNTH_N=1000,2000,5000  BENCH_SYNTH_POLL=10s  BENCH_SYNTH_INTERVALS=3
 *   BENCH_MODES_N=100  BENCH_MODES_POLL=60s  BENCH_MODES_INTERVALS=2
 *   BENCH_CGROUP_N=10,50,100  BENCH_CGROUP_POLL=10s  BENCH_CGROUP_INTERVALS=3
 *   BENCH_COST_N=100  BENCH_COST_POLL=10s  BENCH_COST_INTERVALS=6  BENCH_COST_ROUNDS=2
 *   BENCH_COST_MODES=stream,cgroup  BENCH_BASELINE_REF=6222ad4   this build against a baseline commit's
 *   BENCH_MICRO_MS=3000  BENCH_MICRO_CONTAINERS=100  BENCH_MICRO_SAMPLES_PER_TICK=10
 *   BENCH_WARM_S=60                    measure a daemon no sooner than this long after it connected
 *   BENCH_DAEMON_BIN=path/to/main.js   measure another build of the daemon
 *   BENCH_DAEMON_NODE_FLAGS="--max-old-space-size=128"   node flags for the daemon only
 *   BENCH_LABEL=text                   a note stored with the results
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envList, envNumber, envString, log, machine, type TargetCheck } from './lib.js';
import { runLifecycleCost, type CostSummary } from './lifecycle-cost.js';
import { runMicro, type MicroResult } from './micro.js';
import { type NetdataRow, netdataTable, runNetdata } from './netdata.js';
import { runCgroup, runModes, runReal, type RealResult } from './real-engine.js';
import { runSynthetic, type SyntheticResult } from './synthetic.js';

const parts = new Set(envString('BENCH_PARTS', 'micro,real,synthetic,modes,cgroup,cost').split(','));
const results: {
  machine: ReturnType<typeof machine>;
  label: string;
  micro?: MicroResult;
  real?: RealResult[];
  synthetic?: SyntheticResult[];
  modes?: RealResult[];
  cgroup?: RealResult[];
  cost?: CostSummary[];
  netdata?: NetdataRow[];
  targets: TargetCheck[];
  daemonNodeFlags: string;
} = {
  machine: machine(),
  label: envString('BENCH_LABEL', ''),
  targets: [],
  daemonNodeFlags: envString('BENCH_DAEMON_NODE_FLAGS', ''),
};

if (parts.has('micro')) {
  log('reducer micro-benchmark');
  results.micro = runMicro();
  results.targets.push(...results.micro.targets);
}
if (parts.has('real')) {
  const r = await runReal(
    envList('BENCH_REAL_N', [10, 50, 100]),
    envString('BENCH_REAL_POLL', '10s'),
    envNumber('BENCH_REAL_INTERVALS', 3),
  );
  results.real = r.runs;
  results.targets.push(...r.targets);
}
if (parts.has('synthetic')) {
  const r = await runSynthetic(
    envList('BENCH_SYNTH_N', [1000, 2000, 5000]),
    envString('BENCH_SYNTH_POLL', '10s'),
    envNumber('BENCH_SYNTH_INTERVALS', 3),
  );
  results.synthetic = r.runs;
  results.targets.push(...r.targets);
}
if (parts.has('modes')) {
  const r = await runModes(
    envNumber('BENCH_MODES_N', 100),
    envString('BENCH_MODES_POLL', '60s'),
    envNumber('BENCH_MODES_INTERVALS', 2),
  );
  results.modes = r.runs;
  results.targets.push(...r.targets);
}

if (parts.has('cgroup')) {
  const r = await runCgroup(
    envList('BENCH_CGROUP_N', [10, 50, 100]),
    envString('BENCH_CGROUP_POLL', '10s'),
    envNumber('BENCH_CGROUP_INTERVALS', 3),
  );
  results.cgroup = r.runs;
  results.targets.push(...r.targets);
}

if (parts.has('cost')) {
  const cost = await runLifecycleCost({
    n: envNumber('BENCH_COST_N', 100),
    poll: envString('BENCH_COST_POLL', '10s'),
    intervals: envNumber('BENCH_COST_INTERVALS', 12),
    rounds: envNumber('BENCH_COST_ROUNDS', 2),
    modes: envString('BENCH_COST_MODES', 'stream,cgroup').split(','),
  });
  results.cost = cost;
  for (const c of cost) {
    const value = Math.round((c.medianRatio - 1) * 1000) / 10;
    results.targets.push({
      target:
        `issue 27: the lifecycle metrics add at most 10 % to the daemon's CPU ` +
        `at ${envNumber('BENCH_COST_N', 100)} containers (${c.mode})`,
      measured: `${value} %`,
      met: c.medianRatio <= 1.1,
    });
  }
}

if (parts.has('netdata')) {
  results.netdata = await runNetdata(
    envNumber('BENCH_NETDATA_N', 100),
    envNumber('BENCH_NETDATA_S', 60),
    envNumber('BENCH_NETDATA_ROUNDS', 1),
  );
}

const md = markdown(results);
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const stamp = results.machine.date.replace(/[:.]/g, '-');
writeFileSync(`${dir}${stamp}.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${dir}${stamp}.md`, md);
writeFileSync(`${dir}latest.md`, md);
console.log(md);
log(`results in bench/results/${stamp}.json and .md`);

/** One row of a markdown table. */
function row(...cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function markdown(r: typeof results): string {
  const m = r.machine;
  const flags = r.daemonNodeFlags ? `; daemon run with \`node ${r.daemonNodeFlags}\`` : '';
  const lines = [
    `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC, Node ${m.node}, ${m.cores} cores (${m.cpuModel}), ` +
      `${m.memoryGb} GB${flags}${r.label ? `; ${r.label}` : ''}. Daemons measured over whole poll intervals ` +
      `from ${envNumber('BENCH_WARM_S', 60)} s after they connected (BENCH_WARM_S).`,
    '',
    "In a row: the host's steal over the window, and the machine's speed just after it (thousands of bare " +
      "JSON.parse calls of a stats line per CPU-second, the micro-benchmark's floor): this machine's speed " +
      'drifts by a third within a day, and every CPU figure with it.',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...r.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'met' : 'not met'} |`),
  ];
  if (r.micro) {
    const x = r.micro;
    lines.push(
      '',
      `Reducer, per sample (${x.containers} containers, a tick every ${x.samplesPerTick} samples each, ` +
        `${x.avgLineBytes}-byte lines): ${x.pipelinePerSecond.toLocaleString('en')} samples/s per core ` +
        'through parse + store + reduce + naming + encode, ' +
        `bare JSON.parse ${x.bareParsePerSecond.toLocaleString('en')}/s: ${x.ratio}× the floor ` +
        `(${x.reducePerSampleRatio}× with a tick after every sample).`,
      '',
      `Naming (re2js), per container per tick: ${x.containerPathMicros} µs of CPU per containerPath call ` +
        `with three typical rules; ${x.containerPathHostileMicros} µs for a 43-character name ` +
        'built to make a backtracking engine blow up.',
    );
  }
  const cpuEngine = (x: RealResult): string => `${x.engineCpuPercent} % (idle ${x.engineIdleCpuPercent} %)`;
  const ticks = (x: RealResult | SyntheticResult): string => x.ticks.map((t) => t.containers).join(', ');
  const steal = (x: RealResult | SyntheticResult): string =>
    (x.stealPercent !== undefined ? `, host steal ${x.stealPercent} %` : '') +
    (x.parsePerSecond !== undefined ? `, speed ${Math.round(x.parsePerSecond / 1000)}k` : '');
  if (r.real?.length || r.modes?.length || r.cgroup?.length) {
    lines.push(
      '',
      row(
        'real Engine',
        'daemon CPU (% of a core)',
        'daemon peak RSS (at end)',
        'Engine CPU (% of a core)',
        'host-wide (daemon + Engine)',
        'batch after tick (max)',
        'containers per batch',
      ),
      '|---|---|---|---|---|---|---|',
      ...[...(r.real ?? []), ...(r.modes ?? []), ...(r.cgroup ?? [])].map((x) =>
        row(
          `${x.containers} containers, ${x.mode}, --poll ${x.poll}${steal(x)}`,
          `${x.daemonCpuPercent} %`,
          `${x.daemonPeakRssMb} MB (${x.daemonRssAtEndMb ?? '–'})`,
          cpuEngine(x),
          `${x.hostWideCpuPercent} %`,
          `${x.maxArrivedMs} ms`,
          ticks(x),
        ),
      ),
    );
  }
  if (r.synthetic?.length) {
    lines.push(
      '',
      row(
        'synthetic Engine, 1 Hz per stream',
        'daemon CPU (% of a core)',
        'daemon peak RSS (at end)',
        'samples/s',
        'lag per tick (s)',
        'keeps up',
      ),
      '|---|---|---|---|---|---|',
      ...r.synthetic.map((x) =>
        row(
          `${x.streams.toLocaleString('en')} streams, --poll ${x.poll}${steal(x)}`,
          `${x.daemonCpuPercent} %`,
          `${x.daemonPeakRssMb} MB (${x.daemonRssAtEndMb ?? '–'})`,
          String(Math.round(x.samplesPerSecond)),
          x.ticks.map((t) => t.lagSeconds).join(', '),
          x.keepsUp ? 'yes' : 'no',
        ),
      ),
    );
  }
  if (r.netdata?.length) lines.push('', netdataTable(r.netdata));
  return `${lines.join('\n')}\n`;
}

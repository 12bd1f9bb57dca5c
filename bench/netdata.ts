/**
 * The peer users would pick instead: Netdata's cgroups collector (Debian's netdata-core 1.37, one
 * sample a second, every other plugin off) against this daemon (`--mode cgroup` and `--mode stream`,
 * `--poll 10s`) on the same N containers, one after the other with nothing else of ours running.
 * Measures each one's CPU (Netdata: its whole process tree, the plugins it forks and reaps included)
 * and the Engine's over the same window, and peak RSS. Prints a table; writes
 * bench/results/<date>-netdata.json and .md. Fails nothing. Optional part of `npm run bench`
 * (`BENCH_PARTS=...,netdata`), or alone:
 *
 *   npx tsx bench/netdata.ts [N=100] [seconds=60] [rounds=1]
 *
 * rounds=2 runs Netdata, ours, ours, Netdata (A B B A). Installs netdata-core through
 * scripts/ensure-netdata.sh; runs its own instance from a temp dir on a free loopback port, as root
 * (its cgroup-name.sh asks the Engine for each container's name), and removes it afterwards.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BIN } from '../test/helpers/daemon.js';
import { TestContainers } from '../test/helpers/docker.js';
import { engineMeter, log, machine, peakRssMb, round, sleepMs, treeMeter, treePids } from './lib.js';
import { measureRun } from './measure.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface NetdataRow {
  readonly who: 'netdata' | 'dstb';
  readonly mode: string;
  readonly cpuPercent: number;
  readonly peakRssMb: number;
  readonly engineCpuPercent: number;
  readonly measuredSeconds: number;
  /** Containers seen: Netdata's cgroup charts, or ours in every batch of the window. */
  readonly containers: number;
  /** Netdata: the charts it keeps for one container. */
  readonly charts?: readonly string[];
}

/** The proc plugin runs only for /proc/net/dev: Netdata's per-container network charts come from it. */
const PROC_MODULES = [
  '/proc/stat',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/sys/kernel/random/entropy_avail',
  '/proc/pressure',
  '/proc/interrupts',
  '/proc/softirqs',
  '/proc/vmstat',
  '/proc/meminfo',
  '/sys/kernel/mm/ksm',
  '/sys/block/zram',
  '/sys/devices/system/edac/mc',
  '/sys/devices/system/node',
  '/proc/net/wireless',
  '/proc/net/sockstat',
  '/proc/net/sockstat6',
  '/proc/net/netstat',
  '/proc/net/snmp',
  '/proc/net/snmp6',
  '/proc/net/sctp/snmp',
  '/proc/net/softnet_stat',
  '/proc/net/ip_vs/stats',
  '/sys/class/infiniband',
  '/proc/net/stat/conntrack',
  '/proc/net/stat/synproxy',
  '/proc/diskstats',
  '/proc/mdstat',
  '/proc/net/rpc/nfsd',
  '/proc/net/rpc/nfs',
  '/proc/spl/kstat/zfs/arcstats',
  '/proc/spl/kstat/zfs/pool/state',
  '/sys/fs/btrfs',
  'ipc',
  '/sys/class/power_supply',
];
const OFF_PLUGINS = [
  'diskspace',
  'tc',
  'idlejitter',
  'netdata monitoring',
  'timex',
  'checks',
  'profile',
  'statsd',
  'apps',
  'go.d',
  'python.d',
  'charts.d',
  'node.d',
  'ebpf',
  'perf',
  'slabinfo',
  'nfacct',
  'fping',
  'ioping',
  'freeipmi',
  'cups',
  'xenstat',
];

/**
 * netdata.conf: one-second updates kept in RAM for a minute; health, ML, registry, cloud off; the
 * cgroups collector reading the same cgroup v1 files as our cgroup mode.
 */
function netdataConf(dir: string, port: number): string {
  return [
    '[global]',
    '  run as user = root',
    '  hostname = dstb-bench',
    '[db]',
    '  update every = 1',
    '  mode = ram',
    '  retention = 60',
    '[directories]',
    ...['config', 'cache', 'lib', 'log', 'lock', 'home'].map((d) => `  ${d} = ${join(dir, d)}`),
    '[logs]',
    '  debug = none',
    `  error = ${join(dir, 'log/error.log')}`,
    '  access = none',
    '  health = none',
    '[web]',
    `  bind to = 127.0.0.1:${port}`,
    '[ml]',
    '  enabled = no',
    '[health]',
    '  enabled = no',
    '[registry]',
    '  enabled = no',
    '[cloud]',
    '  enabled = no',
    '[plugins]',
    '  enable running new plugins = no',
    '  cgroups = yes',
    '  proc = yes',
    ...OFF_PLUGINS.map((p) => `  ${p} = no`),
    // On a hybrid host (cgroup v1 controllers, an empty v2 tree beside them) `auto` picks the v2
    // tree and finds no memory or blkio there. `auto` charts also hide while their values are zero.
    '[plugin:cgroups]',
    '  use unified cgroups = no',
    '  enable cpuacct stat (total CPU) = yes',
    '  enable memory = yes',
    '  enable detailed memory = yes',
    '  enable blkio bandwidth = yes',
    '  enable blkio operations = yes',
    '[plugin:proc]',
    '  /proc/net/dev = yes',
    ...PROC_MODULES.map((m) => `  ${m} = no`),
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Netdata in the foreground from a temp dir; `stop` ends it (SIGTERM, then SIGKILL) and removes the dir. */
async function startNetdata(): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dstb-netdata-'));
  for (const d of ['config', 'cache', 'lib', 'log', 'lock', 'home']) mkdirSync(join(dir, d));
  const port = await freePort();
  writeFileSync(join(dir, 'config/netdata.conf'), netdataConf(dir, port));
  const child = spawn('netdata', ['-D', '-c', join(dir, 'config/netdata.conf'), '-P', join(dir, 'lock/pid')], {
    env: { ...process.env, DO_NOT_TRACK: '1' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  return { child, port, stop };
}

/**
 * The bench containers Netdata has charts for (`cgroup_<run>-c<i>.<chart>`: cgroup-name.sh names
 * them), and the charts of one of them.
 */
async function charted(port: number, run: string): Promise<{ containers: number; charts: string[] }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/charts`);
    const ids = Object.keys(((await res.json()) as { charts: Record<string, unknown> }).charts);
    const ours = ids.filter((c) => c.startsWith(`cgroup_${run}-`)).map((c) => c.split('.'));
    const first = ours[0]?.[0];
    return {
      containers: new Set(ours.map(([container]) => container)).size,
      charts: ours.filter(([container]) => container === first).map(([, chart]) => chart ?? ''),
    };
  } catch {
    return { containers: 0, charts: [] };
  }
}

async function measureNetdata(n: number, seconds: number, run: string): Promise<NetdataRow> {
  const netdata = await startNetdata();
  try {
    const pid = netdata.child.pid!;
    const until = Date.now() + 180_000;
    let seen = (await charted(netdata.port, run)).containers;
    while (Date.now() < until && seen < n) {
      await sleepMs(1000);
      seen = (await charted(netdata.port, run)).containers;
    }
    if (seen < n) log(`  netdata: charts for ${seen} of ${n} containers after 3 min; measuring anyway`);
    // Its start-up (the first look at every cgroup, a cgroup-name.sh per container) is not steady state.
    await sleepMs(30_000);
    const cpu = treeMeter(pid);
    const engine = engineMeter();
    cpu.sample();
    engine.sample();
    const t0 = performance.now();
    await sleepMs(seconds * 1000);
    const row: NetdataRow = {
      who: 'netdata',
      mode: 'cgroups, 1 s',
      cpuPercent: round(cpu.percent(), 2),
      peakRssMb: round(
        treePids(pid).reduce((sum, p) => sum + (peakRssMb(p) || 0), 0),
        1,
      ),
      engineCpuPercent: round(engine.percent(), 2),
      measuredSeconds: round((performance.now() - t0) / 1000, 1),
      ...(await charted(netdata.port, run)),
    };
    log(
      `  netdata: ${row.cpuPercent} % CPU, ${row.peakRssMb} MB peak RSS, Engine ${row.engineCpuPercent} %, ` +
        `charts per container: ${row.charts?.join(' ')}`,
    );
    return row;
  } finally {
    await netdata.stop();
  }
}

async function measureOurs(n: number, seconds: number, mode: string, label: string): Promise<NetdataRow> {
  const f = await measureRun({
    args: ['--label', label, '--poll', '10s', '--mode', mode],
    pollMs: 10_000,
    intervals: Math.max(1, Math.round(seconds / 10)),
    expected: n,
    engine: true,
  });
  return {
    who: 'dstb',
    mode: `${mode}, --poll 10s`,
    cpuPercent: f.daemonCpuPercent,
    peakRssMb: f.daemonPeakRssMb,
    engineCpuPercent: f.engineCpuPercent ?? Number.NaN,
    measuredSeconds: f.measuredSeconds,
    containers: Math.min(...f.ticks.map((t) => t.containers)),
  };
}

export function netdataTable(rows: readonly NetdataRow[]): string {
  return [
    '| who | mode | CPU (% of one core) | peak RSS | Engine CPU (same window) | containers seen |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.who === 'netdata' ? 'Netdata 1.37 cgroups' : 'docker-stats-to-backstop'} | ${r.mode} | ` +
        `${r.cpuPercent} % | ${r.peakRssMb} MB | ${r.engineCpuPercent} % | ${r.containers} |`,
    ),
  ].join('\n');
}

/** The runs, one after the other on the same containers; writes bench/results/<date>-netdata.json and .md. */
export async function runNetdata(n: number, seconds: number, rounds: number): Promise<NetdataRow[]> {
  execFileSync('bash', [join(root, 'scripts/ensure-netdata.sh')], { stdio: 'inherit' });
  const containers = new TestContainers();
  const rows: NetdataRow[] = [];
  try {
    log(`starting ${n} containers…`);
    await containers.startMany(0, n);
    for (let r = 0; r < rounds; r++) {
      const ours = async (): Promise<void> => {
        for (const mode of ['cgroup', 'stream']) {
          log(`ours: ${n} containers, --mode ${mode}, --poll 10s`);
          rows.push(await measureOurs(n, seconds, mode, containers.label));
        }
      };
      const theirs = async (): Promise<void> => {
        log(`netdata: ${n} containers, update every 1 s`);
        rows.push(await measureNetdata(n, seconds, containers.run));
      };
      if (r % 2 === 0) {
        await theirs();
        await ours();
      } else {
        await ours();
        await theirs();
      }
    }
  } finally {
    await containers.cleanup();
  }
  const m = machine();
  const table = netdataTable(rows);
  console.log(table);
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `${m.date.replace(/[:.]/g, '-')}-netdata`);
  writeFileSync(`${stem}.json`, `${JSON.stringify({ machine: m, containers: n, seconds, rounds, rows }, null, 2)}\n`);
  const charts = rows.find((r) => r.charts)?.charts?.join(', ') ?? '';
  const md = [
    `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cores} cores (${m.cpuModel}), ${n} containers, ` +
      `windows of ${seconds} s, one run after the other (${rounds} round(s)):`,
    '',
    `    npx tsx bench/netdata.ts ${n} ${seconds} ${rounds}`,
    '',
    table,
    '',
    `Netdata samples every second and keeps each container's charts (${charts}) in RAM; ours sends every 10 s.`,
    '',
  ];
  writeFileSync(`${stem}.md`, md.join('\n'));
  log(`results in ${stem}.json and .md`);
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  await runNetdata(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 60), Number(process.argv[4] ?? 1));
}

/**
 * One measured run of the built daemon (dist/main.js) posting into a local Backstop receiver:
 * warm up, then over a window of whole poll intervals measure the daemon's CPU (% of one core, from
 * /proc/<pid>/stat), its peak RSS, the Engine's CPU over the same window (real Engine only), the
 * samples it processed per second (its own `docker_stats_to_backstop.samples` counter), and per
 * tick: how long after the tick its batch arrived, how many containers it held, and how old their
 * samples were (lag). Stops the daemon and closes the receiver whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startBackstopReceiver } from '../test/helpers/backstop-receiver.js';
import { BIN } from '../test/helpers/daemon.js';
import { stealShare } from '../test/helpers/host-steal.js';
import { waitFor } from '../test/helpers/wait.js';
import { parseSpeed } from './micro.js';
import { type CpuMeter, engineMeter, envNumber, log, peakRssMb, processMeter, round, rssMb, sleepMs } from './lib.js';

export interface RunOptions {
  readonly args: readonly string[];
  readonly pollMs: number;
  /** Ticks to measure over (after the warm-up). */
  readonly intervals: number;
  /**
   * The window starts no sooner than this long after the daemon connected (and after a batch
   * held every container): what is measured is the steady state of a long-running daemon.
   * Default: `BENCH_WARM_S` (60 s).
   */
  readonly warmMs?: number;
  /** Containers every batch should hold. */
  readonly expected: number;
  /** Measure the real Engine's CPU over the window too. */
  readonly engine: boolean;
  /** Another process whose CPU to report (the synthetic Engine). */
  readonly otherPid?: number | undefined;
  /** The daemon's main.js to run: default `BENCH_DAEMON_BIN`, else dist/main.js. */
  readonly bin?: string | undefined;
}

export interface TickFigures {
  /** The tick, Unix seconds. */
  tick: number;
  containers: number;
  /** Last request of the tick's batch, ms after the tick. */
  arrivedMs: number;
  /** Tick − the oldest container's latest sample time, seconds (1 s granularity). */
  lagSeconds: number;
}

export interface RunFigures {
  measuredSeconds: number;
  daemonCpuPercent: number;
  /** VmHWM: the peak over the daemon's whole life, start-up included. */
  daemonPeakRssMb: number;
  /** VmRSS when the window ends. */
  daemonRssAtEndMb: number;
  engineCpuPercent?: number | undefined;
  otherCpuPercent?: number | undefined;
  /**
   * The host's steal time over the window, % of all its CPU time (`/proc/stat`): time the machine
   * under a virtual one took away. Every CPU figure of the window is high in proportion.
   */
  stealPercent?: number | undefined;
  /**
   * The machine's speed just after the window: bare JSON.parse calls of a stats line per
   * CPU-second (micro.ts parseSpeed; the micro-benchmark's floor is the same figure).
   */
  parsePerSecond?: number | undefined;
  samplesPerSecond: number;
  ticks: TickFigures[];
  allComplete: boolean;
  maxArrivedMs: number;
  lagGrowthSeconds: number;
}

interface Item {
  metric: string;
  value: number;
  measure_time: number;
}

/**
 * The daemon under measurement: dist/main.js, or `BENCH_DAEMON_BIN` (to compare a saved build),
 * with `BENCH_DAEMON_NODE_FLAGS` given to node (e.g. `--max-old-space-size=128`).
 */
class Daemon {
  readonly child: ChildProcess;
  output = '';
  readonly #exited: Promise<void>;

  constructor(args: readonly string[], binPath?: string) {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('SRV_') && !k.startsWith('DOCKER_')),
    );
    const nodeFlags = (process.env['BENCH_DAEMON_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
    const bin = binPath ?? (process.env['BENCH_DAEMON_BIN'] || BIN);
    this.child = spawn(process.execPath, [...nodeFlags, bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Keep only the tail: a long verbose run must not grow the bench's own memory.
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-65_536);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  waitForLog(pattern: RegExp, what: string, timeoutMs: number): Promise<true> {
    return waitFor(
      () => pattern.test(this.output),
      () => `${what}; output so far:\n${this.output}`,
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export async function measureRun(opts: RunOptions): Promise<RunFigures> {
  const receiver = await startBackstopReceiver({ prefixes: ['bench'] });
  const daemon = new Daemon(['--backstop', receiver.url({ name: 'bench' }), ...opts.args], opts.bin);
  try {
    const pid = daemon.child.pid!;
    await daemon.waitForLog(/connected to Docker/, 'the daemon to connect', 120_000);
    const connectedAt = Date.now();
    // Warm up: wait for a batch holding every container (all streams open), then measure from
    // right after the next tick.
    const pollMs = opts.pollMs;
    const nextTick = (t: number): number => (Math.floor(t / pollMs) + 1) * pollMs;
    const warmUntil = Date.now() + Math.max(120_000, 3 * pollMs);
    let seen = 0;
    const perBatch = new Map<number, Set<string>>();
    while (Date.now() < warmUntil) {
      for (const r of receiver.requests.slice(seen)) {
        const tick = Math.floor(r.at / pollMs);
        if (!perBatch.has(tick)) perBatch.set(tick, new Set());
        for (const item of r.status === 200 ? (JSON.parse(r.body) as Item[]) : []) {
          if (item.metric.endsWith('.cpu.total')) perBatch.get(tick)!.add(item.metric);
        }
      }
      seen = receiver.requests.length;
      if ([...perBatch.values()].some((c) => c.size >= opts.expected)) break;
      await sleepMs(500);
    }
    if (Date.now() >= warmUntil) log(`  warm-up: no batch held all ${opts.expected} containers; measuring anyway`);
    // And the steady state: V8 goes on compiling the daemon's hot code on its helper threads for
    // the first minute or so (a third of the daemon's CPU at 100 containers in its first 30 s).
    await sleepMs(connectedAt + (opts.warmMs ?? envNumber('BENCH_WARM_S', 60) * 1000) - Date.now());
    await sleepMs(nextTick(Date.now()) - Date.now() + 200);
    // The tick just passed may still be arriving: count only the batches of the ticks after it.
    const startTick = Math.floor(Date.now() / pollMs) * pollMs;
    const firstRequest = receiver.requests.length;
    const daemonCpu = processMeter(pid);
    const engineCpu = opts.engine ? engineMeter() : undefined;
    const otherCpu = opts.otherPid ? processMeter(opts.otherPid) : undefined;
    const meters: CpuMeter[] = [daemonCpu, ...(engineCpu ? [engineCpu] : []), ...(otherCpu ? [otherCpu] : [])];
    for (const m of meters) m.sample();
    const steal = stealShare();
    const t0 = performance.now();
    await sleepMs(opts.intervals * pollMs);
    const figures = {
      measuredSeconds: round((performance.now() - t0) / 1000, 1),
      daemonCpuPercent: round(daemonCpu.percent(), 2),
      daemonPeakRssMb: round(peakRssMb(pid), 1),
      daemonRssAtEndMb: round(rssMb(pid), 1),
      engineCpuPercent: engineCpu ? round(engineCpu.percent(), 2) : undefined,
      otherCpuPercent: otherCpu ? round(otherCpu.percent(), 2) : undefined,
      stealPercent: round(steal() * 100, 1),
      parsePerSecond: parseSpeed(),
    };
    // Let the last measured tick's batch arrive: its self-metrics come last. A one-shot batch
    // leaves about N / 8 seconds after its tick, so wait for it (up to one interval) rather than a fixed time.
    const lastTick = startTick + opts.intervals * pollMs;
    const lastArrived = (): boolean =>
      receiver.requests.some(
        (r) => r.at >= lastTick && r.status === 200 && r.body.includes('.docker_stats_to_backstop.samples'),
      );
    const waitUntil = Date.now() + Math.max(5_000, Math.min(pollMs, 60_000));
    while (!lastArrived() && Date.now() < waitUntil) await sleepMs(250);
    await sleepMs(500);

    const perTick = new Map<number, { containers: Set<string>; lastAt: number; oldest: number; samples?: number }>();
    for (const r of receiver.requests.slice(firstRequest)) {
      if (r.status !== 200) continue;
      const tick = Math.floor(r.at / pollMs) * pollMs;
      if (tick <= startTick) continue;
      let t = perTick.get(tick);
      if (!t) {
        t = { containers: new Set(), lastAt: r.at, oldest: Infinity };
        perTick.set(tick, t);
      }
      t.lastAt = Math.max(t.lastAt, r.at);
      for (const item of JSON.parse(r.body) as Item[]) {
        if (item.metric.endsWith('.docker_stats_to_backstop.samples')) t.samples = item.value;
        else if (item.metric.endsWith('.cpu.total')) {
          t.containers.add(item.metric.slice(0, -'.cpu.total'.length));
          t.oldest = Math.min(t.oldest, item.measure_time);
        }
      }
    }
    const ticks: TickFigures[] = [...perTick.entries()]
      .sort(([a], [b]) => a - b)
      .slice(0, opts.intervals)
      .map(([tick, t]) => ({
        tick: tick / 1000,
        containers: t.containers.size,
        arrivedMs: t.lastAt - tick,
        lagSeconds: Number.isFinite(t.oldest) ? tick / 1000 - t.oldest : Number.NaN,
      }));
    const counts = [...perTick.entries()].sort(([a], [b]) => a - b).map(([, t]) => t.samples);
    const first = counts[0];
    const last = counts.at(-1);
    const samplesPerSecond =
      first !== undefined && last !== undefined && counts.length > 1
        ? (last - first) / (((counts.length - 1) * pollMs) / 1000)
        : Number.NaN;
    const result = {
      ...figures,
      samplesPerSecond: round(samplesPerSecond, 1),
      ticks,
      allComplete: ticks.length > 0 && ticks.every((t) => t.containers === opts.expected),
      maxArrivedMs: Math.max(...ticks.map((t) => t.arrivedMs)),
      lagGrowthSeconds: ticks.length > 1 ? ticks.at(-1)!.lagSeconds - ticks[0]!.lagSeconds : Number.NaN,
    };
    log(
      `  daemon ${result.daemonCpuPercent} % CPU, ${result.daemonPeakRssMb} MB peak RSS ` +
        `(${result.daemonRssAtEndMb} MB at the end)` +
        (result.engineCpuPercent !== undefined ? `, Engine ${result.engineCpuPercent} % CPU` : '') +
        (result.stealPercent !== undefined ? `, host steal ${result.stealPercent} %` : '') +
        (result.parsePerSecond !== undefined
          ? `, machine speed ${result.parsePerSecond.toLocaleString('en')} JSON.parse/s`
          : '') +
        `, ${result.samplesPerSecond} samples/s, batches ` +
        ticks.map((t) => `${t.containers}@+${t.arrivedMs}ms lag ${t.lagSeconds}s`).join(' '),
    );
    return result;
  } finally {
    await daemon.stop();
    await receiver.close();
  }
}

/** Engine CPU with nothing of ours watching it: the baseline the runs are compared against. */
export async function engineIdleCpu(ms: number): Promise<number> {
  const m = engineMeter();
  m.sample();
  await sleepMs(ms);
  return round(m.percent(), 2);
}

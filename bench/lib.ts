/**
 * Shared helpers of the benchmark suite (`npm run bench`): process CPU and memory from /proc, the
 * Engine's CPU, the machine's description, env-overridable parameters and the target table.
 * Everything here only reads; nothing fails a run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux we run on). */
export const TICKS_PER_SEC = 100;

/** utime + stime (+ cutime + cstime with `children`) of one process, in clock ticks; 0 once it is gone. */
export function cpuTicks(pid: number, children = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return children ? own + Number(fields[13]) + Number(fields[14]) : own;
  } catch {
    return 0;
  }
}

/** Peak resident set (VmHWM) of a process in MB. */
export function peakRssMb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Resident set now (VmRSS) of a process in MB. */
export function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The Engine's processes: dockerd, containerd and every containerd-shim*, by /proc/<pid>/comm. */
export function enginePids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'dockerd' || comm === 'containerd' || comm.startsWith('containerd-shim')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * CPU meter over a window: call `sample()` at the start and `percent()` at the end. Processes that
 * appear in between count from 0; processes that exit in between are lost (rare: shims live as long
 * as their containers). Reaped children (runc) count through cutime/cstime.
 */
export class CpuMeter {
  readonly #pids: () => number[];
  readonly #children: boolean;
  #start = new Map<number, number>();
  #t0 = 0;

  constructor(pids: () => number[], opts: { children?: boolean } = {}) {
    this.#pids = pids;
    this.#children = opts.children ?? false;
  }

  sample(): void {
    this.#t0 = performance.now();
    this.#start = new Map(this.#pids().map((p) => [p, cpuTicks(p, this.#children)]));
  }

  /** % of one core since sample(). */
  percent(): number {
    const seconds = (performance.now() - this.#t0) / 1000;
    let ticks = 0;
    for (const pid of this.#pids()) ticks += cpuTicks(pid, this.#children) - (this.#start.get(pid) ?? 0);
    return (ticks / TICKS_PER_SEC / seconds) * 100;
  }
}

export const engineMeter = (): CpuMeter => new CpuMeter(enginePids, { children: true });
export const processMeter = (pid: number): CpuMeter => new CpuMeter(() => [pid]);

/** `root` and every process below it (by the parent PID of /proc/<pid>/stat), `root` first. */
export function treePids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ').at(-1)!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...(children.get(pids[i]!) ?? []));
  return pids;
}

/** A process tree's CPU: the live descendants of `root`, and through cutime/cstime those it reaped. */
export const treeMeter = (root: number): CpuMeter => new CpuMeter(() => treePids(root), { children: true });

export function machine(): { date: string; node: string; cores: number; cpuModel: string; memoryGb: number } {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
}

/** A number parameter from the environment (`BENCH_…`), else its default. */
export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' || !Number.isFinite(Number(v)) ? fallback : Number(v);
}

/** A list of numbers from the environment (`BENCH_REAL_N=10,50`), else the default. */
export function envList(name: string, fallback: readonly number[]): number[] {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return [...fallback];
  return v
    .split(',')
    .map(Number)
    .filter((n) => Number.isFinite(n) && n > 0);
}

export function envString(name: string, fallback: string): string {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
}

/** One target of the issue beside its measured figure. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export const check = (target: string, measured: string, met: boolean): TargetCheck => ({ target, measured, met });

export const round = (n: number, digits = 1): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

/** The middle value (the upper one of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

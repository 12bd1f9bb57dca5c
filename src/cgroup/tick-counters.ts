import * as fs from 'node:fs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContainerRef } from '../model/container.js';
import {
  PRESSURE_RESOURCES,
  type KernelCounters,
  type Pressure,
  type PressureResource,
} from '../model/kernel-counters.js';
import type { Logger } from '../log.js';
import {
  parseCfsQuota,
  parseCount,
  parseCpuMax,
  parseMemoryEvents,
  parseOomControl,
  parsePressure,
  quotaCpus,
} from './kernel-files.js';
import { detectCgroupVersion, locateContainer, type CgroupPaths, type CgroupTarget } from './locate.js';
import { errorCode } from '../errors.js';
import type { CgroupFailure } from './outcome.js';

export interface TickCountersOptions extends CgroupPaths {
  /** Epoch ms. */
  readonly now: () => number;
  readonly logger: Logger;
  /** The file calls; node:fs unless a test hands a kernfs-like one (a removed file's descriptor answers ENODEV). */
  readonly files?: KernelFileCalls;
}

/** The synchronous calls the counters' files are read with, each as its node:fs namesake. */
export interface KernelFileCalls {
  openSync(path: string): number;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

const nodeFileCalls: KernelFileCalls = {
  openSync: (path) => fs.openSync(path, 'r'),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  closeSync: (fd) => fs.closeSync(fd),
};

/** Each file's slot in a located group's paths and kept descriptors. */
const V1_FILES = ['memory.oom_control', 'memory.failcnt'] as const;
const V1_CPU_FILES = ['cpu.cfs_quota_us', 'cpu.cfs_period_us'] as const;
const V2_FILES = ['memory.events', ...PRESSURE_RESOURCES.map((r) => `${r}.pressure`), 'cpu.max'] as const;

/** What is known of a followed container's group, for the init PID it was located from. */
interface Known {
  readonly pid: number | undefined;
  /**
   * Its counter files' paths, in V1_FILES then V1_CPU_FILES order (v1) or V2_FILES order (v2), one
   * undefined where there is no such group (v1 without a cpu controller's); undefined as a whole when
   * it could not be located, or is gone.
   */
  paths: readonly (string | undefined)[] | undefined;
  /** The descriptors kept open for `paths` (-1: none), see #text. */
  readonly fds: Int32Array;
  /** The previous read's stall totals (µs) and time, for the percent over the interval. */
  previous: { readonly readMs: number; readonly someUs: readonly (number | undefined)[] } | undefined;
  /** The last counters read, given again once the group is gone (see #readOne). */
  last: KernelCounters | undefined;
}

/** Larger than any of the few-line files read here. */
const BUFFER_BYTES = 4096;

/**
 * Reads the kernel's own counters of each followed container (OOM kills, limit hits, pressure, CPU quota) once
 * per tick, in every mode, from the group that the container's init process is in. Build one with
 * openTickCounters, and only for an Engine on this host: another host's PIDs name other processes
 * here (a located group must name the container's id, so those are never mislabelled, only
 * unread). Synchronous: a few small reads of virtual files, which the kernel answers from memory.
 * The daemon calls read() at each tick, one call at a time.
 */
export class TickCounters {
  readonly #o: TickCountersOptions;
  readonly #version: 1 | 2;
  readonly #known = new Map<string, Known>();
  readonly #buf = Buffer.allocUnsafe(BUFFER_BYTES);
  readonly #files: KernelFileCalls;
  #saidUnreadable = false;
  #saidGone = false;

  /** Use openTickCounters, which checks the trees first. */
  constructor(opts: TickCountersOptions, version: 1 | 2) {
    this.#o = opts;
    this.#version = version;
    this.#files = opts.files ?? nodeFileCalls;
  }

  /**
   * The counters of each of `containers` that could be read, by container id. Forgets the
   * containers not given (no longer followed), so that memory is bounded by those followed.
   */
  read(containers: Iterable<ContainerRef>): Map<string, KernelCounters> {
    const out = new Map<string, KernelCounters>();
    const seen = new Set<string>();
    for (const c of containers) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      const counters = this.#readOne(c);
      if (counters !== undefined) out.set(c.id, counters);
    }
    for (const [id, k] of this.#known) {
      if (seen.has(id)) continue;
      this.#release(k);
      this.#known.delete(id);
    }
    return out;
  }

  /** Closes every kept descriptor (the daemon stops); a later read() opens them again. */
  close(): void {
    for (const k of this.#known.values()) this.#release(k);
    this.#known.clear();
  }

  #readOne(c: ContainerRef): KernelCounters | undefined {
    const pid = c.facts.pid;
    let k = this.#known.get(c.id);
    if (k === undefined || k.pid !== pid) {
      // Started again (or seen for the first time): its group, and its counters, are new.
      if (k !== undefined) this.#release(k);
      const target = pid === undefined ? undefined : this.#locate(c, pid);
      const paths = target === undefined ? undefined : this.#paths(target);
      k = { pid, paths, fds: new Int32Array(paths?.length ?? 0).fill(-1), previous: undefined, last: undefined };
      this.#known.set(c.id, k);
    }
    if (k.paths === undefined) return k.last;
    const readMs = this.#o.now();
    const counters = this.#version === 1 ? this.#v1(k, readMs) : this.#v2(k, readMs);
    if (counters === undefined) {
      // Its group was removed (it stopped): nothing to read until it starts again with a new PID. Its
      // last counts stand for the metrics of its last interval, so that `oom_kills` does not switch to
      // the Engine's events (another count) for one tick and seem to go back.
      this.#release(k);
      k.paths = undefined;
      k.previous = undefined;
      k.last = k.last && withoutPercent(k.last);
      return k.last;
    }
    k.last = counters;
    return counters;
  }

  /** A located group's counter files, in the order of their slots. */
  #paths(target: CgroupTarget): (string | undefined)[] {
    const { countersDir: dir, cpuDir } = target;
    if (this.#version === 2) return V2_FILES.map((f) => join(dir, f));
    return [...V1_FILES.map((f) => join(dir, f)), ...V1_CPU_FILES.map((f) => cpuDir && join(cpuDir, f))];
  }

  /** Closes the descriptors kept for a group. */
  #release(k: Known): void {
    for (let slot = 0; slot < k.fds.length; slot++) this.#drop(k.fds, slot);
  }

  #drop(fds: Int32Array, slot: number): void {
    const fd = fds[slot]!;
    if (fd < 0) return;
    fds[slot] = -1;
    try {
      this.#files.closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  #locate(c: ContainerRef, pid: number): CgroupTarget | undefined {
    const located = locateContainer(this.#o, this.#version, c.id, pid);
    if (located.kind === 'located') return located.target;
    if (located.kind === 'unreadable') this.#unreadable(c, located);
    else this.#gone(c, located.detail);
    return undefined;
  }

  /**
   * Its process has exited, or cannot be seen: a /proc that is not the host's (a daemon in a
   * container without the host's mounted) or hides other users' processes (systemd's
   * ProtectProc=invisible) looks the same. Said once at info level with what to check.
   */
  #gone(c: ContainerRef, detail: string): void {
    const level = this.#saidGone ? 'debug' : 'info';
    this.#saidGone = true;
    this.#o.logger[level](
      "no kernel counters for a container: its process is gone, or not visible in --host-proc's tree " +
        "(it must be the host's /proc, showing other users' processes)",
      { container: c.name, hostProc: this.#o.hostProc, detail },
    );
  }

  /** Said once at warn level (it will not get better by itself), at debug level after that. */
  #unreadable(c: ContainerRef, f: Extract<CgroupFailure, { kind: 'unreadable' }>): void {
    const level = this.#saidUnreadable ? 'debug' : 'warn';
    this.#saidUnreadable = true;
    this.#o.logger[level](
      "cannot read a container's kernel counters; its oom_kills, cpu.limit, memory.failcnt and pressure " +
        'metrics come from elsewhere or are left out',
      { container: c.name, error: `${f.file}: ${f.reason}` },
    );
  }

  /** undefined when the group is gone; a counter it cannot read or understand is left undefined. */
  #v1(k: Known, readMs: number): KernelCounters | undefined {
    const oomControl = this.#text(k, 0);
    if (oomControl === 'gone') return undefined;
    const failcnt = this.#text(k, 1);
    return {
      readMs,
      oomKills: oomControl === undefined ? undefined : parseOomControl(oomControl),
      memoryFailcnt: typeof failcnt === 'string' ? parseCount(failcnt) : undefined,
      memoryEvents: undefined,
      pressure: undefined,
      cpuQuotaCpus: this.#cfsQuota(k),
    };
  }

  /** v1 `cpu.cfs_quota_us` in CPUs; its period is read only when there is a quota (most have none). */
  #cfsQuota(k: Known): number | undefined {
    const quota = this.#text(k, V1_FILES.length);
    const quotaUs = typeof quota === 'string' ? parseCfsQuota(quota) : undefined;
    if (quotaUs === undefined) return undefined;
    const period = this.#text(k, V1_FILES.length + 1);
    return quotaCpus(quotaUs, typeof period === 'string' ? parseCount(period) : undefined);
  }

  #v2(k: Known, readMs: number): KernelCounters | undefined {
    const events = this.#text(k, 0);
    if (events === 'gone') return undefined;
    const memoryEvents = events === undefined ? undefined : parseMemoryEvents(events);
    const someUs: (number | undefined)[] = [];
    const pressure = {} as Record<PressureResource, Pressure>;
    for (const [i, resource] of PRESSURE_RESOURCES.entries()) {
      const text = this.#text(k, 1 + i);
      const totals = typeof text === 'string' ? parsePressure(text) : undefined;
      someUs.push(totals?.someUs);
      pressure[resource] = {
        someSeconds: seconds(totals?.someUs),
        fullSeconds: seconds(totals?.fullUs),
        somePercent: stallPercent(k.previous?.someUs[i], totals?.someUs, k.previous?.readMs, readMs),
      };
    }
    k.previous = { readMs, someUs };
    const cpuMax = this.#text(k, V2_FILES.length - 1);
    const cpuQuotaCpus = typeof cpuMax === 'string' ? parseCpuMax(cpuMax) : undefined;
    return { readMs, oomKills: memoryEvents?.oomKill, memoryFailcnt: undefined, memoryEvents, pressure, cpuQuotaCpus };
  }

  /**
   * A whole small file of the group, read at offset 0 from a descriptor kept open between ticks (opened
   * at its first read; closed when the group is gone or let go of, when a read fails, and by close()),
   * as the per-second reader keeps its files (src/cgroup/reader.ts): opening and closing three files
   * a container at every tick was most of these counters' cost. kernfs answers a kept descriptor with
   * fresh values, and with ENODEV once its file or group is removed. 'gone' when its group no longer
   * exists, undefined when it cannot be read otherwise (a kernel without it: Linux before 4.20 has no
   * pressure files, before 4.13 no `oom_kill`; a v1 container without a cpu controller's group).
   */
  #text(k: Known, slot: number): string | undefined | 'gone' {
    const path = k.paths?.[slot];
    if (path === undefined) return undefined;
    let fd = k.fds[slot]!;
    if (fd < 0) {
      try {
        fd = this.#files.openSync(path);
      } catch (err) {
        const code = errorCode(err);
        return code === 'ENODEV' || (code === 'ENOENT' && !existsSync(dirname(path))) ? 'gone' : undefined;
      }
      k.fds[slot] = fd;
    }
    try {
      const n = this.#files.readSync(fd, this.#buf, 0, BUFFER_BYTES, 0);
      return n < BUFFER_BYTES ? this.#buf.toString('latin1', 0, n) : undefined;
    } catch (err) {
      // The file is opened anew at the next read: a controller disabled (its file removed) then enabled again.
      this.#drop(k.fds, slot);
      return errorCode(err) === 'ENODEV' ? 'gone' : undefined;
    }
  }
}

/** Counters given again after their group is gone: a share of an interval they were not read in is none. */
function withoutPercent(k: KernelCounters): KernelCounters {
  if (k.pressure === undefined) return k;
  const { cpu, memory, io } = k.pressure;
  const drop = (p: Pressure): Pressure => ({ ...p, somePercent: undefined });
  return { ...k, pressure: { cpu: drop(cpu), memory: drop(memory), io: drop(io) } };
}

const seconds = (us: number | undefined): number | undefined => (us === undefined ? undefined : us / 1e6);

/**
 * Pure: the share of `fromMs`–`toMs` that the stall total grew by, 0–100, or undefined without a
 * previous read, an interval, or with a total that went back.
 */
export function stallPercent(
  fromUs: number | undefined,
  toUs: number | undefined,
  fromMs: number | undefined,
  toMs: number,
): number | undefined {
  if (fromUs === undefined || toUs === undefined || fromMs === undefined || toMs <= fromMs || toUs < fromUs)
    return undefined;
  // The reads are a moment apart from the kernel's accounting: a stall of the whole interval may show a little over.
  return Math.min(100, ((toUs - fromUs) / 1000 / (toMs - fromMs)) * 100);
}

export type OpenTickCounters =
  | { readonly kind: 'ready'; readonly counters: TickCounters }
  | { readonly kind: 'unreadable'; readonly why: string };

/**
 * A reader of the kernel counters, or why this host's trees cannot give them (a daemon in a
 * container without the host's /proc and cgroup tree mounted). Called once, at the first tick.
 */
export function openTickCounters(opts: TickCountersOptions): OpenTickCounters {
  for (const [dir, flag] of [
    [opts.hostProc, '--host-proc'],
    [opts.cgroupRoot, '--cgroup-root'],
  ] as const) {
    if (!existsSync(dir)) return { kind: 'unreadable', why: `${dir} does not exist (${flag})` };
  }
  return { kind: 'ready', counters: new TickCounters(opts, detectCgroupVersion(opts)) };
}

import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeError, errorCode } from '../errors.js';
import type { SampleValues } from '../model/sample-values.js';
import { parseBlkioV1, parseCount, parseMemTotal, parseProcStat, type HostCpu } from './kernel-files.js';
import { v1Sample, v2Sample, type V1Texts, type V2Texts } from './kernel-sample.js';
import {
  detectCgroupVersion,
  locateContainer,
  type CgroupPaths,
  type CgroupTarget,
  type LocateOutcome,
} from './locate.js';
import { gone, unreadable, type CgroupFailure } from './outcome.js';

/** Half a page: no seq_file read stops short below it (see #readFd). */
const WHOLE_BELOW = 2048;

export type SampleOutcome = { readonly kind: 'sample'; readonly values: SampleValues } | CgroupFailure;

export interface CgroupReaderOptions extends CgroupPaths {
  /** Epoch ms; a sample's `readMs` is taken just before its files are read. */
  readonly now: () => number;
}

/**
 * Reads containers' samples from the kernel: cgroup files, `/proc/<pid>/net/dev` and `/proc/stat`,
 * computed as the Engine computes its stats (kernel-sample.ts). Build one with openCgroupReader.
 *
 * Synchronous on purpose: a sample is about a dozen small reads of virtual files that never block
 * on a disk (kernfs and procfs answer from memory), each from a descriptor kept open (#readText
 * has the figures). The caller (one collector) calls read() once a second per container, one call
 * at a time, and release() when it is done with a target.
 */
export class CgroupReader {
  readonly #opts: CgroupReaderOptions;
  /** 1 or 2, detected once. */
  readonly version: 1 | 2;
  /** MemTotal in bytes (Docker's machine memory), read once; undefined if /proc/meminfo has none. */
  readonly memTotal: number | undefined;
  readonly #buf = Buffer.allocUnsafe(256 * 1024);
  /**
   * The descriptors kept open for each target's files (#readText), -1 where none is: slot 0 its
   * net/dev, then each file's and its `whenEmpty`'s (fileSlot). Held by target, not by path: a
   * sample finds its descriptors with one lookup instead of one per file. Read once a second, a
   * lookup finds cold caches, and a dozen lookups in a Map of every container's paths were a
   * sample's costliest JavaScript (docs/cgroup.md). A target's descriptors are its own: letting go
   * of a restarted container's old target never closes its new one's.
   */
  readonly #kept = new Map<CgroupTarget, Int32Array>();
  /** /proc/stat's kept descriptor, shared by every target. */
  readonly #statFd = Int32Array.of(-1);
  readonly #statPath: string;
  /** Inside round(): the host's CPU as its first sample read it, for the round's other samples. */
  #round: { cpu?: HostCpu | undefined } | undefined;

  /** Use openCgroupReader, which does the I/O this needs. */
  constructor(opts: CgroupReaderOptions, version: 1 | 2, memTotal: number | undefined) {
    this.#opts = opts;
    this.version = version;
    this.memTotal = memTotal;
    this.#statPath = join(opts.hostProc, 'stat');
  }

  /** Where a running container's files are, from its init PID (see locateContainer). */
  locate(containerId: string, pid: number): LocateOutcome {
    return locateContainer(this.#opts, this.version, containerId, pid);
  }

  /**
   * One sample of a located container: its values, or why there are none (CgroupFailure). A read
   * that gives no sample lets go of the target's files: a container that is gone and comes back
   * (same ID, so the same group paths) is read from descriptors of its new group.
   */
  read(target: CgroupTarget): SampleOutcome {
    const outcome = this.#sample(target);
    if (outcome.kind !== 'sample') this.release(target);
    return outcome;
  }

  /**
   * Runs `reads` (calls of read()) as one round: its samples share one read of /proc/stat, taken
   * with the first of them, instead of one each (a fair share of a sample's cost: docs/cgroup.md).
   * The collector reads about a tenth of its containers a round, within
   * a few milliseconds, so each container's `system_cpu_usage` is still read within those
   * milliseconds of its own files, at the same point of every second: its `cpu.percent` (a ratio of
   * two one-second deltas) does not move. Docker too reads /proc/stat apart from the group's files.
   */
  round<T>(reads: () => T): T {
    this.#round = {};
    try {
      return reads();
    } finally {
      this.#round = undefined;
    }
  }

  /** `/proc/stat`'s figures (undefined: not in its format): the round's, or read and parsed now. */
  #hostCpu(): HostCpu | undefined | CgroupFailure {
    if (this.#round && 'cpu' in this.#round) return this.#round.cpu;
    const text = this.#readProc(this.#statPath, this.#statFd, 0);
    if (typeof text !== 'string') return text;
    const cpu = parseProcStat(text);
    if (this.#round) this.#round.cpu = cpu;
    return cpu;
  }

  #sample(target: CgroupTarget): SampleOutcome {
    const readMs = this.#opts.now();
    let fds = this.#kept.get(target);
    if (fds === undefined) {
      fds = new Int32Array(1 + 2 * target.files.length).fill(-1); // net/dev, then two slots a file
      this.#kept.set(target, fds);
    }
    // net/dev first: when the group still has a process after it, it was the container's namespace.
    let netDev: string | undefined;
    if (target.netDev !== undefined) {
      const r = this.#readProc(target.netDev, fds, 0);
      if (typeof r !== 'string') return r;
      netDev = r;
    }
    const texts: Record<string, string> = {};
    for (let i = 0; i < target.files.length; i++) {
      const file = target.files[i]!;
      let r = this.#readGroupFile(file.path, fds, fileSlot(i, false));
      if (typeof r === 'string' && file.whenEmpty !== undefined && (parseBlkioV1(r)?.length ?? 1) === 0) {
        r = this.#readGroupFile(file.whenEmpty, fds, fileSlot(i, true));
      }
      if (typeof r !== 'string') return r;
      texts[file.name] = r;
    }
    // No process left in the group: the container has exited and its group is not removed yet. The
    // kept net/dev would still answer, from its namespace without the container's interfaces.
    // /proc/<pid> tells, for the rare group its process has left (a privileged container that moved
    // itself): only then does the sample go on.
    if (parseCount(texts['pids.current'] ?? '') === 0 && !existsSync(join(this.#opts.hostProc, String(target.pid)))) {
      return gone('its process has exited');
    }
    const cpu = this.#hostCpu();
    if (cpu !== undefined && 'kind' in cpu) return cpu;
    const host = { cpu, netDev, memTotal: this.memTotal, readMs };
    // The texts are keyed by the names locateContainer gave, which are V1Texts' or V2Texts' keys.
    const outcome =
      target.version === 1 ? v1Sample(texts as unknown as V1Texts, host) : v2Sample(texts as unknown as V2Texts, host);
    if (outcome.kind === 'values') return { kind: 'sample', values: outcome.values };
    const path =
      outcome.file === 'stat'
        ? this.#statPath
        : outcome.file === 'net/dev'
          ? (target.netDev ?? outcome.file)
          : (target.files.find((f) => f.name === outcome.file)?.path ?? outcome.file);
    return unreadable(path, `unexpected content: ${outcome.reason}`);
  }

  /** A file of the container's group; its absence means the group is gone only if its directory is too. */
  #readGroupFile(path: string, fds: Int32Array, slot: number): string | CgroupFailure {
    try {
      return this.#readText(path, fds, slot);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENODEV') return gone('its cgroup was removed');
      if (code === 'ENOENT') {
        return existsSync(dirname(path))
          ? unreadable(path, 'no such file, though its cgroup exists (a kernel or controller without it?)')
          : gone('its cgroup was removed');
      }
      return unreadable(path, describeError(err));
    }
  }

  /** A file of /proc: the process's files vanish with it (ENOENT, or ESRCH/ENXIO while it exits). */
  #readProc(path: string, fds: Int32Array, slot: number): string | CgroupFailure {
    try {
      return this.#readText(path, fds, slot);
    } catch (err) {
      const code = errorCode(err);
      if ((code === 'ENOENT' || code === 'ESRCH' || code === 'ENXIO') && path.endsWith('/net/dev')) {
        return gone('its process has exited');
      }
      return unreadable(path, describeError(err));
    }
  }

  /**
   * A whole file, read from the start of a descriptor kept open for it (opened at its first read,
   * closed by release() or close(), or when a read fails), because a kept descriptor read at offset 0
   * costs a fraction of opening the file each time (docs/cgroup.md, "Cost, and how files are read",
   * compares the ways of reading), and still returns fresh values from kernfs and procfs. Kept
   * (#kept): the group's files (a removed group answers ENODEV: gone), /proc/stat, and
   * /proc/<pid>/net/dev, which reads the namespace it was opened in for as long as it is open
   * (#sample sees an exit by the group's `pids.current`). A kept file pins a removed group, or an
   * exited container's namespace, until it is closed: the collector releases a container's files as
   * soon as it lets go of the container, and a read that gives no sample does. About a dozen
   * descriptors a container: Node raises its soft limit to the hard one at start.
   */
  #readText(path: string, fds: Int32Array, slot: number): string {
    let fd = fds[slot]!;
    if (fd < 0) {
      fd = openSync(path, 'r');
      fds[slot] = fd;
    }
    try {
      return this.#readFd(fd, path);
    } catch (err) {
      drop(fds, slot);
      throw err;
    }
  }

  /**
   * A descriptor's whole content, read from offset 0. procfs and kernfs files are seq_files: a
   * read returns less than asked either at the end of the file or because the kernel's page-sized
   * buffer is full (a cgroup file, one record, comes whole: its buffer grows to fit it). So a first
   * read shorter than WHOLE_BELOW bytes is the whole file, and the read that would return 0 is
   * saved: one syscall a file, 10 of a v1 sample's 24 (docs/cgroup.md).
   */
  #readFd(fd: number, path: string): string {
    let length = 0;
    for (;;) {
      const n = readSync(fd, this.#buf, length, this.#buf.length - length, length);
      if (n === 0) break;
      length += n;
      if (length === this.#buf.length) throw new Error(`${path} is larger than ${this.#buf.length} bytes`);
      if (length === n && n < WHOLE_BELOW) break;
    }
    return this.#buf.toString('latin1', 0, length);
  }

  /** Closes what was kept open for a container (it stopped, was followed anew, or fell back). */
  release(target: CgroupTarget): void {
    const fds = this.#kept.get(target);
    if (fds === undefined) return;
    this.#kept.delete(target);
    for (let slot = 0; slot < fds.length; slot++) drop(fds, slot);
  }

  /** Closes every kept descriptor (the collector stops). */
  close(): void {
    for (const target of [...this.#kept.keys()]) this.release(target);
    drop(this.#statFd, 0);
  }
}

/** The slot of a target's i-th file (or of its `whenEmpty`) in its kept descriptors; 0 is net/dev. */
const fileSlot = (i: number, whenEmpty: boolean): number => 1 + 2 * i + (whenEmpty ? 1 : 0);

/** Closes a kept descriptor, if the slot holds one. */
function drop(fds: Int32Array, slot: number): void {
  const fd = fds[slot]!;
  if (fd < 0) return;
  fds[slot] = -1;
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

export type OpenOutcome = { readonly kind: 'ready'; readonly reader: CgroupReader } | CgroupFailure;

/**
 * Checks the paths and builds a reader: detects the hierarchy, reads MemTotal. Called once when
 * the cgroup collector starts; `unreadable` means this mode cannot work on this host at all.
 */
export function openCgroupReader(opts: CgroupReaderOptions): OpenOutcome {
  const stat = join(opts.hostProc, 'stat');
  try {
    readFileSync(stat);
  } catch (err) {
    return unreadable(stat, `${describeError(err)} (is --host-proc the host's /proc?)`);
  }
  if (!existsSync(opts.cgroupRoot))
    return unreadable(opts.cgroupRoot, "no such directory (is --cgroup-root the host's cgroup tree?)");
  let memTotal: number | undefined;
  try {
    memTotal = parseMemTotal(readFileSync(join(opts.hostProc, 'meminfo'), 'latin1'));
  } catch {
    memTotal = undefined;
  }
  return { kind: 'ready', reader: new CgroupReader(opts, detectCgroupVersion(opts), memTotal) };
}

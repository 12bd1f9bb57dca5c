import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SampleValues } from '../docker/sample-values.js';
import { parseBlkioV1, parseMemTotal } from './kernel-files.js';
import { v1Sample, v2Sample, type V1Texts, type V2Texts } from './kernel-sample.js';
import { detectCgroupVersion, locateContainer, type CgroupPaths, type CgroupTarget, type LocateOutcome } from './locate.js';
import { errorCode, errorReason, gone, unreadable, type CgroupFailure } from './outcome.js';

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
 * on a disk (kernfs and procfs answer from memory), about 150 µs of CPU in all (#readText has the
 * figures). The caller (one collector) calls read() once a second per container, one call at a
 * time; nothing is kept between calls, so targets can be dropped without any release.
 */
export class CgroupReader {
  readonly #opts: CgroupReaderOptions;
  /** 1 or 2, detected once. */
  readonly version: 1 | 2;
  /** MemTotal in bytes (Docker's machine memory), read once; undefined if /proc/meminfo has none. */
  readonly memTotal: number | undefined;
  readonly #buf = Buffer.allocUnsafe(64 * 1024);

  /** Use openCgroupReader, which does the I/O this needs. */
  constructor(opts: CgroupReaderOptions, version: 1 | 2, memTotal: number | undefined) {
    this.#opts = opts;
    this.version = version;
    this.memTotal = memTotal;
  }

  /** Where a running container's files are, from its init PID (see locateContainer). */
  locate(containerId: string, pid: number): LocateOutcome {
    return locateContainer(this.#opts, this.version, containerId, pid);
  }

  /** One sample of a located container: its values, or why there are none (CgroupFailure). */
  read(target: CgroupTarget): SampleOutcome {
    const readMs = this.#opts.now();
    // net/dev first: when the group files are still there after it, it was the container's process.
    let netDev: string | undefined;
    if (target.netDev !== undefined) {
      const r = this.#readProc(target.netDev);
      if (typeof r !== 'string') return r;
      netDev = r;
    }
    const texts: Record<string, string> = {};
    for (const file of target.files) {
      let r = this.#readGroupFile(file.path);
      if (typeof r === 'string' && file.whenEmpty !== undefined && (parseBlkioV1(r)?.length ?? 1) === 0) {
        r = this.#readGroupFile(file.whenEmpty);
      }
      if (typeof r !== 'string') return r;
      texts[file.name] = r;
    }
    const statPath = join(this.#opts.hostProc, 'stat');
    const procStat = this.#readProc(statPath);
    if (typeof procStat !== 'string') return procStat;
    const host = { procStat, netDev, memTotal: this.memTotal, readMs };
    // The texts are keyed by the names locateContainer gave, which are V1Texts' or V2Texts' keys.
    const outcome =
      target.version === 1 ? v1Sample(texts as unknown as V1Texts, host) : v2Sample(texts as unknown as V2Texts, host);
    if (outcome.kind === 'values') return { kind: 'sample', values: outcome.values };
    const path =
      outcome.file === 'stat' ? statPath
      : outcome.file === 'net/dev' ? (target.netDev ?? outcome.file)
      : (target.files.find((f) => f.name === outcome.file)?.path ?? outcome.file);
    return unreadable(path, `unexpected content: ${outcome.reason}`);
  }

  /** A file of the container's group; its absence means the group is gone only if its directory is too. */
  #readGroupFile(path: string): string | CgroupFailure {
    try {
      return this.#readText(path);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENODEV') return gone('its cgroup was removed');
      if (code === 'ENOENT') {
        return existsSync(dirname(path))
          ? unreadable(path, 'no such file, though its cgroup exists (a kernel or controller without it?)')
          : gone('its cgroup was removed');
      }
      return unreadable(path, errorReason(err));
    }
  }

  /** A file of /proc: the process's files vanish with it (ENOENT, or ESRCH/ENXIO while it exits). */
  #readProc(path: string): string | CgroupFailure {
    try {
      return this.#readText(path);
    } catch (err) {
      const code = errorCode(err);
      if ((code === 'ENOENT' || code === 'ESRCH' || code === 'ENXIO') && path.endsWith('/net/dev')) {
        return gone('its process has exited');
      }
      return unreadable(path, errorReason(err));
    }
  }

  /**
   * A whole file: open, read into the reader's buffer until EOF, close. Measured with
   * bench/cgroup-read.ts on 100 real containers (cgroup v1, 12 files a sample, Linux 6.18, Node 20,
   * 2 shared and busy cores), CPU µs per container sample: the medians of three runs of 5 repeats
   * each, and the range over all 15 (bench/results/2026-11-30T23-11-cgroup-read.md):
   *
   *   fs.readFileSync                 233, 255, 259  (192–360)
   *   open + read + close (this)       98, 106, 120  (89–154)
   *     the same, parsing included     149, 142, 126  (110–217)   (the whole read())
   *   kept fd + pread at offset 0      40,  50,  51  (30–58)
   *   fs.promises.readFile          1150, 1291, 1228 (853–1680)
   *   kept FileHandle + read at 0     231, 228, 239  (179–353)
   *
   * Kept descriptors would save about 60 µs a sample (0.6 % of a core at 100 containers) but are
   * not worth what they cost: pread at 0 does return fresh values from kernfs and procfs, yet a kept
   * /proc/<pid>/net/dev goes on reading the exited process's namespace without an error (and pins
   * it), a kept cgroup file pins a removed cgroup until closed (ENODEV from then on), 11 descriptors
   * a container pass a 1024 soft limit near 90 containers, and the collector would have to release
   * every target. Re-opening keeps read() stateless. The promise-based reads cost 2-10× more CPU
   * for files that never block.
   */
  #readText(path: string): string {
    const fd = openSync(path, 'r');
    try {
      let length = 0;
      for (;;) {
        const n = readSync(fd, this.#buf, length, this.#buf.length - length, null);
        if (n === 0) break;
        length += n;
        if (length === this.#buf.length) return this.#buf.toString('latin1') + readFileSync(fd, 'latin1');
      }
      return this.#buf.toString('latin1', 0, length);
    } finally {
      closeSync(fd);
    }
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
    return unreadable(stat, `${errorReason(err)} (is --host-proc the host's /proc?)`);
  }
  if (!existsSync(opts.cgroupRoot)) return unreadable(opts.cgroupRoot, 'no such directory (is --cgroup-root the host\'s cgroup tree?)');
  let memTotal: number | undefined;
  try {
    memTotal = parseMemTotal(readFileSync(join(opts.hostProc, 'meminfo'), 'latin1'));
  } catch {
    memTotal = undefined;
  }
  return { kind: 'ready', reader: new CgroupReader(opts, detectCgroupVersion(opts), memTotal) };
}

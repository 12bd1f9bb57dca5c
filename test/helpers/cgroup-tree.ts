import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CgroupPaths } from '../../src/cgroup/locate.js';
import type { KernelFileCalls } from '../../src/cgroup/tick-counters.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/cgroup/', import.meta.url));

/**
 * A fake host for the cgroup reader in a temporary directory: `proc/` stands for the host's /proc
 * and `sys/fs/cgroup/` for its cgroup tree. Built from a captured fixture and/or files written
 * by the test; `remove` deletes it.
 */
export class CgroupTree {
  readonly root = mkdtempSync(join(tmpdir(), 'dstb-cgroup-'));
  readonly paths: CgroupPaths = { hostProc: join(this.root, 'proc'), cgroupRoot: join(this.root, 'sys/fs/cgroup') };

  /** Copies test/fixtures/cgroup/<name>/{proc,sys} into the tree. */
  fixture(name: string): this {
    for (const part of ['proc', 'sys']) cpSync(join(FIXTURES, name, part), join(this.root, part), { recursive: true });
    return this;
  }

  /** Writes files, relative to the tree's root, creating their directories. */
  write(files: Record<string, string>): this {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.root, path)), { recursive: true });
      writeFileSync(join(this.root, path), text);
    }
    return this;
  }

  /**
   * A v1 container's OOM and limit-hit counters, under the memory controller of Docker's cgroupfs
   * driver (`memory/docker/<id>`), in the kernel's formats; with `cfsQuotaUs`, its CFS quota
   * (-1 for none) and a period of 100 ms under the cpu controller (`cpu/docker/<id>`).
   */
  v1Counters(id: string, c: { oomKill: number; failcnt: number; cfsQuotaUs?: number }): this {
    const dir = `sys/fs/cgroup/memory/docker/${id}`;
    const cpu = `sys/fs/cgroup/cpu/docker/${id}`;
    return this.write({
      [`${dir}/memory.oom_control`]: oomControl(c.oomKill),
      [`${dir}/memory.failcnt`]: `${c.failcnt}\n`,
      ...(c.cfsQuotaUs === undefined
        ? {}
        : { [`${cpu}/cpu.cfs_quota_us`]: `${c.cfsQuotaUs}\n`, [`${cpu}/cpu.cfs_period_us`]: '100000\n' }),
    });
  }

  /**
   * A v2 group's `memory.events` and the three `*.pressure` files (the `full` line left out where
   * a total is undefined, as older kernels' cpu.pressure does), and `cpu.max` where given, in the
   * kernel's formats.
   */
  v2Counters(group: string, c: V2Counters): this {
    const dir = `sys/fs/cgroup/${group}`;
    return this.write({
      [`${dir}/memory.events`]: memoryEvents(c.events),
      [`${dir}/cpu.pressure`]: pressure(c.cpu[0], c.cpu[1]),
      [`${dir}/memory.pressure`]: pressure(c.memory[0], c.memory[1]),
      [`${dir}/io.pressure`]: pressure(c.io[0], c.io[1]),
      ...(c.cpuMax === undefined ? {} : { [`${dir}/cpu.max`]: cpuMax(...c.cpuMax) }),
    });
  }

  /** An absolute path in the tree. */
  at(path: string): string {
    return join(this.root, path);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * File calls that answer for a constructed tree as kernfs does for the real one: a descriptor kept
 * open on a file that has since been removed (with its group, or a controller disabled) answers
 * ENODEV, where a regular file would go on answering its old content. Knows which descriptors are open.
 */
export class KernfsLike implements KernelFileCalls {
  /** Open descriptors, and their paths. */
  readonly open = new Map<number, string>();
  opened = 0;

  openSync(path: string): number {
    const fd = openSync(path, 'r');
    this.open.set(fd, path);
    this.opened += 1;
    return fd;
  }

  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    const path = this.open.get(fd);
    if (path !== undefined && !existsSync(path))
      throw Object.assign(new Error('ENODEV: no such device, read'), { code: 'ENODEV' });
    return readSync(fd, buffer, offset, length, position);
  }

  closeSync(fd: number): void {
    this.open.delete(fd);
    closeSync(fd);
  }
}

/** A fixture's own file (engine-before.json, container, …). */
export function fixtureText(name: string, file: string): string {
  return readFileSync(join(FIXTURES, name, file), 'utf8');
}

/** The counters of a v2 group's files: memory.events, and each resource's `some` and `full` totals in µs. */
export interface V2Counters {
  readonly events: { low: number; high: number; max: number; oom: number; oomKill: number };
  readonly cpu: readonly [some: number, full: number | undefined];
  readonly memory: readonly [some: number, full: number | undefined];
  readonly io: readonly [some: number, full: number | undefined];
  /** `cpu.max`'s quota (`max` for none) and period, µs. */
  readonly cpuMax?: readonly [quota: number | 'max', period: number];
}

/** cgroup v1 `memory.oom_control` as Linux 4.13 and later write it. */
export const oomControl = (oomKill: number): string => `oom_kill_disable 0\nunder_oom 0\noom_kill ${oomKill}\n`;

/** cgroup v2 `memory.events` (Linux 5.17 and later add `oom_group_kill`). */
export const memoryEvents = (e: V2Counters['events']): string =>
  `low ${e.low}\nhigh ${e.high}\nmax ${e.max}\noom ${e.oom}\noom_kill ${e.oomKill}\noom_group_kill 0\n`;

/** A PSI file: the averages are the kernel's own windows, the totals are µs. */
export const pressure = (someUs: number, fullUs: number | undefined): string =>
  `some avg10=1.52 avg60=0.87 avg300=0.23 total=${someUs}\n` +
  (fullUs === undefined ? '' : `full avg10=0.00 avg60=0.00 avg300=0.00 total=${fullUs}\n`);

/** cgroup v2 `cpu.max`: `max 100000` without a quota, `150000 100000` for 1.5 CPUs. */
export const cpuMax = (quotaUs: number | 'max', periodUs: number): string => `${quotaUs} ${periodUs}\n`;

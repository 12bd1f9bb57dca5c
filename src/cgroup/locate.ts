import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, errorCode } from '../errors.js';
import { gone, unreadable, type CgroupFailure } from './outcome.js';
import { parseProcCgroup, type ProcCgroupEntry } from './proc-cgroup.js';

/** Where the host's kernel interfaces are, as the daemon sees them. */
export interface CgroupPaths {
  /** `--host-proc`: the host's procfs (default `/proc`; a bind mount of it when run in a container). */
  readonly hostProc: string;
  /** `--cgroup-root`: the host's cgroup tree (default `/sys/fs/cgroup`). */
  readonly cgroupRoot: string;
}

/** The cgroup v1 controllers a sample reads. */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'] as const;
type V1Controller = (typeof V1_CONTROLLERS)[number];

/** One file a sample reads, under the name kernel-sample.ts knows it by. */
export interface SampleFile {
  readonly name: string;
  readonly path: string;
  /**
   * Read instead when `path` holds no entry: cgroup v1 block I/O, where Docker (containerd's blkio
   * controller) reads CFQ's `blkio.io_service_bytes_recursive` when the kernel has CFQ and falls
   * back to `blkio.throttle.io_service_bytes` when CFQ has nothing for the group.
   */
  readonly whenEmpty?: string;
}

/** Everything a sample of one running container is read from; valid for the life of its init process. */
export interface CgroupTarget {
  readonly containerId: string;
  readonly pid: number;
  readonly version: 1 | 2;
  /** The group's files, in the order they are read. */
  readonly files: readonly SampleFile[];
  /**
   * Where the kernel's OOM, limit-hit and pressure counters are (tick-counters.ts): the group of
   * the memory controller (v1), or the container's one group (v2).
   */
  readonly countersDir: string;
  /** Where the CPU quota is (tick-counters.ts): the group of the cpu controller (v1), or the one group (v2). */
  readonly cpuDir: string;
  /**
   * `<host-proc>/<pid>/net/dev`, or undefined when the container shares the host's network
   * namespace (`--network host`): the Engine reports no `networks` for it then.
   */
  readonly netDev: string | undefined;
}

/** The v1 files of a sample, by controller (the block I/O file is chosen in locateContainer). */
const V1_FILES: readonly (readonly [V1Controller, string])[] = [
  ['cpuacct', 'cpuacct.usage'],
  ['cpuacct', 'cpuacct.stat'],
  ['cpu', 'cpu.stat'],
  ['memory', 'memory.usage_in_bytes'],
  ['memory', 'memory.max_usage_in_bytes'],
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.stat'],
  ['pids', 'pids.current'],
  ['pids', 'pids.max'],
];

const V2_FILES = [
  'cpu.stat',
  'memory.current',
  'memory.max',
  'memory.stat',
  'io.stat',
  'pids.current',
  'pids.max',
] as const;

const CFQ_BYTES = 'blkio.io_service_bytes_recursive';
const THROTTLE_BYTES = 'blkio.throttle.io_service_bytes';

export type LocateOutcome = { readonly kind: 'located'; readonly target: CgroupTarget } | CgroupFailure;

/**
 * Which hierarchy the Engine reads stats from: v2 when the root is the unified hierarchy itself
 * (only a cgroup2 root has `cgroup.controllers`), else v1, hybrid hosts included (v1 controllers,
 * and a unified tree under `unified/` without the controllers stats need). containerd's
 * cgroups.Mode(), which decides for Docker, asks the same question of the root's filesystem type.
 * Called once, when the collector starts.
 */
export function detectCgroupVersion(paths: CgroupPaths): 1 | 2 {
  return existsSync(join(paths.cgroupRoot, 'cgroup.controllers')) ? 2 : 1;
}

/**
 * Finds a running container's group from its init process (`State.Pid` of inspect). Called when
 * the container starts, and again after its target reported `gone` if it is still running.
 * Synchronous: a handful of small reads of /proc and stats of directories.
 *
 * The group is the deepest part of the process's path that names the container id (Docker puts it
 * in every group it creates: `/docker/<id>`, `/system.slice/docker-<id>.scope`, a
 * `--cgroup-parent` followed by the id), so a container whose init moved itself into a sub-group
 * is still read as a whole, and a PID that now belongs to another process is recognised (`gone`).
 * From a private cgroup namespace the group of another container shows as `/../…`; then Docker's
 * two default places are tried (`docker/<id>` of the cgroupfs driver, `system.slice/docker-<id>.scope`
 * of the systemd driver) and anything else is `unreadable` (run the daemon with `--cgroupns=host`).
 */
export function locateContainer(paths: CgroupPaths, version: 1 | 2, containerId: string, pid: number): LocateOutcome {
  if (!Number.isInteger(pid) || pid <= 0) return gone(`no init process (pid ${pid})`);
  const procFile = join(paths.hostProc, String(pid), 'cgroup');
  let entries: ProcCgroupEntry[];
  try {
    entries = parseProcCgroup(readFileSync(procFile, 'utf8'));
  } catch (err) {
    const code = errorCode(err);
    return code === 'ENOENT' || code === 'ESRCH'
      ? gone(`process ${pid} has exited`)
      : unreadable(procFile, describeError(err));
  }

  let files: SampleFile[];
  let someDir: string;
  let cpuDir: string;
  if (version === 2) {
    const entry = entries.find((e) => e.hierarchyId === 0 && e.controllers.length === 0);
    if (!entry) return unreadable(procFile, 'no cgroup v2 line (0::…): the host is not on the unified hierarchy');
    const found = groupDir(paths.cgroupRoot, entry.path, containerId);
    if (typeof found === 'string')
      return found === 'not-this-container' ? notThisContainer(pid, containerId) : outside(procFile, entry.path);
    const dir = found.dir;
    files = V2_FILES.map((name) => ({ name, path: join(dir, name) }));
    someDir = dir;
    cpuDir = dir;
  } else {
    const dirs: Partial<Record<V1Controller, string>> = {};
    for (const controller of V1_CONTROLLERS) {
      const entry = entries.find((e) => e.controllers.includes(controller));
      if (!entry)
        return unreadable(procFile, `no cgroup v1 hierarchy has the ${controller} controller (a kernel without it?)`);
      const mount = controllerMount(paths.cgroupRoot, entry.controllers, controller);
      if (mount === undefined) {
        return unreadable(
          paths.cgroupRoot,
          `no mount of the ${controller} controller ` +
            `(looked for ${mountNames(entry.controllers, controller).join(', ')})`,
        );
      }
      const found = groupDir(mount, entry.path, containerId);
      if (typeof found === 'string')
        return found === 'not-this-container' ? notThisContainer(pid, containerId) : outside(procFile, entry.path);
      dirs[controller] = found.dir;
    }
    const d = dirs as Record<V1Controller, string>;
    files = V1_FILES.map(([controller, name]) => ({ name, path: join(d[controller], name) }));
    const throttle = join(d.blkio, THROTTLE_BYTES);
    files.push(
      existsSync(join(d.blkio, 'blkio.io_serviced_recursive'))
        ? { name: 'blkio', path: join(d.blkio, CFQ_BYTES), whenEmpty: throttle }
        : { name: 'blkio', path: throttle },
    );
    someDir = d.memory;
    cpuDir = d.cpu;
  }

  if (!isDirectory(someDir)) {
    // The process said its group is there: it exited meanwhile, or the tree is not the host's.
    if (!existsSync(join(paths.hostProc, String(pid)))) return gone(`process ${pid} has exited`);
    return unreadable(someDir, `not found: is --cgroup-root (${paths.cgroupRoot}) the host's cgroup tree?`);
  }
  const netDev = netDevOf(paths.hostProc, pid);
  return { kind: 'located', target: { containerId, pid, version, files, countersDir: someDir, cpuDir, netDev } };
}

const notThisContainer = (pid: number, id: string): CgroupFailure =>
  gone(`process ${pid} is not in a cgroup of container ${id.slice(0, 12)} (it exited and the PID was reused?)`);

const outside = (file: string, path: string): CgroupFailure =>
  unreadable(
    file,
    `the group ${path} is outside this process's cgroup namespace and not in Docker's default places: ` +
      'run the daemon with --cgroupns=host',
  );

/**
 * The directory of the container's group under a hierarchy mounted at `mount`, from the path
 * `/proc/<pid>/cgroup` gave: 'not-this-container' when no part of it names the container,
 * 'outside' when it lies outside the reader's cgroup namespace and Docker's default places do not
 * exist either.
 */
function groupDir(
  mount: string,
  path: string,
  containerId: string,
): { dir: string } | 'not-this-container' | 'outside' {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments[0] === '..') {
    for (const candidate of [`docker/${containerId}`, `system.slice/docker-${containerId}.scope`]) {
      const dir = join(mount, candidate);
      if (isDirectory(dir)) return { dir };
    }
    return 'outside';
  }
  let last = -1;
  segments.forEach((s, i) => {
    if (s.includes(containerId)) last = i;
  });
  return last < 0 ? 'not-this-container' : { dir: join(mount, ...segments.slice(0, last + 1)) };
}

/** Directory names a v1 hierarchy of `controllers` may be mounted under (`cpu,cpuacct`, `cpuacct`, `cpu`). */
function mountNames(controllers: readonly string[], controller: string): string[] {
  return [...new Set([controllers.join(','), controller, ...controllers])];
}

/** The first of mountNames under the root that is a directory (a symlink to one counts). */
function controllerMount(root: string, controllers: readonly string[], controller: string): string | undefined {
  return mountNames(controllers, controller)
    .map((name) => join(root, name))
    .find(isDirectory);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The process's `net/dev`, or undefined when its network namespace is the host's. Each network
 * namespace has its own `net/dev` proc entry, so the two inode numbers are equal exactly when the
 * namespaces are; unlike `ns/net`, stat needs no privilege over the process. When the comparison
 * cannot be made the file is kept, and reading it tells what is wrong.
 */
function netDevOf(hostProc: string, pid: number): string | undefined {
  const file = join(hostProc, String(pid), 'net', 'dev');
  try {
    const own = statSync(file);
    const host = statSync(join(hostProc, '1', 'net', 'dev'));
    return own.ino === host.ino && own.dev === host.dev ? undefined : file;
  } catch {
    return file;
  }
}

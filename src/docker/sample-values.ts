import { hasPodmanPseudoInterface, isPodmanSample } from './podman.js';
import { NETWORK_FIELDS, type BlkioEntry, type DockerStats, type NetworkCounters } from './stats-types.js';

/** One interface's counters (`networks.<name>`), under the name the Engine gave it. */
export interface InterfaceValues {
  readonly name: string;
  readonly counters: NetworkCounters;
}

/** Bytes of one block I/O op, summed over the entries of each device and over all devices. */
export interface BlkioValues {
  readonly total: number;
  /** In the order the devices first appear; `major`/`minor` undefined when the entry lacks them. */
  readonly perDevice: readonly { readonly major: number | undefined; readonly minor: number | undefined; readonly bytes: number }[];
}

/**
 * The sample's `read` time in epoch milliseconds, or undefined when the sample is not a real
 * measurement: a stopped container's stream keeps sending samples with `read` =
 * `0001-01-01T00:00:00Z` (docs/architecture.md §2), and those must never become metrics.
 */
export function sampleReadMs(sample: DockerStats): number | undefined {
  if (typeof sample.read !== 'string') return undefined;
  const ms = Date.parse(sample.read);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * What the reducer needs of one real stats sample: the handful of numbers it reports or computes
 * with, read once when the sample arrives, so that the sample's parsed JSON (hundreds of objects)
 * is garbage at once instead of being held until the tick. Every number is finite; a field the
 * sample lacks (or sends as anything but a finite number) is undefined, never 0.
 */
export interface SampleValues {
  /** `read`, epoch ms. */
  readonly readMs: number;
  /** Sent by Podman's Docker-compatible API (its CPU % needs wall-clock time: podman.ts). */
  readonly podman: boolean;
  readonly cpuSystem: number | undefined;
  readonly cpuTotal: number | undefined;
  readonly cpuKernel: number | undefined;
  readonly cpuUser: number | undefined;
  /** `online_cpus`, falling back to the length of `percpu_usage` (cgroup v1, old Engines). */
  readonly cpuOnline: number | undefined;
  readonly throttledPeriods: number | undefined;
  readonly throttledTime: number | undefined;
  readonly memoryUsage: number | undefined;
  readonly memoryMaxUsage: number | undefined;
  readonly memoryLimit: number | undefined;
  /** `stats.total_cache` (v1) or `stats.file` (v2). */
  readonly memoryCache: number | undefined;
  /** `stats.total_inactive_file` (v1) or `stats.inactive_file` (v2). */
  readonly memoryInactiveFile: number | undefined;
  /** `stats.total_rss` (v1) or `stats.anon` (v2). */
  readonly memoryRss: number | undefined;
  readonly memoryPgfault: number | undefined;
  readonly memoryPgmajfault: number | undefined;
  /** Summed over every interface (a field no interface reports is left out); undefined without any. */
  readonly network: NetworkCounters | undefined;
  /** The real interfaces: none for the flat `network` object of API < 1.21 or Podman's pseudo-interface. */
  readonly interfaces: readonly InterfaceValues[];
  /** `io_service_bytes_recursive` by op (case-insensitive); undefined when no entry has that op. */
  readonly blkioRead: BlkioValues | undefined;
  readonly blkioWrite: BlkioValues | undefined;
  readonly pidsCurrent: number | undefined;
  readonly pidsLimit: number | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const NO_INTERFACES: readonly InterfaceValues[] = Object.freeze([]);

/**
 * Pure: the values of one Engine stats sample, or undefined when it is not a real measurement (a
 * stopped container's placeholder, see sampleReadMs). Called by the collectors for every sample,
 * so that the Engine's JSON shapes go no further than src/docker/.
 */
export function sampleValues(sample: DockerStats): SampleValues | undefined {
  const readMs = sampleReadMs(sample);
  if (readMs === undefined) return undefined;
  const cpu = sample.cpu_stats;
  const mem = sample.memory_stats;
  const stats = mem?.stats;
  const { network, interfaces } = networkValues(sample);
  const blkio = sample.blkio_stats?.io_service_bytes_recursive;
  return {
    readMs,
    podman: isPodmanSample(sample),
    cpuSystem: num(cpu?.system_cpu_usage),
    cpuTotal: num(cpu?.cpu_usage?.total_usage),
    cpuKernel: num(cpu?.cpu_usage?.usage_in_kernelmode),
    cpuUser: num(cpu?.cpu_usage?.usage_in_usermode),
    cpuOnline: onlineCpus(cpu?.online_cpus, cpu?.cpu_usage?.percpu_usage),
    throttledPeriods: num(cpu?.throttling_data?.throttled_periods),
    throttledTime: num(cpu?.throttling_data?.throttled_time),
    memoryUsage: num(mem?.usage),
    memoryMaxUsage: num(mem?.max_usage),
    memoryLimit: num(mem?.limit),
    memoryCache: num(stats?.['total_cache'] ?? stats?.['file']),
    memoryInactiveFile: num(stats?.['total_inactive_file']) ?? num(stats?.['inactive_file']),
    memoryRss: num(stats?.['total_rss'] ?? stats?.['anon']),
    memoryPgfault: num(stats?.['total_pgfault'] ?? stats?.['pgfault']),
    memoryPgmajfault: num(stats?.['total_pgmajfault'] ?? stats?.['pgmajfault']),
    network,
    interfaces,
    blkioRead: Array.isArray(blkio) ? blkioValues(blkio, 'read') : undefined,
    blkioWrite: Array.isArray(blkio) ? blkioValues(blkio, 'write') : undefined,
    pidsCurrent: num(sample.pids_stats?.current),
    pidsLimit: num(sample.pids_stats?.limit),
  };
}

function onlineCpus(online: unknown, percpu: unknown): number | undefined {
  const n = num(online);
  if (n !== undefined && n > 0) return n;
  return Array.isArray(percpu) && percpu.length > 0 ? percpu.length : undefined;
}

/** A copy of an interface's counters with only its finite numbers. */
function counterValues(c: NetworkCounters): NetworkCounters {
  const out: NetworkCounters = {};
  for (const field of NETWORK_FIELDS) {
    const v = num(c[field]);
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/**
 * The `networks` map (or the old flat `network` object, API < 1.21, which names no interface):
 * totals over every interface, and the real interfaces one by one.
 */
function networkValues(sample: DockerStats): { network: NetworkCounters | undefined; interfaces: readonly InterfaceValues[] } {
  const list: InterfaceValues[] = [];
  if (sample.networks && typeof sample.networks === 'object') {
    for (const [name, c] of Object.entries(sample.networks)) {
      if (c !== null && typeof c === 'object') list.push({ name, counters: counterValues(c) });
    }
  } else if (sample.network && typeof sample.network === 'object') {
    return { network: counterValues(sample.network), interfaces: NO_INTERFACES };
  }
  if (list.length === 0) return { network: undefined, interfaces: NO_INTERFACES };
  // One interface (the usual case): its counters are the totals; the sample keeps one object, not two.
  const network = list.length === 1 ? list[0]!.counters : interfaceTotals(list);
  return { network, interfaces: hasPodmanPseudoInterface(sample) ? NO_INTERFACES : list };
}

/**
 * Pure: the counters summed over the interfaces (a field no interface reports is left out), as the
 * stream path sums `networks[*]`; the cgroup collector sums /proc/<pid>/net/dev the same way.
 */
export function interfaceTotals(list: readonly InterfaceValues[]): NetworkCounters {
  const totals: NetworkCounters = {};
  for (const field of NETWORK_FIELDS) {
    let total: number | undefined;
    for (const { counters } of list) {
      const v = counters[field];
      if (v !== undefined) total = (total ?? 0) + v;
    }
    if (total !== undefined) totals[field] = total;
  }
  return totals;
}

/**
 * Pure: the entries whose `op` is `op` (case-insensitive), summed per device and in all; undefined
 * when no entry has that op. Used for the stream's `io_service_bytes_recursive` and for the
 * entries the cgroup collector reads from blkio / io.stat files.
 */
export function blkioValues(entries: readonly (BlkioEntry | null)[], op: 'read' | 'write'): BlkioValues | undefined {
  let total: number | undefined;
  const perDevice: { major: number | undefined; minor: number | undefined; bytes: number }[] = [];
  for (const e of entries) {
    const value = num(e?.value);
    if (value === undefined || typeof e?.op !== 'string' || e.op.toLowerCase() !== op) continue;
    total = (total ?? 0) + value;
    const major = num(e.major);
    const minor = num(e.minor);
    const device = perDevice.find((d) => d.major === major && d.minor === minor);
    if (device) device.bytes += value;
    else perDevice.push({ major, minor, bytes: value });
  }
  return total === undefined ? undefined : { total, perDevice };
}

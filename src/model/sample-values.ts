import { NETWORK_FIELDS, type NetworkCounters } from './network-counters.js';

/** One interface's counters (`networks.<name>`), under the name the Engine gave it. */
export interface InterfaceValues {
  readonly name: string;
  readonly counters: NetworkCounters;
}

/** Bytes of one block I/O op, summed over the entries of each device and over all devices. */
export interface BlkioValues {
  readonly total: number;
  /** In the order the devices first appear; `major`/`minor` undefined when the entry lacks them. */
  readonly perDevice: readonly {
    readonly major: number | undefined;
    readonly minor: number | undefined;
    readonly bytes: number;
  }[];
}

/** One block I/O counter, a device's bytes for one op: an `io_service_bytes_recursive` entry, or from blkio/io.stat. */
export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

/**
 * What the reducer needs of one real sample: the handful of numbers it reports or computes with,
 * taken once when the sample arrives (from the Engine's stats JSON, docker/sample-values.ts, or the
 * kernel's files, cgroup/kernel-sample.ts), so that nothing bigger is held until the tick. The
 * fields keep the Engine's meanings (docs/architecture.md §2). Every number is finite; a field the
 * sample lacks (or sends as anything but a finite number) is undefined, never 0.
 */
export interface SampleValues {
  /** `read`, epoch ms. */
  readonly readMs: number;
  /**
   * What `cpu.percent` divides the CPU time used by: 'system', Δ`cpuSystem` shared over the online
   * CPUs (the host's CPU time, idle included, as Docker's formula has it); 'wall-clock', the time
   * between the two samples' reads, for a source whose `cpuSystem` leaves idle time out.
   */
  readonly cpuPercentBase: 'system' | 'wall-clock';
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

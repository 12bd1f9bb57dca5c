import type { BlkioEntry, CpuStats, DockerStats, NetworkCounters } from '../docker/stats-types.js';
import { hasPodmanPseudoInterface, isPodmanSample, wallClockCpuPercent } from './podman.js';

// The `docker stats` formulas (DESIGN.md §3) as small pure helpers. Each returns undefined when
// its inputs are absent, so that a missing field never turns into a 0.

export const NETWORK_FIELDS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
] as const satisfies readonly (keyof NetworkCounters)[];

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** `online_cpus`, falling back to the length of `percpu_usage` (cgroup v1, old Engines). */
export function onlineCpus(cpu: CpuStats | undefined): number | undefined {
  const online = num(cpu?.online_cpus);
  if (online !== undefined && online > 0) return online;
  const per = cpu?.cpu_usage?.percpu_usage;
  return Array.isArray(per) && per.length > 0 ? per.length : undefined;
}

/**
 * CPU % between two samples of one container, as `docker stats` computes it but over any pair:
 * Δtotal_usage / Δsystem_cpu_usage × online CPUs × 100. Undefined without a usable pair
 * (the same sample twice, a missing field, no system time elapsed, a counter that went back).
 */
export function cpuPercent(from: DockerStats, to: DockerStats): number | undefined {
  if (isPodmanSample(to)) return wallClockCpuPercent(from, to);
  const t0 = num(from.cpu_stats?.cpu_usage?.total_usage);
  const t1 = num(to.cpu_stats?.cpu_usage?.total_usage);
  const s0 = num(from.cpu_stats?.system_cpu_usage);
  const s1 = num(to.cpu_stats?.system_cpu_usage);
  const cpus = onlineCpus(to.cpu_stats);
  if (t0 === undefined || t1 === undefined || s0 === undefined || s1 === undefined || cpus === undefined) return undefined;
  const dSystem = s1 - s0;
  const dTotal = t1 - t0;
  if (!(dSystem > 0) || dTotal < 0) return undefined;
  return (dTotal / dSystem) * cpus * 100;
}

/** The inactive file pages: cgroup v1 `total_inactive_file`, v2 `inactive_file`. */
function inactiveFile(sample: DockerStats): number | undefined {
  const stats = sample.memory_stats?.stats;
  return num(stats?.['total_inactive_file']) ?? num(stats?.['inactive_file']);
}

/** `docker stats`' MEM USAGE: usage minus inactive file pages when those are present and smaller. */
export function workingSet(sample: DockerStats): number | undefined {
  const usage = num(sample.memory_stats?.usage);
  if (usage === undefined) return undefined;
  const inactive = inactiveFile(sample);
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

/** Sum of `io_service_bytes_recursive` entries whose `op` is `op` (case-insensitive), per device too. */
export function blkioBytes(
  sample: DockerStats,
  op: 'read' | 'write',
): { total: number; perDevice: Map<string, number> } | undefined {
  const entries = sample.blkio_stats?.io_service_bytes_recursive;
  if (!Array.isArray(entries)) return undefined;
  let total: number | undefined;
  const perDevice = new Map<string, number>();
  for (const e of entries as (BlkioEntry | null)[]) {
    const value = num(e?.value);
    if (value === undefined || typeof e?.op !== 'string' || e.op.toLowerCase() !== op) continue;
    total = (total ?? 0) + value;
    const device = `${num(e.major) ?? 'x'}_${num(e.minor) ?? 'x'}`;
    perDevice.set(device, (perDevice.get(device) ?? 0) + value);
  }
  return total === undefined ? undefined : { total, perDevice };
}

/**
 * The container's interfaces: the `networks` map, or the old flat `network` object (API < 1.21)
 * under the name `network`... which has no real interface name, so it only counts for totals.
 */
export function interfaces(sample: DockerStats): { named: boolean; list: [string, NetworkCounters][] } | undefined {
  if (sample.networks && typeof sample.networks === 'object') {
    const list = Object.entries(sample.networks).filter(([, c]) => c !== null && typeof c === 'object');
    return list.length === 0 ? undefined : { named: !hasPodmanPseudoInterface(sample), list };
  }
  return sample.network && typeof sample.network === 'object' ? { named: false, list: [['network', sample.network]] } : undefined;
}

/** Network counters summed over every interface; a field no interface reports is left out. */
export function networkTotals(sample: DockerStats): NetworkCounters | undefined {
  const ifs = interfaces(sample);
  if (!ifs) return undefined;
  const sum: NetworkCounters = {};
  for (const field of NETWORK_FIELDS) {
    let total: number | undefined;
    for (const [, counters] of ifs.list) {
      const v = num(counters[field]);
      if (v !== undefined) total = (total ?? 0) + v;
    }
    if (total !== undefined) sum[field] = total;
  }
  return sum;
}

/** The counters the rates use, read once per sample; a counter the sample lacks is undefined. */
export interface RateCounters {
  readonly cpuTotal: number | undefined;
  readonly rxBytes: number | undefined;
  readonly txBytes: number | undefined;
  readonly readBytes: number | undefined;
  readonly writeBytes: number | undefined;
}

/**
 * The sample's rate counters, with the same sums as networkTotals and blkioBytes but without
 * their intermediate lists and maps: the store calls this for every sample it records.
 */
export function rateCounters(sample: DockerStats): RateCounters {
  let rxBytes: number | undefined;
  let txBytes: number | undefined;
  const add = (total: number | undefined, v: unknown): number | undefined => {
    const n = num(v);
    return n === undefined ? total : (total ?? 0) + n;
  };
  if (sample.networks && typeof sample.networks === 'object') {
    for (const name in sample.networks) {
      const c = sample.networks[name];
      if (c === null || typeof c !== 'object') continue;
      rxBytes = add(rxBytes, c.rx_bytes);
      txBytes = add(txBytes, c.tx_bytes);
    }
  } else if (sample.network && typeof sample.network === 'object') {
    rxBytes = num(sample.network.rx_bytes);
    txBytes = num(sample.network.tx_bytes);
  }
  let readBytes: number | undefined;
  let writeBytes: number | undefined;
  const entries = sample.blkio_stats?.io_service_bytes_recursive;
  if (Array.isArray(entries)) {
    for (const e of entries as (BlkioEntry | null)[]) {
      if (typeof e?.op !== 'string') continue;
      const op = e.op.toLowerCase();
      if (op === 'read') readBytes = add(readBytes, e.value);
      else if (op === 'write') writeBytes = add(writeBytes, e.value);
    }
  }
  return { cpuTotal: num(sample.cpu_stats?.cpu_usage?.total_usage), rxBytes, txBytes, readBytes, writeBytes };
}

/**
 * Did any counter the rates use go backwards between two samples (the container restarted and its
 * cgroup counters started again from small values)?
 */
export function countersWentBack(from: RateCounters, to: RateCounters): boolean {
  const back = (a: number | undefined, b: number | undefined): boolean => a !== undefined && b !== undefined && b < a;
  return (
    back(from.cpuTotal, to.cpuTotal) ||
    back(from.rxBytes, to.rxBytes) ||
    back(from.txBytes, to.txBytes) ||
    back(from.readBytes, to.readBytes) ||
    back(from.writeBytes, to.writeBytes)
  );
}

import { hasPodmanPseudoInterface, isPodmanSample } from './podman.js';
import { NETWORK_FIELDS, type NetworkCounters } from '../model/network-counters.js';
import { blkioValues, interfaceTotals, type InterfaceValues, type SampleValues } from '../model/sample-values.js';
import type { DockerStats } from './stats-types.js';

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
    // Podman's system_cpu_usage is busy time only (podman.ts).
    cpuPercentBase: isPodmanSample(sample) ? 'wall-clock' : 'system',
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
function networkValues(sample: DockerStats): {
  network: NetworkCounters | undefined;
  interfaces: readonly InterfaceValues[];
} {
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

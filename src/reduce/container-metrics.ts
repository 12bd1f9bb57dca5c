import type { DockerStats, NetworkCounters } from '../docker/stats-types.js';

/** One reduced value, named relative to its container's path (`cpu.total`, `memory.usage`, …). */
export interface NamedValue {
  readonly name: string;
  readonly value: number;
}

/** What the reducer knows about a container besides its sample. */
export interface ContainerFacts {
  /** `State.StartedAt` in epoch ms, when known. */
  readonly startedAtMs?: number;
}

const NETWORK_FIELDS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
] as const satisfies readonly (keyof NetworkCounters)[];

/**
 * Pure: one real sample → the original daemon's 18 per-container metrics (DESIGN.md §4).
 * A metric whose source is absent is left out, never reported as 0; values are finite numbers.
 * The caller has already checked that the sample is real (see sampleReadMs).
 */
export function containerMetrics(
  sample: DockerStats,
  readMs: number,
  facts: ContainerFacts = {},
): NamedValue[] {
  const out: NamedValue[] = [];
  const add = (name: string, value: number | undefined): void => {
    if (typeof value === 'number' && Number.isFinite(value)) out.push({ name, value });
  };

  const cpu = sample.cpu_stats;
  add('cpu.system', cpu?.system_cpu_usage);
  add('cpu.total', cpu?.cpu_usage?.total_usage);
  add('cpu.kernel', cpu?.cpu_usage?.usage_in_kernelmode);
  add('cpu.user', cpu?.cpu_usage?.usage_in_usermode);

  const mem = sample.memory_stats;
  const cache = mem?.stats?.['total_cache'] ?? mem?.stats?.['file'];
  add('memory.usage', mem?.usage);
  add('memory.max_usage', mem?.max_usage);
  add('memory.limit', mem?.limit);
  add('memory.cache', cache);
  if (typeof mem?.usage === 'number' && typeof cache === 'number') {
    add('memory.active', mem.usage - cache);
  }

  const totals = networkTotals(sample);
  if (totals) for (const field of NETWORK_FIELDS) add(`network.${field}`, totals[field]);

  if (facts.startedAtMs !== undefined && facts.startedAtMs > 0 && readMs >= facts.startedAtMs) {
    add('uptime', Math.floor((readMs - facts.startedAtMs) / 1000));
  }
  return out;
}

/**
 * Network counters summed over every interface of the `networks` map, or the old flat `network`
 * object (API < 1.21). Undefined when the container has no network (`--network none`).
 */
function networkTotals(sample: DockerStats): NetworkCounters | undefined {
  if (sample.networks && typeof sample.networks === 'object') {
    const interfaces = Object.values(sample.networks);
    if (interfaces.length === 0) return undefined;
    const sum: NetworkCounters = {};
    for (const field of NETWORK_FIELDS) {
      let total: number | undefined;
      for (const counters of interfaces) {
        const v = counters?.[field];
        if (typeof v === 'number') total = (total ?? 0) + v;
      }
      if (total !== undefined) sum[field] = total;
    }
    return sum;
  }
  return sample.network && typeof sample.network === 'object' ? sample.network : undefined;
}

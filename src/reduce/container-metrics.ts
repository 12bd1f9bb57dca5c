import type { DockerStats } from '../docker/stats-types.js';
import { sanitizeSegment } from '../naming/sanitize.js';
import {
  blkioBytes,
  cpuPercent,
  interfaces,
  NETWORK_FIELDS,
  networkTotals,
  onlineCpus,
  workingSet,
} from './docker-math.js';

/** One reduced value, named relative to its container's path (`cpu.total`, `memory.usage`, …). */
export interface NamedValue {
  readonly name: string;
  readonly value: number;
}

/** A real sample and its `read` time (epoch ms). */
export interface TimedSample {
  readonly sample: DockerStats;
  readonly readMs: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** What the watcher knows about a container besides its samples (from inspect and events). */
export interface ContainerFacts {
  /** `State.StartedAt` in epoch ms. */
  readonly startedAtMs?: number | undefined;
  /** `RestartCount`. */
  readonly restartCount?: number | undefined;
  /** Only for containers that have a healthcheck; kept current from `health_status` events. */
  readonly health?: { readonly status: HealthStatus; readonly failingStreak: number } | undefined;
}

export const METRIC_GROUPS = ['cpu', 'memory', 'network', 'blkio', 'pids', 'health'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];

/** `--metrics`, `--per-interface`, `--per-device`: how much to report per container. */
export interface MetricOptions {
  readonly groups: ReadonlySet<MetricGroup>;
  readonly perInterface: boolean;
  readonly perDevice: boolean;
}

export const DEFAULT_METRIC_OPTIONS: MetricOptions = {
  groups: new Set(METRIC_GROUPS),
  perInterface: true,
  perDevice: false,
};

/**
 * Pure: one container's interval → its metrics. Raw values come from the interval's latest real
 * sample; rates (CPU %, bytes per second) are computed exactly over the interval, from its earliest
 * to its latest real sample after any counter reset (the store guarantees that). With a single
 * sample there is no rate at all, never a 0. Absent fields are left out; values are finite numbers.
 */
export function containerMetrics(
  first: TimedSample,
  latest: TimedSample,
  facts: ContainerFacts = {},
  opts: MetricOptions = DEFAULT_METRIC_OPTIONS,
): NamedValue[] {
  const out: NamedValue[] = [];
  const add = (name: string, value: number | undefined): void => {
    if (typeof value === 'number' && Number.isFinite(value)) out.push({ name, value });
  };
  const s = latest.sample;
  const pair = latest.readMs > first.readMs ? first.sample : undefined;
  const seconds = (latest.readMs - first.readMs) / 1000;
  const perSecond = (a: number | undefined, b: number | undefined): number | undefined =>
    pair && a !== undefined && b !== undefined && b >= a ? (b - a) / seconds : undefined;

  if (opts.groups.has('cpu')) {
    const cpu = s.cpu_stats;
    add('cpu.system', cpu?.system_cpu_usage);
    add('cpu.total', cpu?.cpu_usage?.total_usage);
    add('cpu.kernel', cpu?.cpu_usage?.usage_in_kernelmode);
    add('cpu.user', cpu?.cpu_usage?.usage_in_usermode);
    if (pair) add('cpu.percent', cpuPercent(pair, s));
    add('cpu.online', onlineCpus(cpu));
    add('cpu.throttled_periods', cpu?.throttling_data?.throttled_periods);
    add('cpu.throttled_time', cpu?.throttling_data?.throttled_time);
  }

  if (opts.groups.has('memory')) {
    const mem = s.memory_stats;
    const stats = mem?.stats;
    const cache = stats?.['total_cache'] ?? stats?.['file'];
    add('memory.usage', mem?.usage);
    add('memory.max_usage', mem?.max_usage);
    add('memory.limit', mem?.limit);
    add('memory.cache', cache);
    if (typeof mem?.usage === 'number' && typeof cache === 'number') add('memory.active', mem.usage - cache);
    const ws = workingSet(s);
    add('memory.working_set', ws);
    if (ws !== undefined && typeof mem?.limit === 'number' && mem.limit > 0) add('memory.percent', (ws / mem.limit) * 100);
    add('memory.rss', stats?.['total_rss'] ?? stats?.['anon']);
    add('memory.pgfault', stats?.['total_pgfault'] ?? stats?.['pgfault']);
    add('memory.pgmajfault', stats?.['total_pgmajfault'] ?? stats?.['pgmajfault']);
  }

  if (opts.groups.has('network')) {
    const totals = networkTotals(s);
    if (totals) {
      for (const field of NETWORK_FIELDS) add(`network.${field}`, totals[field]);
      if (pair) {
        const before = networkTotals(pair);
        add('network.rx_bytes_per_second', perSecond(before?.rx_bytes, totals.rx_bytes));
        add('network.tx_bytes_per_second', perSecond(before?.tx_bytes, totals.tx_bytes));
      }
    }
    const ifs = interfaces(s);
    if (opts.perInterface && ifs?.named) {
      for (const [name, counters] of ifs.list) {
        const segment = sanitizeSegment(name) || 'unnamed';
        for (const field of NETWORK_FIELDS) add(`network.${segment}.${field}`, counters[field]);
      }
    }
  }

  if (opts.groups.has('blkio')) {
    for (const op of ['read', 'write'] as const) {
      const now = blkioBytes(s, op);
      if (!now) continue;
      add(`blkio.${op}_bytes`, now.total);
      if (pair) add(`blkio.${op}_bytes_per_second`, perSecond(blkioBytes(pair, op)?.total, now.total));
      if (opts.perDevice) for (const [device, bytes] of now.perDevice) add(`blkio.${device}.${op}_bytes`, bytes);
    }
  }

  if (opts.groups.has('pids')) {
    add('pids.current', s.pids_stats?.current);
    const limit = s.pids_stats?.limit;
    if (typeof limit === 'number' && limit > 0) add('pids.limit', limit);
  }

  if (opts.groups.has('health') && facts.health && facts.health.status !== 'starting') {
    add('health.healthy', facts.health.status === 'healthy' ? 1 : 0);
    add('health.failing_streak', facts.health.failingStreak);
  }

  if (facts.startedAtMs !== undefined && facts.startedAtMs > 0 && latest.readMs >= facts.startedAtMs) {
    add('uptime', Math.floor((latest.readMs - facts.startedAtMs) / 1000));
  }
  add('restarts', facts.restartCount);
  return out;
}

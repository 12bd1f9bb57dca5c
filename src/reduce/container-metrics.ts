import { sanitizeSegment } from '../naming/sanitize.js';
import { cpuPercent, NETWORK_FIELDS, workingSet } from './docker-math.js';
import type { BlkioValues, SampleValues } from './sample-values.js';

/** One reduced value, named relative to its container's path (`cpu.total`, `memory.usage`, …). */
export interface NamedValue {
  readonly name: string;
  readonly value: number;
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
  first: SampleValues,
  latest: SampleValues,
  facts: ContainerFacts = {},
  opts: MetricOptions = DEFAULT_METRIC_OPTIONS,
): NamedValue[] {
  const out: NamedValue[] = [];
  const add = (name: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out.push({ name, value });
  };
  const pair = latest.readMs > first.readMs ? first : undefined;
  const seconds = (latest.readMs - first.readMs) / 1000;
  const perSecond = (a: number | undefined, b: number | undefined): number | undefined =>
    pair && a !== undefined && b !== undefined && b >= a ? (b - a) / seconds : undefined;

  if (opts.groups.has('cpu')) {
    add('cpu.system', latest.cpuSystem);
    add('cpu.total', latest.cpuTotal);
    add('cpu.kernel', latest.cpuKernel);
    add('cpu.user', latest.cpuUser);
    if (pair) add('cpu.percent', cpuPercent(pair, latest));
    add('cpu.online', latest.cpuOnline);
    add('cpu.throttled_periods', latest.throttledPeriods);
    add('cpu.throttled_time', latest.throttledTime);
  }

  if (opts.groups.has('memory')) {
    const { memoryUsage: usage, memoryLimit: limit, memoryCache: cache } = latest;
    add('memory.usage', usage);
    add('memory.max_usage', latest.memoryMaxUsage);
    add('memory.limit', limit);
    add('memory.cache', cache);
    if (usage !== undefined && cache !== undefined) add('memory.active', usage - cache);
    const ws = workingSet(latest);
    add('memory.working_set', ws);
    if (ws !== undefined && limit !== undefined && limit > 0) add('memory.percent', (ws / limit) * 100);
    add('memory.rss', latest.memoryRss);
    add('memory.pgfault', latest.memoryPgfault);
    add('memory.pgmajfault', latest.memoryPgmajfault);
  }

  if (opts.groups.has('network')) {
    const totals = latest.network;
    if (totals) {
      for (const field of NETWORK_FIELDS) add(`network.${field}`, totals[field]);
      if (pair) {
        add('network.rx_bytes_per_second', perSecond(pair.network?.rx_bytes, totals.rx_bytes));
        add('network.tx_bytes_per_second', perSecond(pair.network?.tx_bytes, totals.tx_bytes));
      }
    }
    if (opts.perInterface) {
      for (const { name, counters } of latest.interfaces) {
        const segment = sanitizeSegment(name) || 'unnamed';
        for (const field of NETWORK_FIELDS) add(`network.${segment}.${field}`, counters[field]);
      }
    }
  }

  if (opts.groups.has('blkio')) {
    for (const op of ['read', 'write'] as const) {
      const now = blkio(latest, op);
      if (!now) continue;
      add(`blkio.${op}_bytes`, now.total);
      if (pair) add(`blkio.${op}_bytes_per_second`, perSecond(blkio(pair, op)?.total, now.total));
      if (opts.perDevice) {
        for (const { major, minor, bytes } of now.perDevice) add(`blkio.${major ?? 'x'}_${minor ?? 'x'}.${op}_bytes`, bytes);
      }
    }
  }

  if (opts.groups.has('pids')) {
    add('pids.current', latest.pidsCurrent);
    if (latest.pidsLimit !== undefined && latest.pidsLimit > 0) add('pids.limit', latest.pidsLimit);
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

function blkio(v: SampleValues, op: 'read' | 'write'): BlkioValues | undefined {
  return op === 'read' ? v.blkioRead : v.blkioWrite;
}

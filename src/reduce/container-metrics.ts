import type { ContainerFacts } from '../model/container.js';
import { PRESSURE_RESOURCES, type KernelCounters } from '../model/kernel-counters.js';
import type { BlkioValues, SampleValues } from '../model/sample-values.js';
import { NETWORK_FIELDS } from '../model/network-counters.js';
import { cpuPercent, workingSet } from './docker-math.js';
import { percentOfLimit } from './lifecycle.js';
import type { Metric, MetricKind, Per, Subject } from '../model/metric.js';

export const METRIC_GROUPS = ['cpu', 'memory', 'network', 'blkio', 'pids', 'health', 'pressure', 'swarm', 'disk'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];
/** Groups that cost the Engine more (or are for some hosts only): on only when `--metrics` names them. */
export const OPT_IN_GROUPS: ReadonlySet<MetricGroup> = new Set<MetricGroup>(['swarm', 'disk']);
/** What `--metrics` left out means, and what `+group` / `-group` change. */
export const DEFAULT_GROUPS: readonly MetricGroup[] = METRIC_GROUPS.filter((g) => !OPT_IN_GROUPS.has(g));

/** `--metrics`, `--per-interface`, `--per-device`: how much to report per container. */
export interface MetricOptions {
  readonly groups: ReadonlySet<MetricGroup>;
  readonly perInterface: boolean;
  readonly perDevice: boolean;
}

export const DEFAULT_METRIC_OPTIONS: MetricOptions = {
  groups: new Set(DEFAULT_GROUPS),
  perInterface: true,
  perDevice: false,
};

/**
 * Pure: one container's interval → its metrics, about `stamp.subject` at `stamp.time`. Raw values
 * come from the interval's latest real sample; rates (CPU %, bytes per second) are computed exactly
 * over the interval, from its earliest to its latest real sample after any counter reset (the
 * store guarantees that). With a single sample there is no rate at all, never a 0. Absent fields
 * are left out; values are finite numbers. Each metric's kind is stated where it is made. `kernel`:
 * the container's kernel counters read at this tick, if any (kernelMetrics).
 */
export function containerMetrics(
  first: SampleValues,
  latest: SampleValues,
  facts: ContainerFacts,
  opts: MetricOptions,
  stamp: { readonly subject: Subject; readonly time: number },
  kernel?: KernelCounters,
): Metric[] {
  const out: Metric[] = [];
  const { subject, time } = stamp;
  const add = (name: string, kind: MetricKind, value: number | undefined, per?: Per): void => {
    if (value !== undefined && Number.isFinite(value)) out.push({ subject, name, per, kind, value, time });
  };
  const pair = latest.readMs > first.readMs ? first : undefined;
  const seconds = (latest.readMs - first.readMs) / 1000;
  const perSecond = (a: number | undefined, b: number | undefined): number | undefined =>
    pair && a !== undefined && b !== undefined && b >= a ? (b - a) / seconds : undefined;

  if (opts.groups.has('cpu')) {
    add('cpu.system', C, latest.cpuSystem);
    add('cpu.total', C, latest.cpuTotal);
    add('cpu.kernel', C, latest.cpuKernel);
    add('cpu.user', C, latest.cpuUser);
    const percent = pair ? cpuPercent(pair, latest) : undefined;
    add('cpu.percent', G, percent);
    add('cpu.limit', G, facts.cpuLimit);
    add('cpu.percent_of_limit', G, percentOfLimit(percent, facts.cpuLimit));
    add('cpu.online', G, latest.cpuOnline);
    add('cpu.throttled_periods', C, latest.throttledPeriods);
    add('cpu.throttled_time', C, latest.throttledTime);
  }

  if (opts.groups.has('memory')) {
    const { memoryUsage: usage, memoryLimit: limit, memoryCache: cache } = latest;
    add('memory.usage', G, usage);
    add('memory.max_usage', G, latest.memoryMaxUsage);
    add('memory.limit', G, limit);
    add('memory.reservation', G, facts.memoryReservation);
    add('memory.cache', G, cache);
    if (usage !== undefined && cache !== undefined) add('memory.active', G, usage - cache);
    const ws = workingSet(latest);
    add('memory.working_set', G, ws);
    if (ws !== undefined && limit !== undefined && limit > 0) add('memory.percent', G, (ws / limit) * 100);
    add('memory.rss', G, latest.memoryRss);
    add('memory.pgfault', C, latest.memoryPgfault);
    add('memory.pgmajfault', C, latest.memoryPgmajfault);
  }

  if (opts.groups.has('network')) {
    const totals = latest.network;
    if (totals) {
      for (const field of NETWORK_FIELDS) add(NETWORK_NAMES[field], C, totals[field]);
      if (pair) {
        add('network.rx_bytes_per_second', G, perSecond(pair.network?.rx_bytes, totals.rx_bytes));
        add('network.tx_bytes_per_second', G, perSecond(pair.network?.tx_bytes, totals.tx_bytes));
      }
    }
    if (opts.perInterface) {
      for (const { name, counters } of latest.interfaces) {
        const per: Per = { key: 'interface', value: name };
        for (const field of NETWORK_FIELDS) add(NETWORK_NAMES[field], C, counters[field], per);
      }
    }
  }

  if (opts.groups.has('blkio')) {
    for (const op of ['read', 'write'] as const) {
      const now = blkio(latest, op);
      if (!now) continue;
      add(BLKIO_NAMES[op].bytes, C, now.total);
      if (pair) add(BLKIO_NAMES[op].perSecond, G, perSecond(blkio(pair, op)?.total, now.total));
      if (opts.perDevice) {
        for (const { major, minor, bytes } of now.perDevice) add(BLKIO_NAMES[op].bytes, C, bytes, { key: 'device', value: `${major ?? 'x'}_${minor ?? 'x'}` });
      }
    }
  }

  if (opts.groups.has('pids')) {
    add('pids.current', G, latest.pidsCurrent);
    if (latest.pidsLimit !== undefined && latest.pidsLimit > 0) add('pids.limit', G, latest.pidsLimit);
  }

  if (opts.groups.has('health') && facts.health && facts.health.status !== 'starting') {
    add('health.healthy', G, facts.health.status === 'healthy' ? 1 : 0);
    add('health.failing_streak', G, facts.health.failingStreak);
  }

  if (facts.startedAtMs !== undefined && facts.startedAtMs > 0 && latest.readMs >= facts.startedAtMs) {
    add('uptime', G, Math.floor((latest.readMs - facts.startedAtMs) / 1000));
  }
  add('restarts', C, facts.restartCount);
  add('oom_kills', C, kernel?.oomKills ?? facts.oomEvents);
  if (kernel) kernelMetrics(kernel, opts, add);
  return out;
}

/**
 * The kernel's counters besides `oom_kills`, with the container's other metrics: limit hits with the
 * memory group, the stall times and the stall share of the interval with the pressure group.
 */
function kernelMetrics(
  kernel: KernelCounters,
  opts: MetricOptions,
  add: (name: string, kind: MetricKind, value: number | undefined) => void,
): void {
  if (opts.groups.has('memory')) {
    add('memory.failcnt', C, kernel.memoryFailcnt);
    const events = kernel.memoryEvents;
    if (events) {
      add('memory.events.low', C, events.low);
      add('memory.events.high', C, events.high);
      add('memory.events.max', C, events.max);
      add('memory.events.oom', C, events.oom);
      add('memory.events.oom_kill', C, events.oomKill);
    }
  }
  if (opts.groups.has('pressure') && kernel.pressure) {
    for (const resource of PRESSURE_RESOURCES) {
      const p = kernel.pressure[resource];
      const names = PRESSURE_NAMES[resource];
      add(names.some, C, p.someSeconds);
      add(names.full, C, p.fullSeconds);
      add(names.percent, G, p.somePercent);
    }
  }
}

const C: MetricKind = 'counter';
const G: MetricKind = 'gauge';
/** Built once: `network.rx_bytes`, … (the per-interface counters carry the same names and a Per). */
const NETWORK_NAMES = Object.fromEntries(NETWORK_FIELDS.map((f) => [f, `network.${f}`])) as Record<(typeof NETWORK_FIELDS)[number], string>;
/** Built once: `pressure.cpu.some_seconds`, … */
const PRESSURE_NAMES = Object.fromEntries(
  PRESSURE_RESOURCES.map((r) => {
    const names = { some: `pressure.${r}.some_seconds`, full: `pressure.${r}.full_seconds`, percent: `pressure.${r}.some_percent` };
    return [r, names];
  }),
) as Record<(typeof PRESSURE_RESOURCES)[number], { some: string; full: string; percent: string }>;
const BLKIO_NAMES = {
  read: { bytes: 'blkio.read_bytes', perSecond: 'blkio.read_bytes_per_second' },
  write: { bytes: 'blkio.write_bytes', perSecond: 'blkio.write_bytes_per_second' },
} as const;

function blkio(v: SampleValues, op: 'read' | 'write'): BlkioValues | undefined {
  return op === 'read' ? v.blkioRead : v.blkioWrite;
}

import type { ContainerFacts } from '../model/container.js';
import { PRESSURE_RESOURCES, type KernelCounters } from '../model/kernel-counters.js';
import type { BlkioValues, SampleValues } from '../model/sample-values.js';
import { NETWORK_FIELDS } from '../model/network-counters.js';
import { cpuPercent, workingSet } from './docker-math.js';
import { percentOfLimit } from './lifecycle.js';
import type { Metric, MetricKind, Per, Subject } from '../model/metric.js';

export const METRIC_GROUPS = [
  'cpu',
  'memory',
  'network',
  'blkio',
  'pids',
  'health',
  'pressure',
  'swarm',
  'disk',
] as const;
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
  const add: Add = (name, kind, value, per) => {
    if (value !== undefined && Number.isFinite(value)) out.push({ subject, name, per, kind, value, time });
  };
  const interval = intervalOf(first, latest);
  const { groups } = opts;
  // The quota the kernel enforces where it was read, else inspect's (which also counts a cpuset).
  if (groups.has('cpu')) cpuMetrics(interval, kernel?.cpuQuotaCpus ?? facts.cpuLimit, add);
  if (groups.has('memory')) memoryMetrics(latest, facts, add);
  if (groups.has('network')) networkMetrics(interval, opts.perInterface, add);
  if (groups.has('blkio')) blkioMetrics(interval, opts.perDevice, add);
  if (groups.has('pids')) pidsMetrics(latest, add);
  if (groups.has('health')) healthMetrics(facts, add);
  lifecycleMetrics(latest, facts, kernel, add);
  if (kernel) kernelMetrics(kernel, opts, add);
  return out;
}

/** Keeps a metric whose value is a finite number; leaves out one without a value. */
type Add = (name: string, kind: MetricKind, value: number | undefined, per?: Per) => void;

/** What the groups' rates need of an interval. */
interface Interval {
  readonly latest: SampleValues;
  /** The interval's earliest sample when it is older than the latest: without one there is no rate. */
  readonly pair: SampleValues | undefined;
  /** Per second over the interval; undefined without a pair, a value, or when the counter went back. */
  perSecond(from: number | undefined, to: number | undefined): number | undefined;
}

function intervalOf(first: SampleValues, latest: SampleValues): Interval {
  const pair = latest.readMs > first.readMs ? first : undefined;
  const seconds = (latest.readMs - first.readMs) / 1000;
  return {
    latest,
    pair,
    perSecond: (a, b) => (pair && a !== undefined && b !== undefined && b >= a ? (b - a) / seconds : undefined),
  };
}

/** The group `cpu`: the counters as sent, the interval's CPU %, and that as a share of `limit` (CPUs). */
function cpuMetrics({ latest, pair }: Interval, limit: number | undefined, add: Add): void {
  add('cpu.system', C, latest.cpuSystem);
  add('cpu.total', C, latest.cpuTotal);
  add('cpu.kernel', C, latest.cpuKernel);
  add('cpu.user', C, latest.cpuUser);
  const percent = pair ? cpuPercent(pair, latest) : undefined;
  add('cpu.percent', G, percent);
  add('cpu.limit', G, limit);
  add('cpu.percent_of_limit', G, percentOfLimit(percent, limit));
  add('cpu.online', G, latest.cpuOnline);
  add('cpu.throttled_periods', C, latest.throttledPeriods);
  add('cpu.throttled_time', C, latest.throttledTime);
}

/** The group `memory` from the latest sample: `docker stats`' working set and percent among them. */
function memoryMetrics(latest: SampleValues, facts: ContainerFacts, add: Add): void {
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

/** The group `network`: totals over every interface with their rates, then each interface's counters. */
function networkMetrics({ latest, pair, perSecond }: Interval, perInterface: boolean, add: Add): void {
  const totals = latest.network;
  if (totals) {
    for (const field of NETWORK_FIELDS) add(NETWORK_NAMES[field], C, totals[field]);
    if (pair) {
      add('network.rx_bytes_per_second', G, perSecond(pair.network?.rx_bytes, totals.rx_bytes));
      add('network.tx_bytes_per_second', G, perSecond(pair.network?.tx_bytes, totals.tx_bytes));
    }
  }
  if (!perInterface) return;
  for (const { name, counters } of latest.interfaces) {
    const per: Per = { key: 'interface', value: name };
    for (const field of NETWORK_FIELDS) add(NETWORK_NAMES[field], C, counters[field], per);
  }
}

/** The group `blkio`: per op, the bytes over every device with their rate, then each device's. */
function blkioMetrics({ latest, pair, perSecond }: Interval, perDevice: boolean, add: Add): void {
  for (const op of ['read', 'write'] as const) {
    const now = blkio(latest, op);
    if (!now) continue;
    const names = BLKIO_NAMES[op];
    add(names.bytes, C, now.total);
    if (pair) add(names.perSecond, G, perSecond(blkio(pair, op)?.total, now.total));
    if (!perDevice) continue;
    for (const { major, minor, bytes } of now.perDevice) {
      add(names.bytes, C, bytes, { key: 'device', value: `${major ?? 'x'}_${minor ?? 'x'}` });
    }
  }
}

/** The group `pids`: a limit of 0 or less means none. */
function pidsMetrics(latest: SampleValues, add: Add): void {
  add('pids.current', G, latest.pidsCurrent);
  if (latest.pidsLimit !== undefined && latest.pidsLimit > 0) add('pids.limit', G, latest.pidsLimit);
}

/** The group `health`, for a container with a healthcheck that has given a verdict. */
function healthMetrics(facts: ContainerFacts, add: Add): void {
  if (!facts.health || facts.health.status === 'starting') return;
  add('health.healthy', G, facts.health.status === 'healthy' ? 1 : 0);
  add('health.failing_streak', G, facts.health.failingStreak);
}

/**
 * Sent whatever `--metrics` says: uptime, restarts, and OOM kills (the kernel's count where it
 * could be read, else the Engine's events).
 */
function lifecycleMetrics(
  latest: SampleValues,
  facts: ContainerFacts,
  kernel: KernelCounters | undefined,
  add: Add,
): void {
  if (facts.startedAtMs !== undefined && facts.startedAtMs > 0 && latest.readMs >= facts.startedAtMs) {
    add('uptime', G, Math.floor((latest.readMs - facts.startedAtMs) / 1000));
  }
  add('restarts', C, facts.restartCount);
  add('oom_kills', C, kernel?.oomKills ?? facts.oomEvents);
}

/**
 * The kernel's counters besides `oom_kills`, with the container's other metrics: limit hits with the
 * memory group, the stall times and the stall share of the interval with the pressure group.
 */
function kernelMetrics(kernel: KernelCounters, opts: MetricOptions, add: Add): void {
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
const NETWORK_NAMES = Object.fromEntries(NETWORK_FIELDS.map((f) => [f, `network.${f}`])) as Record<
  (typeof NETWORK_FIELDS)[number],
  string
>;
/** Built once: `pressure.cpu.some_seconds`, … */
const PRESSURE_NAMES = Object.fromEntries(
  PRESSURE_RESOURCES.map((r) => {
    const names = {
      some: `pressure.${r}.some_seconds`,
      full: `pressure.${r}.full_seconds`,
      percent: `pressure.${r}.some_percent`,
    };
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

import type { ContainerRef } from '../../src/model/container.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import { relativePath } from '../../src/naming/carbon-path.js';
import { containerMetrics, METRIC_GROUPS } from '../../src/reduce/container-metrics.js';
import { exitMetrics, stateMetrics } from '../../src/reduce/lifecycle.js';
import { diskMetrics, swarmMetrics } from '../../src/reduce/opt-in-metrics.js';
import { CONTAINER_STATES, HEALTH_STATES } from '../../src/model/host-states.js';
import { PRESSURE_RESOURCES, type KernelCounters } from '../../src/model/kernel-counters.js';
import { DAEMON, type Metric, type MetricKind } from '../../src/model/metric.js';
import { selfMetrics, type DaemonStats } from '../../src/reduce/self-metrics.js';
import { tickMetrics } from '../../src/reduce/tick.js';
import { toSeries } from '../../src/sinks/prometheus/series.js';
import { fixtureFiles, loadSamples } from './fixtures.js';

/**
 * Every metric the daemon makes, one of each name, per key and subject, and what each becomes in
 * the sinks: its Prometheus family and type (through toSeries) and its carbon path below its
 * subject (through relativePath). The dashboards' and the alerts' unit test checks every name they
 * use against it, and the Prometheus sink test feeds all of it to promtool.
 *
 * Most of it is made by the real reducers: each fixture's latest sample through containerMetrics with
 * every group on (per interface and per device, a healthcheck, an uptime, a restart count), the
 * host's `containers`, and the daemon's own metrics; issue 27's metrics through their reducers
 * too (kernel counters, limits, exits, states, swarm, disk). ISSUE_27 lists the names the issue
 * fixes, for the tests to check that the reducers make each of them.
 */

export interface MadeFamily {
  readonly subject: Metric['subject']['kind'];
  /** The metric's own name and per key: `network.rx_bytes` per `interface`. */
  readonly name: string;
  readonly perKey: string | undefined;
  readonly kind: MetricKind;
  /** The Prometheus family (`docker_container_network_interface_rx_bytes_total`). */
  readonly family: string;
  /** The carbon path below the subject's path, with `*` for a per value (`network.*.rx_bytes`). */
  readonly carbon: string;
}

const CONTAINER: ContainerRef = {
  id: 'f'.repeat(64),
  name: 'every',
  image: 'busybox',
  labels: {},
  facts: {
    startedAtMs: 1,
    restartCount: 2,
    health: { status: 'healthy', failingStreak: 0 },
    cpuLimit: 1.5,
    memoryReservation: 1 << 20,
    oomEvents: 0,
  },
};

/** A cgroup v2 container's counters, every field read (the v1 one, memory.failcnt, comes apart). */
const KERNEL: KernelCounters = {
  readMs: 1000,
  oomKills: 1,
  memoryFailcnt: 3,
  memoryEvents: { low: 0, high: 0, max: 2, oom: 1, oomKill: 1 },
  pressure: Object.fromEntries(
    PRESSURE_RESOURCES.map((r) => [r, { someSeconds: 1, fullSeconds: 1, somePercent: 1 }]),
  ) as KernelCounters['pressure'],
  cpuQuotaCpus: 1.5,
};

type Made = readonly [name: string, kind: MetricKind, perKey?: string];

/** Issue 27's names, as COMMON to its helpers fixes them (per container unless the subject says). */
export const ISSUE_27: { readonly container: readonly Made[]; readonly host: readonly Made[] } = {
  container: [
    ['oom_kills', 'counter'],
    ['exit_code', 'gauge'],
    ['oom_killed', 'gauge'],
    ['cpu.limit', 'gauge'],
    ['cpu.percent_of_limit', 'gauge'],
    ['memory.failcnt', 'counter'],
    ...(['low', 'high', 'max', 'oom', 'oom_kill'] as const).map((e): Made => [`memory.events.${e}`, 'counter']),
    ['memory.reservation', 'gauge'],
    ...(['cpu', 'memory', 'io'] as const).flatMap((r): Made[] => [
      [`pressure.${r}.some_seconds`, 'counter'],
      [`pressure.${r}.full_seconds`, 'counter'],
      [`pressure.${r}.some_percent`, 'gauge'],
    ]),
    ['disk.rw_bytes', 'gauge'],
    ['disk.root_bytes', 'gauge'],
  ],
  host: [
    ['containers_state', 'gauge', 'state'],
    ['containers_health', 'gauge', 'health'],
    ['swarm.services.running', 'gauge', 'service'],
    ['swarm.services.desired', 'gauge', 'service'],
  ],
};

function reducerMetrics(): Metric[] {
  const out: Metric[] = [];
  const opts = { groups: new Set(METRIC_GROUPS), perInterface: true, perDevice: true };
  const stamp = { subject: { kind: 'container', container: CONTAINER } as const, time: 1 };
  for (const file of fixtureFiles()) {
    const values = loadSamples(file).flatMap((s) => sampleValues(s) ?? []);
    const latest = values.at(-1);
    // A second earlier, with the same counters: every rate the sample's counters allow is made.
    if (latest)
      out.push(
        ...containerMetrics({ ...latest, readMs: latest.readMs - 1000 }, latest, CONTAINER.facts, opts, stamp, KERNEL),
      );
  }
  const tick = { tickSeconds: 1, metrics: opts, categoryOf: () => 'web' };
  out.push(...tickMetrics([], tick));
  const zero = new Proxy({}, { get: () => 0 }) as DaemonStats;
  out.push(...selfMetrics(zero, 1));
  out.push(...exitMetrics([{ container: CONTAINER, exitCode: 3, oomKilled: false, atMs: 1000 }]));
  const count = <K extends string>(keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, 1])) as Record<K, number>;
  out.push(
    ...stateMetrics({ state: count(CONTAINER_STATES), health: count(HEALTH_STATES), ids: new Set([CONTAINER.id]) }, 1),
  );
  out.push(...swarmMetrics([{ service: 'web', running: 1, desired: 2 }], 1000));
  out.push(...diskMetrics([{ id: CONTAINER.id, rwBytes: 1, rootBytes: 2 }], 1000, [CONTAINER]));
  return out;
}

/** Every metric the daemon makes (one of each), as metrics: what a sink is given. */
export function everyMetric(): Metric[] {
  const seen = new Set<string>();
  return reducerMetrics().filter((m) => {
    const key = `${m.subject.kind} ${m.name} ${m.per?.key ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every metric the daemon makes, with its Prometheus family and carbon path. */
export function madeFamilies(): MadeFamily[] {
  return everyMetric().map((m) => ({
    subject: m.subject.kind,
    name: m.name,
    perKey: m.per?.key,
    kind: m.kind,
    family: toSeries(m, []).family,
    carbon: carbonBelowSubject(m),
  }));
}

function carbonBelowSubject(m: Metric): string {
  if (m.subject === DAEMON || m.subject.kind === 'daemon') return `docker_stats_to_backstop.${m.name}`;
  // The swarm group's path puts the service before the figure (issue 27): swarm.services.<service>.running.
  if (m.name.startsWith('swarm.services.')) return `swarm.services.*.${m.name.slice('swarm.services.'.length)}`;
  return relativePath(m.per ? { name: m.name, per: { ...m.per, value: 'PER' } } : m).replace('PER', '*');
}

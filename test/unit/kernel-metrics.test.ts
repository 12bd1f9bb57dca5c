import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRef } from '../../src/model/container.js';
import type { KernelCounters } from '../../src/model/kernel-counters.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import { relativePath } from '../../src/naming/carbon-path.js';
import {
  containerMetrics,
  DEFAULT_METRIC_OPTIONS,
  METRIC_GROUPS,
  type MetricGroup,
} from '../../src/reduce/container-metrics.js';
import type { Metric } from '../../src/model/metric.js';
import { tickMetrics } from '../../src/reduce/tick.js';
import { loadSamples } from '../helpers/fixtures.js';

// The kernel's counters of a container (cgroup/tick-counters.ts) as metrics: with the container's
// other metrics and their time, in their groups (oom_kills in none), absent when unread.

const A: ContainerRef = { id: 'a', name: 'a', image: 'img', labels: {}, facts: {} };
const B: ContainerRef = { id: 'b', name: 'b', image: 'img', labels: {}, facts: {} };
const latest: SampleValues = sampleValues(loadSamples('busy-stream.jsonl').at(-1)!)!;
const SECOND = Math.floor(latest.readMs / 1000);

const V1: KernelCounters = {
  readMs: latest.readMs + 700,
  oomKills: 4,
  memoryFailcnt: 653,
  memoryEvents: undefined,
  pressure: undefined,
  cpuQuotaCpus: undefined,
};
const V2: KernelCounters = {
  readMs: latest.readMs + 700,
  oomKills: 3,
  memoryFailcnt: undefined,
  memoryEvents: { low: 0, high: 4, max: 12, oom: 3, oomKill: 3 },
  pressure: {
    cpu: { someSeconds: 5, fullSeconds: undefined, somePercent: 25 },
    memory: { someSeconds: 0.7, fullSeconds: 0.6, somePercent: 0 },
    io: { someSeconds: 0.14, fullSeconds: 0.03, somePercent: undefined },
  },
  cpuQuotaCpus: undefined,
};

/** The metrics of containers A and B (B without kernel counters), by container and relative path. */
function tick(kernel: KernelCounters | undefined, groups: readonly MetricGroup[] = METRIC_GROUPS): Map<string, Metric> {
  const metrics = tickMetrics(
    [A, B].map((container) => ({ container, first: latest, latest })),
    {
      tickSeconds: SECOND + 1,
      metrics: { ...DEFAULT_METRIC_OPTIONS, groups: new Set(groups) },
      categoryOf: () => undefined,
      kernel: new Map(kernel ? [['a', kernel]] : []),
    },
  );
  const out = new Map<string, Metric>();
  for (const m of metrics)
    if (m.subject.kind === 'container') out.set(`${m.subject.container.id}:${relativePath(m)}`, m);
  return out;
}

const KERNEL_NAMES = /^(oom_kills|memory\.failcnt|memory\.events\..*|pressure\..*)$/;
const kernelOf = (m: Map<string, Metric>, id: string): Record<string, [number, string]> =>
  Object.fromEntries(
    [...m]
      .filter(([k]) => k.startsWith(`${id}:`) && KERNEL_NAMES.test(k.slice(2)))
      .map(([k, v]) => [k.slice(2), [v.value, v.kind]]),
  );

describe('kernel counters as metrics', () => {
  it("cgroup v1: oom_kills and memory.failcnt, counters, stamped like the container's other metrics", () => {
    const m = tick(V1);
    assert.deepEqual(kernelOf(m, 'a'), { oom_kills: [4, 'counter'], 'memory.failcnt': [653, 'counter'] });
    assert.equal(m.get('a:oom_kills')!.time, SECOND);
    assert.equal(m.get('a:oom_kills')!.time, m.get('a:memory.usage')!.time);
  });

  it("cgroup v2: memory.events, pressure seconds (counters), the interval's percent (gauge); unread: absent", () => {
    assert.deepEqual(kernelOf(tick(V2), 'a'), {
      oom_kills: [3, 'counter'],
      'memory.events.low': [0, 'counter'],
      'memory.events.high': [4, 'counter'],
      'memory.events.max': [12, 'counter'],
      'memory.events.oom': [3, 'counter'],
      'memory.events.oom_kill': [3, 'counter'],
      'pressure.cpu.some_seconds': [5, 'counter'],
      'pressure.cpu.some_percent': [25, 'gauge'],
      'pressure.memory.some_seconds': [0.7, 'counter'],
      'pressure.memory.full_seconds': [0.6, 'counter'],
      'pressure.memory.some_percent': [0, 'gauge'],
      'pressure.io.some_seconds': [0.14, 'counter'],
      'pressure.io.full_seconds': [0.03, 'counter'],
    });
  });

  it('a container without kernel counters (a remote Engine, an unreadable tree) gets none of them, never a 0', () => {
    assert.deepEqual(kernelOf(tick(V2), 'b'), {});
    assert.deepEqual(kernelOf(tick(undefined), 'a'), {});
    assert.ok(tick(undefined).has('a:memory.usage'));
  });

  it('--metrics: failcnt and memory.events go with memory, pressure its own group, oom_kills always', () => {
    assert.deepEqual(Object.keys(kernelOf(tick(V2, []), 'a')), ['oom_kills']);
    assert.deepEqual(Object.keys(kernelOf(tick(V1, ['cpu']), 'a')), ['oom_kills']);
    const pressureOnly = Object.keys(kernelOf(tick(V2, ['pressure']), 'a'));
    assert.ok(
      pressureOnly.every((n) => n === 'oom_kills' || n.startsWith('pressure.')),
      pressureOnly.join(),
    );
    assert.ok(pressureOnly.length > 1);
    const noPressure = Object.keys(
      kernelOf(
        tick(
          V2,
          METRIC_GROUPS.filter((g) => g !== 'pressure'),
        ),
        'a',
      ),
    );
    assert.ok(noPressure.includes('memory.events.max') && !noPressure.some((n) => n.startsWith('pressure.')));
  });

  it('pressure is on by default', () => {
    assert.ok(DEFAULT_METRIC_OPTIONS.groups.has('pressure'));
  });

  it("cpu.limit and cpu.percent_of_limit: the kernel's quota where it was read, else inspect's limit", () => {
    const samples = loadSamples('busy-stream.jsonl').map((s) => sampleValues(s)!);
    const first = samples[0]!;
    const stamp = { subject: { kind: 'host' } as const, time: 1 };
    const cpu = (facts: ContainerRef['facts'], kernel?: KernelCounters): [number | undefined, number | undefined] => {
      const ms = containerMetrics(first, latest, facts, DEFAULT_METRIC_OPTIONS, stamp, kernel);
      const of = (name: string): number | undefined => ms.find((m) => m.name === name)?.value;
      return [of('cpu.limit'), of('cpu.percent_of_limit')];
    };
    const percent = containerMetrics(first, latest, {}, DEFAULT_METRIC_OPTIONS, stamp).find(
      (m) => m.name === 'cpu.percent',
    )!.value;
    assert.ok(percent > 0);
    const ofLimit = (cpus: number): number => Math.min(100, percent / cpus);
    // A quota changed since the last inspect (inspect says 4 CPUs, the kernel enforces 1.5).
    assert.deepEqual(cpu({ cpuLimit: 4 }, { ...V1, cpuQuotaCpus: 1.5 }), [1.5, ofLimit(1.5)]);
    assert.deepEqual(cpu({}, { ...V2, cpuQuotaCpus: 0.5 }), [0.5, ofLimit(0.5)]);
    // No quota in the kernel (a cpuset only), its files unread, or no kernel counters (a remote Engine).
    assert.deepEqual(cpu({ cpuLimit: 2 }, V1), [2, ofLimit(2)]);
    assert.deepEqual(cpu({ cpuLimit: 2 }), [2, ofLimit(2)]);
    assert.deepEqual(cpu({}, V2), [undefined, undefined], 'unlimited: absent, never 0');
    const kinds = containerMetrics(first, latest, {}, DEFAULT_METRIC_OPTIONS, stamp, { ...V1, cpuQuotaCpus: 1 })
      .filter((m) => m.name.startsWith('cpu.') && m.name.includes('limit'))
      .map((m) => [m.name, m.kind]);
    assert.deepEqual(kinds, [
      ['cpu.limit', 'gauge'],
      ['cpu.percent_of_limit', 'gauge'],
    ]);
  });
});

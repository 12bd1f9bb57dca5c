import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerFacts, ContainerRef } from '../../src/model/container.js';
import { sampleReadMs, sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import type { DockerStats } from '../../src/docker/stats-types.js';
import { relativePath } from '../../src/naming/carbon-path.js';
import { containerMetrics, DEFAULT_METRIC_OPTIONS, type MetricOptions } from '../../src/reduce/container-metrics.js';
import type { Metric } from '../../src/model/metric.js';
import { SampleStore } from '../../src/reduce/sample-store.js';
import { fixtureFiles, loadSamples } from '../helpers/fixtures.js';

type Expected = Record<string, number>;

/** The 8 network counters under `prefix`, from [rx_bytes, rx_packets, rx_errors, rx_dropped, tx_…]. */
const net = (prefix: string, v: readonly number[]): Expected => {
  const names = [
    'rx_bytes',
    'rx_packets',
    'rx_errors',
    'rx_dropped',
    'tx_bytes',
    'tx_packets',
    'tx_errors',
    'tx_dropped',
  ];
  return Object.fromEntries(names.map((n, i) => [`${prefix}.${n}`, v[i]!]));
};

/**
 * Expected metrics (default options: every group, per-interface on, per-device off) of each fixture
 * file's interval: rates from its first to its last real sample, everything else from the last.
 * Read off the JSON by hand (docs/architecture.md §2). `null` = the file holds no real sample.
 */
const TABLE: Record<string, Expected | null> = {
  // cgroup v1, one interface, four samples: a CPU % over three seconds.
  'busy-stream.jsonl': {
    'cpu.system': 2969650000000,
    'cpu.total': 27603521172,
    'cpu.kernel': 190000000,
    'cpu.user': 27400000000,
    'cpu.percent': ((27603521172 - 24587728628) / (2969650000000 - 2963630000000)) * 2 * 100,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 2555904,
    'memory.max_usage': 4075520,
    'memory.limit': 25276502016,
    'memory.cache': 1781760,
    'memory.active': 2555904 - 1781760,
    'memory.working_set': 2555904 - 475136,
    'memory.percent': ((2555904 - 475136) / 25276502016) * 100,
    'memory.rss': 61440,
    'memory.pgfault': 13827,
    'memory.pgmajfault': 1,
    ...net('network', [876, 10, 0, 0, 0, 0, 0, 0]),
    'network.rx_bytes_per_second': 0,
    'network.tx_bytes_per_second': 0,
    ...net('network.eth0', [876, 10, 0, 0, 0, 0, 0, 0]),
    'pids.current': 1,
  },
  // cgroup v2: cache from `file`, rss from `anon`, no max_usage, two interfaces, lowercase blkio
  // ops, a pids limit. One sample: no rate at all.
  'constructed-cgroup-v2.json': {
    'cpu.system': 2965630000000,
    'cpu.total': 25591020931,
    'cpu.kernel': 512000000,
    'cpu.user': 20110000000,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 52428800,
    'memory.limit': 268435456,
    'memory.cache': 26214400,
    'memory.active': 52428800 - 26214400,
    'memory.working_set': 52428800 - 25165824,
    'memory.percent': ((52428800 - 25165824) / 268435456) * 100,
    'memory.rss': 20971520,
    'memory.pgfault': 90210,
    'memory.pgmajfault': 3,
    ...net('network', [91234 + 1000, 811 + 10, 0 + 1, 0 + 2, 40211 + 2000, 402 + 20, 0, 0]),
    ...net('network.eth0', [91234, 811, 0, 0, 40211, 402, 0, 0]),
    ...net('network.eth1', [1000, 10, 1, 2, 2000, 20, 0, 0]),
    'blkio.read_bytes': 1310720,
    'blkio.write_bytes': 524288,
    'pids.current': 7,
    'pids.limit': 4096,
  },
  // API 1.17: the flat `network` object counts for the totals but names no interface.
  'idle-api1.17-stream.jsonl': {
    'cpu.system': 2993300000000,
    'cpu.total': 25896645,
    'cpu.kernel': 0,
    'cpu.user': 10000000,
    'cpu.percent': 0,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 327680,
    'memory.max_usage': 4087808,
    'memory.limit': 67108864,
    'memory.cache': 0,
    'memory.active': 327680,
    'memory.working_set': 327680,
    'memory.percent': (327680 / 67108864) * 100,
    'memory.rss': 53248,
    'memory.pgfault': 1142,
    'memory.pgmajfault': 0,
    ...net('network', [836, 10, 0, 0, 0, 0, 0, 0]),
    'network.rx_bytes_per_second': 0,
    'network.tx_bytes_per_second': 0,
    'pids.current': 1,
  },
  // --memory 64m --cpus 0.5, idle: CPU % is a real 0 (a pair of samples, no CPU used).
  'idle-limited-stream.jsonl': {
    'cpu.system': 2973620000000,
    'cpu.total': 25896645,
    'cpu.kernel': 0,
    'cpu.user': 10000000,
    'cpu.percent': 0,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 327680,
    'memory.max_usage': 4087808,
    'memory.limit': 67108864,
    'memory.cache': 0,
    'memory.active': 327680,
    'memory.working_set': 327680,
    'memory.percent': (327680 / 67108864) * 100,
    'memory.rss': 53248,
    'memory.pgfault': 1142,
    'memory.pgmajfault': 0,
    ...net('network', [766, 9, 0, 0, 0, 0, 0, 0]),
    'network.rx_bytes_per_second': 0,
    'network.tx_bytes_per_second': 0,
    ...net('network.eth0', [766, 9, 0, 0, 0, 0, 0, 0]),
    'pids.current': 1,
  },
  // one-shot: a single sample, empty precpu: no rate.
  'idle-oneshot.json': {
    'cpu.system': 2941820000000,
    'cpu.total': 25896645,
    'cpu.kernel': 0,
    'cpu.user': 10000000,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 573440,
    'memory.max_usage': 4087808,
    'memory.limit': 67108864,
    'memory.cache': 0,
    'memory.active': 573440,
    'memory.working_set': 573440,
    'memory.percent': (573440 / 67108864) * 100,
    'memory.rss': 53248,
    'memory.pgfault': 1142,
    'memory.pgmajfault': 0,
    ...net('network', [696, 8, 0, 0, 0, 0, 0, 0]),
    ...net('network.eth0', [696, 8, 0, 0, 0, 0, 0, 0]),
    'pids.current': 1,
  },
  // --network none: no network metric at all (never zeros).
  'nonet-stream.jsonl': {
    'cpu.system': 2982120000000,
    'cpu.total': 28256534,
    'cpu.kernel': 10000000,
    'cpu.user': 10000000,
    'cpu.percent': 0,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 827392,
    'memory.max_usage': 4087808,
    'memory.limit': 25276502016,
    'memory.cache': 204800,
    'memory.active': 827392 - 204800,
    'memory.working_set': 827392,
    'memory.percent': (827392 / 25276502016) * 100,
    'memory.rss': 53248,
    'memory.pgfault': 1144,
    'memory.pgmajfault': 1,
    'pids.current': 1,
  },
  // Podman 4.3: no memory stats map (so no cache/active/rss), a pseudo-interface `network` that
  // only counts for the totals.
  'podman-4.3-stream.jsonl': {
    'cpu.system': 1035262393433,
    'cpu.total': 40071376,
    'cpu.kernel': 16000000,
    'cpu.user': 24071376,
    'cpu.online': 2,
    'cpu.throttled_periods': 0,
    'cpu.throttled_time': 0,
    'memory.usage': 569344,
    'memory.limit': 25276502016,
    'memory.working_set': 569344,
    'memory.percent': (569344 / 25276502016) * 100,
    ...net('network', [0, 0, 0, 0, 0, 0, 0, 0]),
    'pids.current': 1,
  },
  // A stopped container's stream: only placeholders, never metrics.
  'stopped-stream.jsonl': null,
};

const A: ContainerRef = { id: 'a', name: 'a', image: 'img', labels: {}, facts: {} };
const STAMP = { subject: { kind: 'container', container: A }, time: 1 } as const;

/** The reducer's metrics of one container's interval, about container A. */
const metricsOf = (
  first: SampleValues,
  latest: SampleValues,
  facts: ContainerFacts = {},
  opts: MetricOptions = DEFAULT_METRIC_OPTIONS,
): Metric[] => containerMetrics(first, latest, facts, opts, STAMP);

/** Metrics by their path below the container (`network.eth0.rx_bytes`). */
const asRecord = (values: Metric[]): Expected => Object.fromEntries(values.map((v) => [relativePath(v), v.value]));

/** A real sample's values, as the store holds them. */
const valuesOf = (sample: DockerStats): SampleValues => sampleValues(sample)!;

/** Close enough for a computed rate; exact for everything else. */
function assertMetrics(actual: Expected, expected: Expected): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [name, value] of Object.entries(expected)) {
    assert.ok(Math.abs(actual[name]! - value) <= Math.abs(value) * 1e-12, `${name}: ${actual[name]} ≠ ${value}`);
  }
}

describe('containerMetrics over every captured fixture', () => {
  it('has an expectation for every fixture file', () => {
    assert.deepEqual(fixtureFiles(), Object.keys(TABLE).sort());
  });

  for (const [file, expected] of Object.entries(TABLE)) {
    it(file, () => {
      const real = loadSamples(file).filter((s) => sampleReadMs(s) !== undefined);
      if (expected === null) {
        assert.equal(real.length, 0, 'a stopped container sends no real sample');
        return;
      }
      assertMetrics(asRecord(metricsOf(valuesOf(real[0]!), valuesOf(real.at(-1)!))), expected);
    });
  }

  it('the original 18 names keep their values in every fixture', () => {
    const original = [
      'cpu.system',
      'cpu.total',
      'cpu.kernel',
      'cpu.user',
      'memory.usage',
      'memory.max_usage',
      'memory.limit',
      'memory.cache',
      'memory.active',
      ...Object.keys(net('network', [])),
    ];
    for (const [file, expected] of Object.entries(TABLE)) {
      if (!expected) continue;
      const last = valuesOf(loadSamples(file).at(-1)!);
      const values = asRecord(metricsOf(last, last));
      for (const name of original) assert.equal(values[name], expected[name], `${file} ${name}`);
    }
  });
});

describe('rates', () => {
  const busy = loadSamples('busy-stream.jsonl').map(valuesOf);

  it("the busy container's CPU % over the interval agrees with docker stats' per-second figure", () => {
    // docker stats shows (Δtotal / Δsystem) × CPUs × 100 for each consecutive pair; over the whole
    // interval the figure is the same formula on the end points.
    const values = asRecord(metricsOf(busy[0]!, busy[3]!));
    assert.ok(Math.abs(values['cpu.percent']! - 100.19) < 0.01, String(values['cpu.percent']));
  });

  it('a counter reset: the store keeps only the samples after it, so no negative rate', () => {
    const store = new SampleStore();
    const ref = A;
    const record = (sample: DockerStats) => store.record(ref, sampleValues(sample));
    const [s0, s1] = loadSamples('busy-stream.jsonl');
    const restartedAt = (ms: number, total: number, rx: number): DockerStats => ({
      ...s1!,
      read: new Date(Date.parse(s1!.read!) + ms).toISOString(),
      cpu_stats: {
        ...s1!.cpu_stats,
        cpu_usage: { total_usage: total },
        system_cpu_usage: s1!.cpu_stats!.system_cpu_usage! + ms * 2e6,
      },
      networks: { eth0: { rx_bytes: rx, tx_bytes: 0 } },
    });
    record(s0!);
    record(s1!);
    assert.equal(record(restartedAt(5000, 1e9, 100)), 'reset');
    record(restartedAt(7000, 2e9, 300));
    const [reading] = store.take();
    const values = asRecord(metricsOf(reading!.first, reading!.latest));
    assert.equal(values['cpu.total'], 2e9);
    // Δtotal 1e9 ns over Δsystem 2000 ms × 2e6 = 4e9 ns, × 2 CPUs × 100.
    assert.ok(Math.abs(values['cpu.percent']! - 50) < 1e-9, String(values['cpu.percent']));
    assert.equal(values['network.rx_bytes_per_second'], 100);
  });

  it('rates are never negative and need a pair', () => {
    const [a, b] = busy;
    const backwards = asRecord(metricsOf(b!, { ...a!, readMs: b!.readMs + 1000 }));
    assert.equal(backwards['cpu.percent'], undefined);
    const single = asRecord(metricsOf(a!, a!));
    assert.equal(single['cpu.percent'], undefined);
    assert.equal(single['network.rx_bytes_per_second'], undefined);
    assert.ok(b!.readMs - a!.readMs > 0);
  });

  it('block I/O: sums per op case-insensitively (v1 Read/Write, v2 read/write), per device on request', () => {
    const v1 = (read: number, ms: number): SampleValues =>
      valuesOf({
        read: new Date(ms).toISOString(),
        blkio_stats: {
          io_service_bytes_recursive: [
            { major: 8, minor: 0, op: 'Read', value: read },
            { major: 8, minor: 0, op: 'Write', value: 10 },
            { major: 8, minor: 0, op: 'Total', value: read + 10 },
            { major: 8, minor: 16, op: 'Read', value: 1000 },
          ],
        },
      });
    const opts = { groups: new Set(['blkio'] as const), perInterface: true, perDevice: true };
    const values = asRecord(metricsOf(v1(4000, 1_000_000), v1(6000, 1_002_000), {}, opts));
    assert.deepEqual(values, {
      'blkio.read_bytes': 7000,
      'blkio.read_bytes_per_second': 1000,
      'blkio.8_0.read_bytes': 6000,
      'blkio.8_16.read_bytes': 1000,
      'blkio.write_bytes': 10,
      'blkio.write_bytes_per_second': 0,
      'blkio.8_0.write_bytes': 10,
    });
  });
});

describe('containerMetrics options and facts', () => {
  const [sample] = loadSamples('busy-stream.jsonl');
  const one = valuesOf(sample!);

  it('reports uptime in whole seconds since State.StartedAt, and the restart count', () => {
    const values = asRecord(metricsOf(one, one, { startedAtMs: one.readMs - 3_723_900, restartCount: 2 }));
    assert.equal(values['uptime'], 3723);
    assert.equal(values['restarts'], 2);
  });

  it('leaves uptime out when the start time is unknown or after the sample', () => {
    assert.equal(asRecord(metricsOf(one, one))['uptime'], undefined);
    assert.equal(asRecord(metricsOf(one, one, { startedAtMs: one.readMs + 5000 }))['uptime'], undefined);
  });

  it('health: 1/0 and the failing streak for containers with a healthcheck, nothing while starting', () => {
    const h = (status: 'healthy' | 'unhealthy' | 'starting', failingStreak: number) =>
      asRecord(metricsOf(one, one, { health: { status, failingStreak } }));
    assert.equal(h('healthy', 0)['health.healthy'], 1);
    assert.equal(h('unhealthy', 3)['health.healthy'], 0);
    assert.equal(h('unhealthy', 3)['health.failing_streak'], 3);
    assert.equal(h('starting', 0)['health.healthy'], undefined);
    assert.equal(asRecord(metricsOf(one, one))['health.healthy'], undefined);
  });

  it('--metrics groups and --per-interface choose what is reported', () => {
    const only = (groups: string[], perInterface = true) =>
      Object.keys(
        asRecord(
          metricsOf(
            one,
            one,
            { restartCount: 0 },
            { groups: new Set(groups as never[]), perInterface, perDevice: false },
          ),
        ),
      );
    assert.ok(only(['cpu']).every((n) => n.startsWith('cpu.') || n === 'restarts'));
    assert.ok(only(['network']).includes('network.eth0.rx_bytes'));
    assert.ok(!only(['network'], false).includes('network.eth0.rx_bytes'));
    assert.ok(only(['network'], false).includes('network.rx_bytes'));
    assert.deepEqual(only([]), ['restarts']);
  });

  it('never emits NaN, null or strings', () => {
    const weird = {
      read: '2026-01-01T00:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: Number.NaN, usage_in_kernelmode: null as unknown as number } },
      memory_stats: { usage: '12' as unknown as number, limit: Infinity },
      networks: { 'eth 0': { rx_bytes: 'x' as unknown as number, tx_bytes: 5 } },
    };
    const t = valuesOf(weird);
    const values = metricsOf(t, t);
    assert.deepEqual(asRecord(values), { 'network.tx_bytes': 5, 'network.eth_0.tx_bytes': 5 });
  });
});

describe('metric kinds and the structure sinks read', () => {
  const [first, , , last] = loadSamples('busy-stream.jsonl').map(valuesOf);
  const metrics = metricsOf(first!, last!, { restartCount: 1, startedAtMs: first!.readMs - 10_000 });
  const kind = (path: string) => metrics.find((m) => relativePath(m) === path)?.kind;

  it('counters only go up; everything else is a gauge', () => {
    for (const path of [
      'cpu.system',
      'cpu.total',
      'cpu.kernel',
      'cpu.user',
      'cpu.throttled_periods',
      'cpu.throttled_time',
      'memory.pgfault',
      'memory.pgmajfault',
      'network.rx_bytes',
      'network.tx_dropped',
      'network.eth0.rx_bytes',
      'restarts',
    ]) {
      assert.equal(kind(path), 'counter', path);
    }
    for (const path of [
      'cpu.percent',
      'cpu.online',
      'memory.usage',
      'memory.limit',
      'memory.working_set',
      'memory.percent',
      'network.rx_bytes_per_second',
      'pids.current',
      'uptime',
    ]) {
      assert.equal(kind(path), 'gauge', path);
    }
  });

  it('per-interface metrics keep the interface apart from the name, as the Engine named it', () => {
    const eth0 = metrics.filter((m) => m.per !== undefined);
    assert.equal(eth0.length, 8);
    for (const m of eth0) {
      assert.deepEqual(m.per, { key: 'interface', value: 'eth0' });
      assert.match(m.name, /^network\.(rx|tx)_(bytes|packets|errors|dropped)$/);
    }
    assert.ok(metrics.every((m) => m.subject === STAMP.subject && m.time === STAMP.time));
  });
});

describe('sampleReadMs', () => {
  it('rejects the stopped placeholder, missing and unparseable times', () => {
    assert.equal(sampleReadMs({ read: '0001-01-01T00:00:00Z' }), undefined);
    assert.equal(sampleReadMs({}), undefined);
    assert.equal(sampleReadMs({ read: 'yesterday' }), undefined);
  });
  it('keeps nanosecond timestamps to the millisecond', () => {
    assert.equal(sampleReadMs({ read: '2026-11-22T07:24:15.28040367Z' }), Date.UTC(2026, 10, 22, 7, 24, 15, 280));
  });
});

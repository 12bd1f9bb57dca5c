import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRef } from '../../src/model/container.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { DockerStats } from '../../src/docker/stats-types.js';
import { CarbonPaths } from '../../src/naming/carbon-path.js';
import { parseRules, type Rule } from '../../src/naming/rules.js';
import { DEFAULT_METRIC_OPTIONS } from '../../src/reduce/container-metrics.js';
import { SampleStore } from '../../src/reduce/sample-store.js';
import { tickMetrics, type ContainerReading } from '../../src/reduce/tick.js';
import { carbonPointSink } from '../../src/sinks/carbon-point.js';
import type { LazyItems } from '../../src/sinks/sink.js';
import { loadSamples } from '../helpers/fixtures.js';

/** A container as the tracker makes it. */
const ref = (id: string, name: string): ContainerRef => ({ id, name, image: 'img', labels: {}, facts: {} });

/** What the carbon-speaking sinks send for a tick: its metrics through the one carbon naming. */
function carbonBatch(
  readings: ContainerReading[],
  opts: { rules: readonly Rule[]; pathPrefix: string; hostPath: string; tickSeconds: number },
) {
  const paths = new CarbonPaths(opts);
  return paths.points(
    tickMetrics(readings, {
      tickSeconds: opts.tickSeconds,
      metrics: DEFAULT_METRIC_OPTIONS,
      categoryOf: (c) => paths.container(c).category,
    }),
  );
}

/** Records an Engine sample as the collectors do. */
const record = (store: SampleStore, container: ContainerRef, sample: DockerStats) =>
  store.record(container, sampleValues(sample));

const [busy] = loadSamples('busy-stream.jsonl').slice(-1);
const [v2] = loadSamples('constructed-cgroup-v2.json');
const stopped = loadSamples('stopped-stream.jsonl');

describe('a tick through the carbon naming', () => {
  it('names container metrics after the rewritten, sanitised container name, stamped with the read time', () => {
    const store = new SampleStore();
    record(store, ref('f8a0cd5c14b62b65', 'fx-busy'), busy!);
    record(store, ref('ffff', 'web.api.blue.1'), v2!);
    const rules = parseRules('[{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2","category":"web"}]');
    const batch = carbonBatch(store.take(), { rules, pathPrefix: '', hostPath: 'host1', tickSeconds: 1795332300 });
    const byPath = new Map(batch.map((m) => [m.path, m]));
    assert.deepEqual(byPath.get('fx-busy.cpu.total'), {
      path: 'fx-busy.cpu.total',
      value: 27603521172,
      time: 1795332257,
    });
    assert.deepEqual(byPath.get('web.blue.memory.cache'), {
      path: 'web.blue.memory.cache',
      value: 26214400,
      time: 1795332255,
    });
    assert.deepEqual(byPath.get('host1.containers.total'), {
      path: 'host1.containers.total',
      value: 2,
      time: 1795332300,
    });
    assert.deepEqual(byPath.get('host1.containers.web'), { path: 'host1.containers.web', value: 1, time: 1795332300 });
    // Default metrics: fx-busy 34 (7 cpu, 10 memory, 8 + 8 eth0 network, 1 pids), web.api.blue.1
    // 44 (7 cpu, 9 memory, 8 + 2 × 8 network, 2 blkio, 2 pids), 2 host metrics.
    assert.equal(batch.length, 34 + 44 + 2);
  });

  it('puts the path prefix in front of every path, host metrics included', () => {
    const store = new SampleStore();
    record(store, ref('abc', 'fx-busy'), busy!);
    const batch = carbonBatch(store.take(), { rules: [], pathPrefix: 'dc1.h', hostPath: 'h', tickSeconds: 1 });
    assert.ok(batch.length > 0);
    for (const m of batch) assert.match(m.path, /^dc1\.h\./);
    assert.ok(batch.some((m) => m.path === 'dc1.h.fx-busy.memory.usage'));
    assert.ok(batch.some((m) => m.path === 'dc1.h.h.containers.total'));
  });

  it('sanitises every path: no space, newline or stray character reaches a sink', () => {
    const store = new SampleStore();
    record(store, ref('abc', 'evil name\nx.metric 1 2'), busy!);
    const batch = carbonBatch(store.take(), { rules: [], pathPrefix: '', hostPath: 'h', tickSeconds: 1 });
    for (const m of batch) assert.match(m.path, /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/);
    assert.ok(batch.some((m) => m.path === 'evil_name_x.metric_1_2.cpu.total'));
  });

  it('sends only containers.total = 0 for an interval without samples', () => {
    const batch = carbonBatch([], { rules: [], pathPrefix: '', hostPath: 'h', tickSeconds: 60 });
    assert.deepEqual(batch, [{ path: 'h.containers.total', value: 0, time: 60 }]);
  });
});

describe("a tick's carbon points, made as they are taken", () => {
  it('are counted at the tick and made later, the same points whatever the store did meanwhile', () => {
    const store = new SampleStore();
    const values = loadSamples('busy-stream.jsonl').map((x) => sampleValues(x)!);
    const a = ref('a', 'web.a');
    const b = ref('b', 'web.b');
    for (const v of values.slice(0, 3)) {
      store.record(a, v);
      store.record(b, v);
    }
    const paths = new CarbonPaths({ rules: [], pathPrefix: 'pre', hostPath: 'h' });
    const metrics = tickMetrics(store.take(), {
      tickSeconds: 1795332300,
      metrics: DEFAULT_METRIC_OPTIONS,
      categoryOf: () => undefined,
    });
    const eager = paths.points(metrics);
    const lazy = carbonPointSink(paths).encode({ time: 1795332300, metrics, followed: [] }) as LazyItems<{
      path: string;
    }>;
    assert.equal(lazy.count, eager.length);
    assert.ok(eager.length > 40);
    // The store goes on (the next interval's samples are written into copies of its own).
    for (let k = 0; k < 4; k++) store.record(a, { ...values[3]!, readMs: values[3]!.readMs + k * 1000 });
    const later: unknown[] = [];
    for (let next = lazy.items.next(); !next.done; next = lazy.items.next()) later.push(next.value);
    assert.deepEqual(later, eager);
  });
});

describe('SampleStore', () => {
  it('keeps the latest real sample per container and never a stopped placeholder', () => {
    const store = new SampleStore();
    const a = ref('a', 'a');
    const samples = loadSamples('busy-stream.jsonl');
    for (const s of samples) assert.equal(record(store, a, s), 'recorded');
    for (const s of stopped) assert.equal(record(store, a, s), 'empty');
    const [reading] = store.take();
    assert.deepEqual(reading?.latest, sampleValues(samples.at(-1)!));
    assert.equal(store.take().length, 0, 'a new interval starts empty');
  });

  it('holds the values of a sample, never a part of its parsed JSON (which must die young)', () => {
    const store = new SampleStore();
    const sample = structuredClone(v2!);
    record(store, ref('a', 'a'), sample);
    const [reading] = store.take();
    const parts = new Set<unknown>();
    const collect = (o: unknown): void => {
      if (o === null || typeof o !== 'object' || parts.has(o)) return;
      parts.add(o);
      for (const v of Object.values(o)) collect(v);
    };
    collect(sample);
    const held: unknown[] = [];
    const walk = (o: unknown): void => {
      if (o === null || typeof o !== 'object') return;
      held.push(o);
      for (const v of Object.values(o)) walk(v);
    };
    walk(reading!.latest);
    assert.ok(held.length > 1);
    for (const o of held) assert.ok(!parts.has(o), 'the store holds an object of the parsed sample');
  });

  it('keeps copies of its own: what it hands over never changes, and no object the collector made is kept', () => {
    const store = new SampleStore();
    const a = ref('a', 'a');
    const values = loadSamples('busy-stream.jsonl').map((x) => sampleValues(x)!);
    for (const v of values.slice(0, 3)) store.record(a, v);
    const [reading] = store.take();
    const snapshot = structuredClone(reading!);
    assert.deepEqual(reading!.first, values[0]);
    assert.deepEqual(reading!.latest, values[2]);
    for (const v of values.slice(0, 3)) {
      assert.notEqual(reading!.first, v);
      assert.notEqual(reading!.latest, v);
    }
    // The next interval: its first sample, a copy of its second, the third and fourth written into that copy.
    const later = [0, 1, 2, 3].map((k) => ({ ...values[3]!, readMs: values[3]!.readMs + k * 1000 }));
    for (const v of later) store.record(a, v);
    assert.deepEqual(reading, snapshot, 'the next interval writes into copies of its own');
    const [next] = store.take();
    assert.deepEqual(next?.first, later[0]);
    assert.deepEqual(next?.latest, later[3]);
  });

  // With carryBaseline (one-shot mode) every interval runs from the previous one's latest; without it
  // (cgroup mode at --poll 1s: one sample a second, so one per interval) only an interval of one sample.
  for (const carryBaseline of [true, false]) {
    const title = `${carryBaseline ? 'with' : 'without'} carryBaseline, a lone sample runs from the last latest`;
    it(`${title}, never across a reset`, () => {
      const store = new SampleStore({ carryBaseline });
      const a = ref('a', 'a');
      const values = loadSamples('busy-stream.jsonl').map((x) => sampleValues(x)!);
      store.record(a, values[0]!);
      const [one] = store.take();
      assert.equal(one?.first, one?.latest, 'the first interval has nothing before it');
      store.record(a, values[1]!);
      const [two] = store.take();
      assert.deepEqual(two?.first, values[0]);
      assert.deepEqual(two?.latest, values[1]);
      store.record(a, values[2]!);
      store.record(a, values[3]!);
      const [three] = store.take();
      if (carryBaseline) assert.deepEqual(three?.first, values[1]);
      else assert.deepEqual(three?.first, values[2], 'an interval of two samples or more runs over its own');
      assert.deepEqual(three?.latest, values[3]);
      const restarted = { ...values[3]!, readMs: values[3]!.readMs + 1_000, cpuTotal: 1 };
      store.record(a, restarted);
      const [four] = store.take();
      assert.equal(four?.first, four?.latest, 'counters went back: no rate across the restart');
      assert.deepEqual(two?.latest, values[1], 'a reading handed over stays as it was');
    });
  }

  it('ignores a sample older than the one held', () => {
    const store = new SampleStore();
    const a = ref('a', 'a');
    const samples = loadSamples('busy-stream.jsonl');
    record(store, a, samples[2]!);
    assert.equal(record(store, a, samples[1]!), 'stale');
    assert.deepEqual(store.take()[0]?.latest, sampleValues(samples[2]!));
  });

  it('after a restart (counter reset) reports the new, smaller counters', () => {
    const store = new SampleStore();
    const a = ref('a', 'a');
    const before = loadSamples('busy-stream.jsonl').at(-1)!;
    const after = { ...before, read: '2026-11-22T08:00:00Z', cpu_stats: { cpu_usage: { total_usage: 1000 } } };
    record(store, a, before);
    record(store, a, stopped[0]!);
    record(store, a, after);
    const batch = carbonBatch(store.take(), { rules: [], pathPrefix: '', hostPath: 'h', tickSeconds: 1 });
    assert.equal(batch.find((m) => m.path === 'a.cpu.total')?.value, 1000);
  });

  it('uses the name the container had at its latest sample (renames are followed)', () => {
    const store = new SampleStore();
    const samples = loadSamples('busy-stream.jsonl');
    record(store, ref('a', 'old'), samples[0]!);
    record(store, ref('a', 'new'), samples[1]!);
    const [reading] = store.take();
    assert.equal(reading?.container.name, 'new');
  });
});

describe("the sample store and Graphite's one value per path and second", () => {
  /** The busy fixture's sample, read at `ms` (epoch ms), its CPU counter at `cpu`. */
  const at = (ms: number, cpu: number) => {
    const v = sampleValues(busy!)!;
    return { ...v, readMs: ms, cpuTotal: (v.cpuTotal ?? 0) + cpu };
  };
  const c = ref('c1', 'web');
  const seconds = (readings: ContainerReading[]) => readings.map((r) => Math.floor(r.latest.readMs / 1000));

  it('holds back a sample read in the second already sent for its container, until a newer one comes', () => {
    const store = new SampleStore();
    store.record(c, at(5_100, 1));
    assert.deepEqual(seconds(store.take()), [5]);
    store.record(c, at(5_900, 2));
    assert.deepEqual(seconds(store.take()), [], 'second 5 again would overwrite its points with other values');
    store.record(c, at(6_800, 3));
    const [r] = store.take();
    assert.equal(Math.floor(r!.latest.readMs / 1000), 6);
    assert.equal(r!.first.readMs, 5_900, 'the interval spans the sample held back');
  });

  it('gives a held-back sample up when nothing newer comes (the container stopped), and forgets it', () => {
    const store = new SampleStore();
    store.record(c, at(5_100, 1));
    store.take();
    store.record(c, at(5_900, 2));
    assert.deepEqual(store.take(), []);
    assert.equal(store.size, 1, 'held for one more tick');
    assert.deepEqual(store.take(), []);
    assert.equal(store.size, 0, 'then given up');
    store.record(c, at(9_000, 3));
    assert.deepEqual(seconds(store.take()), [9]);
  });
});

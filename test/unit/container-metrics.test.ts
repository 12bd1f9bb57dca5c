import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerMetrics } from '../../src/reduce/container-metrics.js';
import { sampleReadMs } from '../../src/reduce/sample-time.js';
import { fixtureFiles, loadSamples } from '../helpers/fixtures.js';

type Expected = Record<string, number>;

/**
 * Expected metrics of the LAST sample of each fixture file, read off the JSON by hand
 * (DESIGN.md §4). `null` = the file holds no real sample at all.
 */
const TABLE: Record<string, Expected | null> = {
  // cgroup v1, one interface.
  'busy-stream.jsonl': {
    'cpu.system': 2969650000000,
    'cpu.total': 27603521172,
    'cpu.kernel': 190000000,
    'cpu.user': 27400000000,
    'memory.usage': 2555904,
    'memory.max_usage': 4075520,
    'memory.limit': 25276502016,
    'memory.cache': 1781760,
    'memory.active': 2555904 - 1781760,
    'network.rx_bytes': 876,
    'network.rx_packets': 10,
    'network.rx_errors': 0,
    'network.rx_dropped': 0,
    'network.tx_bytes': 0,
    'network.tx_packets': 0,
    'network.tx_errors': 0,
    'network.tx_dropped': 0,
  },
  // cgroup v2: cache from `file`, no max_usage, two interfaces summed.
  'constructed-cgroup-v2.json': {
    'cpu.system': 2965630000000,
    'cpu.total': 25591020931,
    'cpu.kernel': 512000000,
    'cpu.user': 20110000000,
    'memory.usage': 52428800,
    'memory.limit': 268435456,
    'memory.cache': 26214400,
    'memory.active': 52428800 - 26214400,
    'network.rx_bytes': 91234 + 1000,
    'network.rx_packets': 811 + 10,
    'network.rx_errors': 0 + 1,
    'network.rx_dropped': 0 + 2,
    'network.tx_bytes': 40211 + 2000,
    'network.tx_packets': 402 + 20,
    'network.tx_errors': 0,
    'network.tx_dropped': 0,
  },
  // API 1.17: the flat `network` object.
  'idle-api1.17-stream.jsonl': {
    'cpu.system': 2993300000000,
    'cpu.total': 25896645,
    'cpu.kernel': 0,
    'cpu.user': 10000000,
    'memory.usage': 327680,
    'memory.max_usage': 4087808,
    'memory.limit': 67108864,
    'memory.cache': 0,
    'memory.active': 327680,
    'network.rx_bytes': 836,
    'network.rx_packets': 10,
    'network.rx_errors': 0,
    'network.rx_dropped': 0,
    'network.tx_bytes': 0,
    'network.tx_packets': 0,
    'network.tx_errors': 0,
    'network.tx_dropped': 0,
  },
  'idle-limited-stream.jsonl': {
    'cpu.system': 2973620000000,
    'cpu.total': 25896645,
    'cpu.kernel': 0,
    'cpu.user': 10000000,
    'memory.usage': 327680,
    'memory.max_usage': 4087808,
    'memory.limit': 67108864,
    'memory.cache': 0,
    'memory.active': 327680,
    'network.rx_bytes': 766,
    'network.rx_packets': 9,
    'network.rx_errors': 0,
    'network.rx_dropped': 0,
    'network.tx_bytes': 0,
    'network.tx_packets': 0,
    'network.tx_errors': 0,
    'network.tx_dropped': 0,
  },
  'idle-oneshot.json': {
    'cpu.system': 2941820000000,
    'cpu.total': 25896645,
    'cpu.kernel': 0,
    'cpu.user': 10000000,
    'memory.usage': 573440,
    'memory.max_usage': 4087808,
    'memory.limit': 67108864,
    'memory.cache': 0,
    'memory.active': 573440,
    'network.rx_bytes': 696,
    'network.rx_packets': 8,
    'network.rx_errors': 0,
    'network.rx_dropped': 0,
    'network.tx_bytes': 0,
    'network.tx_packets': 0,
    'network.tx_errors': 0,
    'network.tx_dropped': 0,
  },
  // --network none: no network metric at all (never zeros).
  'nonet-stream.jsonl': {
    'cpu.system': 2982120000000,
    'cpu.total': 28256534,
    'cpu.kernel': 10000000,
    'cpu.user': 10000000,
    'memory.usage': 827392,
    'memory.max_usage': 4087808,
    'memory.limit': 25276502016,
    'memory.cache': 204800,
    'memory.active': 827392 - 204800,
  },
  // Podman 4.3: no memory stats map (so no cache/active), a pseudo-interface `network`.
  'podman-4.3-stream.jsonl': {
    'cpu.system': 1035262393433,
    'cpu.total': 40071376,
    'cpu.kernel': 16000000,
    'cpu.user': 24071376,
    'memory.usage': 569344,
    'memory.limit': 25276502016,
    'network.rx_bytes': 0,
    'network.rx_packets': 0,
    'network.rx_errors': 0,
    'network.rx_dropped': 0,
    'network.tx_bytes': 0,
    'network.tx_packets': 0,
    'network.tx_errors': 0,
    'network.tx_dropped': 0,
  },
  // A stopped container's stream: only placeholders, never metrics.
  'stopped-stream.jsonl': null,
};

const asRecord = (values: { name: string; value: number }[]): Expected =>
  Object.fromEntries(values.map((v) => [v.name, v.value]));

describe('containerMetrics over every captured fixture', () => {
  it('has an expectation for every fixture file', () => {
    assert.deepEqual(fixtureFiles(), Object.keys(TABLE).sort());
  });

  for (const [file, expected] of Object.entries(TABLE)) {
    it(file, () => {
      const samples = loadSamples(file);
      const real = samples.filter((s) => sampleReadMs(s) !== undefined);
      if (expected === null) {
        assert.equal(real.length, 0, 'a stopped container sends no real sample');
        return;
      }
      const last = samples.at(-1)!;
      const readMs = sampleReadMs(last);
      assert.ok(readMs !== undefined);
      assert.deepEqual(asRecord(containerMetrics(last, readMs)), expected);
    });
  }
});

describe('containerMetrics details', () => {
  const [sample] = loadSamples('busy-stream.jsonl');
  const readMs = sampleReadMs(sample!)!;

  it('reports uptime in whole seconds since State.StartedAt', () => {
    const started = readMs - 3_723_900;
    const values = asRecord(containerMetrics(sample!, readMs, { startedAtMs: started }));
    assert.equal(values['uptime'], 3723);
  });

  it('leaves uptime out when the start time is unknown or after the sample', () => {
    assert.equal(asRecord(containerMetrics(sample!, readMs))['uptime'], undefined);
    assert.equal(asRecord(containerMetrics(sample!, readMs, { startedAtMs: readMs + 5000 }))['uptime'], undefined);
  });

  it('never emits NaN, null or strings', () => {
    const weird = {
      read: '2026-01-01T00:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: Number.NaN, usage_in_kernelmode: null as unknown as number } },
      memory_stats: { usage: '12' as unknown as number, limit: Infinity },
      networks: { eth0: { rx_bytes: 'x' as unknown as number, tx_bytes: 5 } },
    };
    const values = containerMetrics(weird, Date.parse(weird.read));
    assert.deepEqual(asRecord(values), { 'network.tx_bytes': 5 });
  });

  it('reads the first sample of a stream (zero preread) as a normal sample', () => {
    assert.equal(sample!.preread, '0001-01-01T00:00:00Z');
    assert.equal(asRecord(containerMetrics(sample!, readMs))['cpu.total'], 24587728628);
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

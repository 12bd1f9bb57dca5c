import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRules } from '../../src/naming/rules.js';
import { chunkLines } from '../../src/sinks/carbon-encode.js';
import { toRegistry } from '../../src/sinks/prometheus/registry.js';
import { LatestSeries, SeriesMapper, type ContainerInfo } from '../../src/sinks/prometheus/series.js';

const web: ContainerInfo = { id: 'a'.repeat(64), name: 'pid.bla.web.service', image: 'nginx:1', labels: { 'com.example.team': 'blue' } };
const db: ContainerInfo = { id: 'b'.repeat(64), name: 'db', image: 'postgres:16', labels: {} };
const opts = {
  rules: parseRules('{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}'),
  pathPrefix: 'dc1',
  hostPath: 'host1',
  containerLabels: ['com.example.team'],
};

describe('SeriesMapper: carbon paths → Prometheus series', () => {
  const cases: { path: string; family: string; type: 'gauge' | 'counter'; labels: Record<string, string> }[] = [
    { path: 'dc1.pid.web.cpu.total', family: 'docker_container_cpu_total', type: 'counter', labels: { name: web.name, id: web.id, image: 'nginx:1', label_com_example_team: 'blue' } },
    { path: 'dc1.pid.web.cpu.system', family: 'docker_container_cpu_system_total', type: 'counter', labels: { name: web.name, id: web.id, image: 'nginx:1', label_com_example_team: 'blue' } },
    { path: 'dc1.pid.web.memory.usage', family: 'docker_container_memory_usage', type: 'gauge', labels: { name: web.name, id: web.id, image: 'nginx:1', label_com_example_team: 'blue' } },
    { path: 'dc1.db.network.eth0.rx_bytes', family: 'docker_container_network_interface_rx_bytes_total', type: 'counter', labels: { name: 'db', id: db.id, image: 'postgres:16', label_com_example_team: '', interface: 'eth0' } },
    { path: 'dc1.db.blkio.8_0.read_bytes', family: 'docker_container_blkio_device_read_bytes_total', type: 'counter', labels: { name: 'db', id: db.id, image: 'postgres:16', label_com_example_team: '', device: '8_0' } },
    { path: 'dc1.db.uptime', family: 'docker_container_uptime', type: 'gauge', labels: { name: 'db', id: db.id, image: 'postgres:16', label_com_example_team: '' } },
    { path: 'dc1.gone.memory.limit', family: 'docker_container_memory_limit', type: 'gauge', labels: { name: 'gone', id: '', image: '', label_com_example_team: '' } },
    { path: 'dc1.host1.containers.total', family: 'docker_containers', type: 'gauge', labels: { category: 'total' } },
    { path: 'dc1.host1.docker_stats_to_backstop.samples', family: 'docker_stats_to_backstop_samples_total', type: 'counter', labels: {} },
    { path: 'dc1.host1.docker_stats_to_backstop.buffered', family: 'docker_stats_to_backstop_buffered', type: 'gauge', labels: {} },
  ];
  for (const c of cases) {
    it(c.path, () => {
      const [s] = new SeriesMapper(opts).map([{ path: c.path, value: 7, time: 1 }], [web, db]);
      assert.ok(s, 'mapped');
      assert.equal(s.family, c.family);
      assert.equal(s.type, c.type);
      assert.deepEqual(s.labels, c.labels);
      assert.equal(s.value, 7);
    });
  }

  it('leaves out paths outside the prefix and paths it cannot read', () => {
    assert.deepEqual(new SeriesMapper(opts).map([{ path: 'other.db.uptime', value: 1, time: 1 }, { path: 'dc1.db.whatever', value: 1, time: 1 }], [db]), []);
  });
});

describe('LatestSeries', () => {
  it('keeps a followed container missing from one batch, and drops it once it is no longer followed', () => {
    const latest = new LatestSeries(opts);
    const names = (series: { labels: Record<string, string> }[]) => [...new Set(series.map((s) => s.labels['name']).filter(Boolean))].sort();
    assert.deepEqual(names(latest.update([{ path: 'dc1.db.uptime', value: 1, time: 1 }, { path: 'dc1.pid.web.uptime', value: 1, time: 1 }], [web, db])), ['db', web.name]);
    assert.deepEqual(names(latest.update([{ path: 'dc1.db.uptime', value: 2, time: 2 }], [web, db])), ['db', web.name], 'web still followed');
    assert.deepEqual(names(latest.update([{ path: 'dc1.db.uptime', value: 3, time: 3 }], [db])), ['db'], 'web is gone');
  });
});

describe('toRegistry', () => {
  it('renders the text exposition format, escaping label values', async () => {
    const text = await toRegistry([
      { family: 'docker_container_uptime', type: 'gauge', help: 'h', labels: { name: 'a"b\\c' }, value: 5 },
      { family: 'docker_container_cpu_total', type: 'counter', help: 'h', labels: { name: 'x' }, value: 12 },
    ]).metrics();
    assert.match(text, /^# TYPE docker_container_uptime gauge$/m);
    assert.match(text, /^docker_container_uptime\{name="a\\"b\\\\c"\} 5$/m);
    assert.match(text, /^# TYPE docker_container_cpu_total counter$/m);
    assert.match(text, /^docker_container_cpu_total\{name="x"\} 12$/m);
  });
});

describe('chunkLines (carbon over UDP)', () => {
  it('packs whole lines into chunks of at most the given size', () => {
    const lines = ['a 1 1\n', 'bb 2 2\n', 'ccc 3 3\n'];
    assert.deepEqual(chunkLines(lines, 14), ['a 1 1\nbb 2 2\n', 'ccc 3 3\n']);
    assert.deepEqual(chunkLines(['x'.repeat(20)], 10), ['x'.repeat(20)]);
  });
});

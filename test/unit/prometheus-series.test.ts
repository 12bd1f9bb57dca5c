import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRef } from '../../src/docker/container.js';
import { DAEMON, HOST, type Metric, type Per } from '../../src/reduce/metric.js';
import { chunkLines } from '../../src/sinks/carbon-encode.js';
import { toRegistry } from '../../src/sinks/prometheus/registry.js';
import { familyHelp, LatestSeries, toSeries } from '../../src/sinks/prometheus/series.js';

const web: ContainerRef = { id: 'a'.repeat(64), name: 'pid.bla.web.service', image: 'nginx:1', labels: { 'com.example.team': 'blue' }, facts: {} };
const db: ContainerRef = { id: 'b'.repeat(64), name: 'db', image: 'postgres:16', labels: {}, facts: {} };
const LABELS = ['com.example.team'];
const of = (c: ContainerRef, name: string, kind: Metric['kind'], per?: Per): Metric => ({ subject: { kind: 'container', container: c }, name, per, kind, value: 7, time: 1 });

describe('toSeries: structured metrics → Prometheus series, never through a carbon path', () => {
  const webLabels = { name: web.name, id: web.id, image: 'nginx:1', label_com_example_team: 'blue' };
  const dbLabels = { name: 'db', id: db.id, image: 'postgres:16', label_com_example_team: '' };
  const cases: { metric: Metric; family: string; type: 'gauge' | 'counter'; labels: Record<string, string> }[] = [
    { metric: of(web, 'cpu.total', 'counter'), family: 'docker_container_cpu_total', type: 'counter', labels: webLabels },
    { metric: of(web, 'cpu.system', 'counter'), family: 'docker_container_cpu_system_total', type: 'counter', labels: webLabels },
    { metric: of(web, 'memory.usage', 'gauge'), family: 'docker_container_memory_usage', type: 'gauge', labels: webLabels },
    { metric: of(db, 'network.rx_bytes', 'counter', { key: 'interface', value: 'eth0' }), family: 'docker_container_network_interface_rx_bytes_total', type: 'counter', labels: { ...dbLabels, interface: 'eth0' } },
    { metric: of(db, 'blkio.read_bytes', 'counter', { key: 'device', value: '8_0' }), family: 'docker_container_blkio_device_read_bytes_total', type: 'counter', labels: { ...dbLabels, device: '8_0' } },
    { metric: of(db, 'uptime', 'gauge'), family: 'docker_container_uptime', type: 'gauge', labels: dbLabels },
    { metric: of(db, 'restarts', 'counter'), family: 'docker_container_restarts_total', type: 'counter', labels: dbLabels },
    { metric: { subject: HOST, name: 'containers', per: { key: 'category', value: 'total' }, kind: 'gauge', value: 7, time: 1 }, family: 'docker_containers', type: 'gauge', labels: { category: 'total' } },
    { metric: { subject: HOST, name: 'swarm.services.running', per: { key: 'service', value: 'st_web' }, kind: 'gauge', value: 7, time: 1 }, family: 'docker_swarm_service_tasks_running', type: 'gauge', labels: { service: 'st_web' } },
    { metric: { subject: HOST, name: 'swarm.services.desired', per: { key: 'service', value: 'a"b\\c' }, kind: 'gauge', value: 7, time: 1 }, family: 'docker_swarm_service_tasks_desired', type: 'gauge', labels: { service: 'a"b\\c' } },
    { metric: of(db, 'disk.rw_bytes', 'gauge'), family: 'docker_container_disk_rw_bytes', type: 'gauge', labels: dbLabels },
    { metric: { subject: DAEMON, name: 'samples', kind: 'counter', value: 7, time: 1 }, family: 'docker_stats_to_backstop_samples_total', type: 'counter', labels: {} },
    { metric: { subject: DAEMON, name: 'buffered', kind: 'gauge', value: 7, time: 1 }, family: 'docker_stats_to_backstop_buffered', type: 'gauge', labels: {} },
  ];
  for (const c of cases) {
    it(`${c.metric.subject.kind} ${c.metric.name}${c.metric.per ? ` per ${c.metric.per.key}` : ''}`, () => {
      const s = toSeries(c.metric, LABELS);
      assert.equal(s.family, c.family);
      assert.equal(s.type, c.type);
      assert.deepEqual(s.labels, c.labels);
      assert.equal(s.value, 7);
    });
  }

  it('a container whose name has dots and a group word is labelled with its own name, no made-up interface', () => {
    const odd: ContainerRef = { id: 'c'.repeat(64), name: 'bar-web.network', image: 'busybox', labels: {}, facts: {} };
    const s = toSeries(of(odd, 'network.rx_bytes', 'counter'), []);
    assert.equal(s.family, 'docker_container_network_rx_bytes_total');
    assert.deepEqual(s.labels, { name: 'bar-web.network', id: odd.id, image: 'busybox' });
  });
});

describe('LatestSeries', () => {
  const tick = (metrics: Metric[], followed: ContainerRef[]) => ({ time: 1, metrics, followed });
  const names = (series: { labels: Record<string, string> }[]) => [...new Set(series.map((s) => s.labels['name']).filter(Boolean))].sort();

  it('keeps a followed container missing from one tick, and drops it once it is no longer followed', () => {
    const latest = new LatestSeries(LABELS);
    assert.deepEqual(names(latest.update(tick([of(db, 'uptime', 'gauge'), of(web, 'uptime', 'gauge')], [web, db]))), ['db', web.name]);
    assert.deepEqual(names(latest.update(tick([of(db, 'uptime', 'gauge')], [web, db]))), ['db', web.name], 'web still followed');
    assert.deepEqual(names(latest.update(tick([of(db, 'uptime', 'gauge')], [db]))), ['db'], 'web is gone');
  });

  it('keeps two containers apart even when the naming rules give them one carbon path', () => {
    const x: ContainerRef = { id: 'd'.repeat(64), name: 'bar.rep.x.1', image: 'busybox', labels: {}, facts: {} };
    const y: ContainerRef = { id: 'e'.repeat(64), name: 'bar.rep.y.1', image: 'busybox', labels: {}, facts: {} };
    const series = new LatestSeries([]).update(tick([of(x, 'memory.usage', 'gauge'), of(y, 'memory.usage', 'gauge')], [x, y]));
    assert.deepEqual(series.map((s) => s.labels['id']).sort(), [x.id, y.id]);
  });
});

describe('familyHelp: the swarm families are not called a container\'s', () => {
  it('says where to read about them', () => {
    assert.match(familyHelp('docker_swarm_service_tasks_running'), /swarm service's tasks/);
    assert.match(familyHelp('docker_swarm_service_tasks_desired'), /swarm service's tasks/);
  });
});

describe('LatestSeries: the group disk, measured less often than every tick', () => {
  const tick = (metrics: Metric[], followed: ContainerRef[]) => ({ time: 1, metrics, followed });
  const families = (series: { family: string; labels: Record<string, string> }[], c: ContainerRef) =>
    series.filter((s) => s.labels['id'] === c.id).map((s) => s.family).sort();

  it('keeps a container\'s disk series until measured again, and drops them with the container', () => {
    const latest = new LatestSeries([]);
    latest.update(tick([of(db, 'uptime', 'gauge')], [db]));
    const measured = latest.update(tick([of(db, 'uptime', 'gauge'), of(db, 'disk.rw_bytes', 'gauge'), of(db, 'disk.root_bytes', 'gauge')], [db]));
    assert.deepEqual(families(measured, db), ['docker_container_disk_root_bytes', 'docker_container_disk_rw_bytes', 'docker_container_uptime']);
    const next = latest.update(tick([of(db, 'uptime', 'gauge'), of(db, 'memory.usage', 'gauge')], [db]));
    assert.deepEqual(families(next, db), ['docker_container_disk_root_bytes', 'docker_container_disk_rw_bytes', 'docker_container_memory_usage', 'docker_container_uptime']);
    assert.equal(next.filter((s) => s.family === 'docker_container_disk_rw_bytes').length, 1, 'one series, not one per tick');
    assert.deepEqual(families(latest.update(tick([], [])), db), [], 'the container is gone');
  });

  it('a tick with only the disk measurement of a container keeps its other series', () => {
    const latest = new LatestSeries([]);
    latest.update(tick([of(web, 'uptime', 'gauge')], [web]));
    assert.deepEqual(families(latest.update(tick([of(web, 'disk.rw_bytes', 'gauge')], [web])), web), ['docker_container_disk_rw_bytes', 'docker_container_uptime']);
  });

  it('other containers\' series are replaced by each tick as before', () => {
    const latest = new LatestSeries([]);
    latest.update(tick([of(web, 'uptime', 'gauge'), of(web, 'memory.usage', 'gauge')], [web]));
    assert.deepEqual(families(latest.update(tick([of(web, 'uptime', 'gauge')], [web])), web), ['docker_container_uptime']);
  });
});

describe('toRegistry', () => {
  it('renders the text exposition format, escaping label values', async () => {
    const text = await toRegistry([
      { family: 'docker_container_uptime', type: 'gauge', labels: { name: 'a"b\\c' }, value: 5 },
      { family: 'docker_container_cpu_total', type: 'counter', labels: { name: 'x' }, value: 12 },
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

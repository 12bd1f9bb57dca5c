import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRef } from '../../src/model/container.js';
import { DAEMON, HOST, type Metric, type Per } from '../../src/model/metric.js';
import { chunkLines } from '../../src/sinks/carbon-encode.js';
import { toRegistry } from '../../src/sinks/prometheus/registry.js';
import { EXIT_RETENTION, familyHelp, LatestSeries, toSeries } from '../../src/sinks/prometheus/series.js';

const web: ContainerRef = {
  id: 'a'.repeat(64),
  name: 'pid.bla.web.service',
  image: 'nginx:1',
  labels: { 'com.example.team': 'blue' },
  facts: {},
};
const db: ContainerRef = { id: 'b'.repeat(64), name: 'db', image: 'postgres:16', labels: {}, facts: {} };
const LABELS = ['com.example.team'];
// Per keys beyond today's union (state, health, service) come with the lifecycle and swarm metrics.
const host = (name: string, per: { key: string; value: string }): Metric => ({
  subject: HOST,
  name,
  per: per as Per,
  kind: 'gauge',
  value: 7,
  time: 1,
});
const of = (c: ContainerRef, name: string, kind: Metric['kind'], per?: Per): Metric => ({
  subject: { kind: 'container', container: c },
  name,
  per,
  kind,
  value: 7,
  time: 1,
});

describe('toSeries: structured metrics → Prometheus series, never through a carbon path', () => {
  const webLabels = { name: web.name, id: web.id, image: 'nginx:1', label_com_example_team: 'blue' };
  const dbLabels = { name: 'db', id: db.id, image: 'postgres:16', label_com_example_team: '' };
  const cases: { metric: Metric; family: string; type: 'gauge' | 'counter'; labels: Record<string, string> }[] = [
    {
      metric: of(web, 'cpu.total', 'counter'),
      family: 'docker_container_cpu_total',
      type: 'counter',
      labels: webLabels,
    },
    {
      metric: of(web, 'cpu.system', 'counter'),
      family: 'docker_container_cpu_system_total',
      type: 'counter',
      labels: webLabels,
    },
    {
      metric: of(web, 'memory.usage', 'gauge'),
      family: 'docker_container_memory_usage',
      type: 'gauge',
      labels: webLabels,
    },
    {
      metric: of(db, 'network.rx_bytes', 'counter', { key: 'interface', value: 'eth0' }),
      family: 'docker_container_network_interface_rx_bytes_total',
      type: 'counter',
      labels: { ...dbLabels, interface: 'eth0' },
    },
    {
      metric: of(db, 'blkio.read_bytes', 'counter', { key: 'device', value: '8_0' }),
      family: 'docker_container_blkio_device_read_bytes_total',
      type: 'counter',
      labels: { ...dbLabels, device: '8_0' },
    },
    { metric: of(db, 'uptime', 'gauge'), family: 'docker_container_uptime', type: 'gauge', labels: dbLabels },
    {
      metric: of(db, 'restarts', 'counter'),
      family: 'docker_container_restarts_total',
      type: 'counter',
      labels: dbLabels,
    },
    {
      metric: {
        subject: HOST,
        name: 'containers',
        per: { key: 'category', value: 'total' },
        kind: 'gauge',
        value: 7,
        time: 1,
      },
      family: 'docker_containers',
      type: 'gauge',
      labels: { category: 'total' },
    },
    {
      metric: {
        subject: HOST,
        name: 'swarm.services.running',
        per: { key: 'service', value: 'st_web' },
        kind: 'gauge',
        value: 7,
        time: 1,
      },
      family: 'docker_swarm_service_tasks_running',
      type: 'gauge',
      labels: { service: 'st_web' },
    },
    {
      metric: {
        subject: HOST,
        name: 'swarm.services.desired',
        per: { key: 'service', value: 'a"b\\c' },
        kind: 'gauge',
        value: 7,
        time: 1,
      },
      family: 'docker_swarm_service_tasks_desired',
      type: 'gauge',
      labels: { service: 'a"b\\c' },
    },
    {
      metric: of(db, 'disk.rw_bytes', 'gauge'),
      family: 'docker_container_disk_rw_bytes',
      type: 'gauge',
      labels: dbLabels,
    },
    {
      metric: { subject: DAEMON, name: 'samples', kind: 'counter', value: 7, time: 1 },
      family: 'docker_stats_to_backstop_samples_total',
      type: 'counter',
      labels: {},
    },
    {
      metric: { subject: DAEMON, name: 'buffered', kind: 'gauge', value: 7, time: 1 },
      family: 'docker_stats_to_backstop_buffered',
      type: 'gauge',
      labels: {},
    },
  ];
  // Issue 27's names: a container's carry its labels, the host's their per label.
  const issue27: [Metric, string][] = [
    [of(db, 'oom_kills', 'counter'), 'docker_container_oom_kills_total'],
    [of(db, 'exit_code', 'gauge'), 'docker_container_exit_code'],
    [of(db, 'oom_killed', 'gauge'), 'docker_container_oom_killed'],
    [of(db, 'cpu.limit', 'gauge'), 'docker_container_cpu_limit'],
    [of(db, 'cpu.percent_of_limit', 'gauge'), 'docker_container_cpu_percent_of_limit'],
    [of(db, 'memory.failcnt', 'counter'), 'docker_container_memory_failcnt_total'],
    [of(db, 'memory.events.oom_kill', 'counter'), 'docker_container_memory_events_oom_kill_total'],
    [of(db, 'memory.reservation', 'gauge'), 'docker_container_memory_reservation'],
    [of(db, 'pressure.io.full_seconds', 'counter'), 'docker_container_pressure_io_full_seconds_total'],
    [of(db, 'pressure.cpu.some_percent', 'gauge'), 'docker_container_pressure_cpu_some_percent'],
    [of(db, 'disk.rw_bytes', 'gauge'), 'docker_container_disk_rw_bytes'],
    [host('containers_state', { key: 'state', value: 'paused' }), 'docker_containers_state'],
    [host('containers_health', { key: 'health', value: 'unhealthy' }), 'docker_containers_health'],
    [host('swarm.services.running', { key: 'service', value: 'web_api' }), 'docker_swarm_service_tasks_running'],
    [host('swarm.services.desired', { key: 'service', value: 'web_api' }), 'docker_swarm_service_tasks_desired'],
  ];
  for (const [metric, family] of issue27) {
    const labels = metric.per ? { [metric.per.key]: metric.per.value } : dbLabels;
    cases.push({ metric, family, type: metric.kind, labels });
  }
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

describe('familyHelp', () => {
  it('says what each lifecycle, limit and kernel family means, not just where to look', () => {
    const generic = familyHelp('docker_container_memory_usage');
    for (const family of [
      'docker_containers_state',
      'docker_containers_health',
      'docker_swarm_service_tasks_running',
      'docker_swarm_service_tasks_desired',
      'docker_container_oom_kills_total',
      'docker_container_exit_code',
      'docker_container_oom_killed',
      'docker_container_cpu_limit',
      'docker_container_cpu_percent_of_limit',
      'docker_container_memory_failcnt_total',
      'docker_container_memory_reservation',
      'docker_container_memory_events_high_total',
      'docker_container_pressure_memory_full_seconds_total',
      'docker_container_pressure_io_some_percent',
      'docker_container_disk_rw_bytes',
      'docker_container_disk_root_bytes',
    ]) {
      const help = familyHelp(family);
      assert.notEqual(help, generic, family);
      assert.ok(!/\n/.test(help) && help.length < 120, `${family}: ${help}`);
    }
    assert.match(familyHelp('docker_container_pressure_memory_full_seconds_total'), /all .*stalled on memory/);
  });
});

describe('LatestSeries', () => {
  const tick = (metrics: Metric[], followed: ContainerRef[]) => ({ time: 1, metrics, followed });
  const names = (series: { labels: Record<string, string> }[]) =>
    [...new Set(series.map((s) => s.labels['name']).filter(Boolean))].sort();

  it('keeps a followed container missing from one tick, and drops it once it is no longer followed', () => {
    const latest = new LatestSeries(LABELS);
    assert.deepEqual(names(latest.update(tick([of(db, 'uptime', 'gauge'), of(web, 'uptime', 'gauge')], [web, db]))), [
      'db',
      web.name,
    ]);
    assert.deepEqual(
      names(latest.update(tick([of(db, 'uptime', 'gauge')], [web, db]))),
      ['db', web.name],
      'web still followed',
    );
    assert.deepEqual(names(latest.update(tick([of(db, 'uptime', 'gauge')], [db]))), ['db'], 'web is gone');
  });

  it('keeps two containers apart even when the naming rules give them one carbon path', () => {
    const x: ContainerRef = { id: 'd'.repeat(64), name: 'bar.rep.x.1', image: 'busybox', labels: {}, facts: {} };
    const y: ContainerRef = { id: 'e'.repeat(64), name: 'bar.rep.y.1', image: 'busybox', labels: {}, facts: {} };
    const series = new LatestSeries([]).update(
      tick([of(x, 'memory.usage', 'gauge'), of(y, 'memory.usage', 'gauge')], [x, y]),
    );
    assert.deepEqual(series.map((s) => s.labels['id']).sort(), [x.id, y.id]);
  });
});

describe("familyHelp: the swarm families are not called a container's", () => {
  it('says where to read about them', () => {
    assert.match(familyHelp('docker_swarm_service_tasks_running'), /swarm service's tasks/);
    assert.match(familyHelp('docker_swarm_service_tasks_desired'), /swarm service's tasks/);
  });
});

describe('LatestSeries: the group disk, measured less often than every tick', () => {
  const tick = (metrics: Metric[], followed: ContainerRef[]) => ({ time: 1, metrics, followed });
  const families = (series: { family: string; labels: Record<string, string> }[], c: ContainerRef) =>
    series
      .filter((s) => s.labels['id'] === c.id)
      .map((s) => s.family)
      .sort();

  it("keeps a container's disk series until measured again, and drops them with the container", () => {
    const latest = new LatestSeries([]);
    latest.update(tick([of(db, 'uptime', 'gauge')], [db]));
    const measured = latest.update(
      tick([of(db, 'uptime', 'gauge'), of(db, 'disk.rw_bytes', 'gauge'), of(db, 'disk.root_bytes', 'gauge')], [db]),
    );
    assert.deepEqual(families(measured, db), [
      'docker_container_disk_root_bytes',
      'docker_container_disk_rw_bytes',
      'docker_container_uptime',
    ]);
    const next = latest.update(tick([of(db, 'uptime', 'gauge'), of(db, 'memory.usage', 'gauge')], [db]));
    assert.deepEqual(families(next, db), [
      'docker_container_disk_root_bytes',
      'docker_container_disk_rw_bytes',
      'docker_container_memory_usage',
      'docker_container_uptime',
    ]);
    assert.equal(
      next.filter((s) => s.family === 'docker_container_disk_rw_bytes').length,
      1,
      'one series, not one per tick',
    );
    assert.deepEqual(families(latest.update(tick([], [])), db), [], 'the container is gone');
  });

  it('a tick with only the disk measurement of a container keeps its other series', () => {
    const latest = new LatestSeries([]);
    latest.update(tick([of(web, 'uptime', 'gauge')], [web]));
    assert.deepEqual(families(latest.update(tick([of(web, 'disk.rw_bytes', 'gauge')], [web])), web), [
      'docker_container_disk_rw_bytes',
      'docker_container_uptime',
    ]);
  });

  it("other containers' series are replaced by each tick as before", () => {
    const latest = new LatestSeries([]);
    latest.update(tick([of(web, 'uptime', 'gauge'), of(web, 'memory.usage', 'gauge')], [web]));
    assert.deepEqual(families(latest.update(tick([of(web, 'uptime', 'gauge')], [web])), web), [
      'docker_container_uptime',
    ]);
  });
});

describe('LatestSeries: exit series outlive the stopped container', () => {
  const at = (time: number, metrics: Metric[], followed: ContainerRef[]) => ({ time, metrics, followed });
  const exit = (c: ContainerRef, code: number, time: number): Metric[] => [
    { subject: { kind: 'container', container: c }, name: 'exit_code', kind: 'gauge', value: code, time },
    { subject: { kind: 'container', container: c }, name: 'oom_killed', kind: 'gauge', value: 0, time },
  ];
  const families = (series: { family: string; labels: Record<string, string> }[], c: ContainerRef) =>
    series
      .filter((s) => s.labels['id'] === c.id)
      .map((s) => s.family)
      .sort();
  const EXITS = ['docker_container_exit_code', 'docker_container_oom_killed'];

  it('keeps exit_code and oom_killed after the stop tick, and only them, until the container reports again', () => {
    const latest = new LatestSeries([]);
    latest.update(at(100, [of(db, 'uptime', 'gauge')], [db]));
    const stopped = latest.update(at(105, exit(db, 3, 104), []));
    assert.deepEqual(families(stopped, db), EXITS);
    assert.equal(stopped.find((s) => s.family === 'docker_container_exit_code')?.value, 3);
    for (const t of [110, 600, 3000]) {
      const series = latest.update(at(t, [of(web, 'uptime', 'gauge')], [web]));
      assert.deepEqual(families(series, db), EXITS, `tick ${t}`);
    }
    const again = latest.update(at(3005, [of(db, 'uptime', 'gauge')], [db, web]));
    assert.deepEqual(families(again, db), ['docker_container_uptime'], 'started again');
  });

  it('keeps the exit series of a container that restarts in the same tick for that tick only', () => {
    const latest = new LatestSeries([]);
    const both = latest.update(at(100, [of(db, 'uptime', 'gauge'), ...exit(db, 1, 99)], [db]));
    assert.deepEqual(families(both, db), [...EXITS, 'docker_container_uptime']);
    const next = latest.update(at(105, [of(db, 'uptime', 'gauge')], [db]));
    assert.deepEqual(families(next, db), ['docker_container_uptime']);
  });

  it('drops them once the Engine no longer lists the container (removed)', () => {
    const latest = new LatestSeries([]);
    latest.update(at(100, exit(db, 1, 100), []));
    const listed = latest.update({ ...at(105, [], []), existing: new Set([db.id, web.id]) });
    assert.deepEqual(families(listed, db), EXITS, 'stopped, still listed');
    assert.deepEqual(families(latest.update({ ...at(110, [], []), existing: new Set([web.id]) }), db), [], 'removed');
    const rm = latest.update({ ...at(115, exit(db, 2, 114), []), existing: new Set([web.id]) });
    assert.deepEqual(families(rm, db), EXITS, 'a --rm container: shown in the tick that brings its exit');
    const after = latest.update({ ...at(120, [], []), existing: new Set([web.id]) });
    assert.deepEqual(families(after, db), [], 'then gone');
  });

  it('drops them after the retention time, and the oldest beyond the number kept', () => {
    const latest = new LatestSeries([], { seconds: 60, containers: 2 });
    latest.update(at(100, exit(db, 1, 100), []));
    assert.equal(families(latest.update(at(159, [], [])), db).length, 2, 'kept for 60 s');
    assert.deepEqual(families(latest.update(at(160, [], [])), db), [], 'gone at 60 s');
    const many = Array.from({ length: 3 }, (_, i): ContainerRef => ({ ...db, id: `${i}`.repeat(64), name: `c${i}` }));
    for (const [i, c] of many.entries()) latest.update(at(200 + i, exit(c, i, 200 + i), []));
    const left = latest.update(at(210, [], []));
    assert.deepEqual([...new Set(left.map((s) => s.labels['name']))].sort(), ['c1', 'c2'], 'the oldest went first');
    assert.deepEqual(EXIT_RETENTION, { seconds: 3600, containers: 1000 });
  });

  it('a stopped container exposes its exit series through the registry with the container labels', async () => {
    const latest = new LatestSeries(LABELS);
    latest.update(at(100, exit(web, 137, 100), []));
    const text = await toRegistry(latest.update(at(105, [], []))).metrics();
    assert.match(text, /^# HELP docker_container_exit_code the exit code of a stopped container/m);
    const name = web.name.replace(/[.]/g, '\\.');
    const labels = `name="${name}",id="${web.id}",image="nginx:1",label_com_example_team="blue"`;
    const line = `^docker_container_exit_code\\{${labels}\\} 137$`;
    assert.match(text, new RegExp(line, 'm'));
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

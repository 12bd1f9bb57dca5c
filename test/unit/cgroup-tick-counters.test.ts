import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  parseCfsQuota,
  parseCpuMax,
  parseMemoryEvents,
  parseOomControl,
  parsePressure,
  quotaCpus,
} from '../../src/cgroup/kernel-files.js';
import { openTickCounters, stallPercent, type TickCounters } from '../../src/cgroup/tick-counters.js';
import type { ContainerRef } from '../../src/model/container.js';
import type { KernelCounters } from '../../src/model/kernel-counters.js';
import { silentLogger, type Logger } from '../../src/log.js';
import {
  CgroupTree,
  KernfsLike,
  cpuMax,
  fixtureText,
  memoryEvents,
  pressure,
  type V2Counters,
} from '../helpers/cgroup-tree.js';

// The kernel's own counters of a container, read once a tick in every mode: the pure parsers on
// the kernel's formats (Documentation/admin-guide/cgroup-v1/memory.rst, cgroup-v2.rst,
// accounting/psi.rst) and on garbage, and the reader on constructed host trees.

const [V1_ID, V1_PID] = fixtureText('v1-cgroupfs', 'container').trim().split(' ') as [string, string];
const ID = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const OTHER_ID = 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef';
const PID = 4242;
const OTHER_PID = 5353;
const OTHER_GROUP = `system.slice/docker-${OTHER_ID}.scope`;
const GROUP = `system.slice/docker-${ID}.scope`;
const T0 = Date.parse('2026-12-07T03:00:00Z');

const trees: CgroupTree[] = [];
after(() => {
  for (const t of trees) t.remove();
});
const tree = (): CgroupTree => {
  const t = new CgroupTree();
  trees.push(t);
  return t;
};

const ref = (id: string, pid: number | undefined, name = `n-${id.slice(0, 4)}`): ContainerRef => ({
  id,
  name,
  image: 'busybox',
  labels: {},
  facts: { pid },
});

/** A clock the test moves, and a reader over `t` that uses it, reading its files as from kernfs. */
function reader(
  t: CgroupTree,
  logger: Logger = silentLogger,
): { counters: TickCounters; clock: { ms: number }; files: KernfsLike } {
  const clock = { ms: T0 };
  const files = new KernfsLike();
  const opened = openTickCounters({ ...t.paths, now: () => clock.ms, logger, files });
  assert.equal(opened.kind, 'ready', JSON.stringify(opened));
  return { counters: (opened as { counters: TickCounters }).counters, clock, files };
}

const COUNTERS: V2Counters = {
  events: { low: 0, high: 4, max: 12, oom: 3, oomKill: 3 },
  cpu: [2_500_000, 1_000_000],
  memory: [700_000, 600_000],
  io: [40_000, 30_000],
  cpuMax: [150_000, 100_000],
};

/** A cgroup v2 host with one container's group at `group` and its init `pid`, and its counter files. */
function v2Host(group = GROUP, pid = PID, counters: V2Counters | null = COUNTERS): CgroupTree {
  const t = tree().write({
    'proc/stat': 'cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n',
    [`proc/${pid}/cgroup`]: `0::/${group}\n`,
    'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    [`sys/fs/cgroup/${group}/cgroup.controllers`]: 'cpuset cpu io memory hugetlb pids rdma misc\n',
  });
  return counters ? t.v2Counters(group, counters) : t;
}

const only = (m: Map<string, KernelCounters>, id: string): KernelCounters => {
  assert.deepEqual([...m.keys()], [id]);
  return m.get(id)!;
};

describe("kernel counter files: the kernel's formats", () => {
  it('v1 memory.oom_control: the oom_kill line; none on a kernel before 4.13', () => {
    assert.equal(parseOomControl('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n'), 3);
    assert.equal(parseOomControl('oom_kill_disable 0\nunder_oom 1\noom_kill 0'), 0);
    assert.equal(parseOomControl('oom_kill_disable 0\nunder_oom 0\n'), undefined);
  });

  it('v2 memory.events: every counter, oom_group_kill and unknown lines ignored', () => {
    assert.deepEqual(parseMemoryEvents('low 0\nhigh 0\nmax 12\noom 3\noom_kill 3\noom_group_kill 0\n'), {
      low: 0,
      high: 0,
      max: 12,
      oom: 3,
      oomKill: 3,
    });
    assert.deepEqual(parseMemoryEvents('max 5\nsome_future_event 9\n'), {
      low: undefined,
      high: undefined,
      max: 5,
      oom: undefined,
      oomKill: undefined,
    });
  });

  it("PSI files: the some and full totals in µs; no full line on older kernels' cpu.pressure", () => {
    const both =
      'some avg10=0.00 avg60=0.12 avg300=0.31 total=7316353\nfull avg10=0.00 avg60=0.05 avg300=0.10 total=4135520\n';
    assert.deepEqual(parsePressure(both), { someUs: 7316353, fullUs: 4135520 });
    assert.deepEqual(parsePressure('some avg10=1.00 avg60=0.50 avg300=0.25 total=12'), {
      someUs: 12,
      fullUs: undefined,
    });
    assert.deepEqual(parsePressure(pressure(5, 4)), { someUs: 5, fullUs: 4 });
  });

  it('the CFS quota in CPUs: v2 cpu.max, v1 cpu.cfs_quota_us over cpu.cfs_period_us; none without a quota', () => {
    assert.equal(parseCpuMax('150000 100000\n'), 1.5);
    assert.equal(parseCpuMax('50000 100000\n'), 0.5);
    assert.equal(parseCpuMax('200000 1000000'), 0.2);
    assert.equal(parseCpuMax(cpuMax(250_000, 100_000)), 2.5);
    assert.equal(parseCpuMax('max 100000\n'), undefined);
    assert.equal(parseCfsQuota('150000\n'), 150_000);
    assert.equal(parseCfsQuota('-1\n'), undefined);
    assert.equal(quotaCpus(150_000, 100_000), 1.5);
    assert.equal(quotaCpus(150_000, undefined), undefined);
    assert.equal(quotaCpus(undefined, 100_000), undefined);
    assert.equal(quotaCpus(150_000, 0), undefined);
    for (const text of ['150000', '150000 0\n', '0 100000\n', '-1 100000\n', 'max', '1.5 1\n', '150000 100000 7\n'])
      assert.equal(parseCpuMax(text), undefined, JSON.stringify(text));
    for (const text of ['0\n', '-2\n', '1.5\n', 'max\n', '-1 -1'])
      assert.equal(parseCfsQuota(text), undefined, JSON.stringify(text));
  });

  it('garbage is skipped, never a crash nor a number made up', () => {
    const junk = [
      '',
      '\n\n',
      '\u0000\u0001\u00ff',
      'oom_kill',
      'oom_kill -3',
      'oom_kill 3.5',
      'oom_kill 1e3',
      'oom_kill  ',
      'some avg10=0.00 total=',
      'some avg10=0.00 total=abc\nfull total=-1',
      'total=5',
      'some avg10=0.00 avg60=0.00 avg300=0.00 total=5 extra',
      'x'.repeat(10_000),
    ];
    for (const text of junk) {
      assert.equal(parseOomControl(text), undefined, JSON.stringify(text));
      const events = parseMemoryEvents(text);
      assert.ok(
        Object.values(events).every((v) => v === undefined),
        JSON.stringify(text),
      );
      const p = parsePressure(text);
      assert.equal(p.someUs, undefined, JSON.stringify(text));
      assert.equal(p.fullUs, undefined, JSON.stringify(text));
      assert.equal(parseCpuMax(text), undefined, JSON.stringify(text));
      assert.equal(parseCfsQuota(text), undefined, JSON.stringify(text));
    }
    // A good line among bad ones still counts.
    assert.deepEqual(parsePressure('garbage\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=8\nfull nonsense\n'), {
      someUs: 8,
      fullUs: undefined,
    });
  });

  it('the stall share of an interval: Δtotal / Δtime; none without two reads apart, or after a reset', () => {
    assert.equal(stallPercent(1_000_000, 3_500_000, T0, T0 + 10_000), 25);
    assert.equal(stallPercent(0, 0, T0, T0 + 10_000), 0);
    assert.equal(stallPercent(undefined, 5, undefined, T0), undefined);
    assert.equal(stallPercent(5, 5, T0, T0), undefined);
    assert.equal(stallPercent(9, 5, T0, T0 + 1000), undefined);
    assert.equal(stallPercent(1, undefined, T0, T0 + 1000), undefined);
    // Reads a moment apart can see a little more stall than wall time: never above 100.
    assert.equal(stallPercent(0, 1_010_000, T0, T0 + 1000), 100);
  });
});

describe('kernel counters of followed containers, on constructed host trees', () => {
  it("cgroup v1 (Docker's cgroupfs driver): oom_kills and memory.failcnt; no memory.events, no pressure", () => {
    const t = tree().fixture('v1-cgroupfs').v1Counters(V1_ID, { oomKill: 3, failcnt: 653 });
    const { counters } = reader(t);
    const c = only(counters.read([ref(V1_ID, Number(V1_PID))]), V1_ID);
    assert.deepEqual(c, {
      readMs: T0,
      oomKills: 3,
      memoryFailcnt: 653,
      memoryEvents: undefined,
      pressure: undefined,
      cpuQuotaCpus: undefined,
    });
  });

  it('cgroup v1 on a kernel without oom_kill in memory.oom_control: no oom_kills, never 0', () => {
    const t = tree().fixture('v1-cgroupfs').v1Counters(V1_ID, { oomKill: 3, failcnt: 7 });
    t.write({ [`sys/fs/cgroup/memory/docker/${V1_ID}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\n' });
    const c = only(reader(t).counters.read([ref(V1_ID, Number(V1_PID))]), V1_ID);
    assert.equal(c.oomKills, undefined);
    assert.equal(c.memoryFailcnt, 7);
  });

  it("cgroup v1: the CFS quota from the cpu controller's group, read again each tick; -1 is none", () => {
    const t = tree().fixture('v1-cgroupfs').v1Counters(V1_ID, { oomKill: 0, failcnt: 0, cfsQuotaUs: 150_000 });
    const { counters } = reader(t);
    const read = (): number | undefined => only(counters.read([ref(V1_ID, Number(V1_PID))]), V1_ID).cpuQuotaCpus;
    assert.equal(read(), 1.5);
    // `docker update --cpus 0.5`, then `--cpus 0` (no quota).
    t.v1Counters(V1_ID, { oomKill: 0, failcnt: 0, cfsQuotaUs: 50_000 });
    assert.equal(read(), 0.5);
    t.v1Counters(V1_ID, { oomKill: 0, failcnt: 0, cfsQuotaUs: -1 });
    assert.equal(read(), undefined);
    t.write({ [`sys/fs/cgroup/cpu/docker/${V1_ID}/cpu.cfs_quota_us`]: 'garbage\n' });
    assert.equal(read(), undefined);
  });

  it('cgroup v2: memory.events, the stall totals in seconds, the share of each interval from the second read', () => {
    const t = v2Host();
    const { counters, clock } = reader(t);
    const first = only(counters.read([ref(ID, PID)]), ID);
    assert.equal(first.oomKills, 3);
    assert.equal(first.memoryFailcnt, undefined);
    assert.deepEqual(first.memoryEvents, { low: 0, high: 4, max: 12, oom: 3, oomKill: 3 });
    assert.equal(first.cpuQuotaCpus, 1.5);
    assert.deepEqual(first.pressure, {
      cpu: { someSeconds: 2.5, fullSeconds: 1, somePercent: undefined },
      memory: { someSeconds: 0.7, fullSeconds: 0.6, somePercent: undefined },
      io: { someSeconds: 0.04, fullSeconds: 0.03, somePercent: undefined },
    });

    // Ten seconds later: cpu stalled 2.5 s more (25 %), memory not at all, io 0.1 s (1 %).
    clock.ms += 10_000;
    t.v2Counters(GROUP, { ...COUNTERS, cpu: [5_000_000, undefined], io: [140_000, 30_000] });
    const second = only(counters.read([ref(ID, PID)]), ID);
    assert.equal(second.readMs, T0 + 10_000);
    assert.deepEqual(second.pressure, {
      cpu: { someSeconds: 5, fullSeconds: undefined, somePercent: 25 },
      memory: { someSeconds: 0.7, fullSeconds: 0.6, somePercent: 0 },
      io: { someSeconds: 0.14, fullSeconds: 0.03, somePercent: 1 },
    });
  });

  it('cgroup v2: cpu.max `max` (no quota) or none give none; a changed one is read at the next tick', () => {
    const t = v2Host(GROUP, PID, { ...COUNTERS, cpuMax: ['max', 100_000] });
    const { counters } = reader(t);
    const read = (): number | undefined => only(counters.read([ref(ID, PID)]), ID).cpuQuotaCpus;
    assert.equal(read(), undefined);
    t.v2Counters(GROUP, { ...COUNTERS, cpuMax: [50_000, 100_000] });
    assert.equal(read(), 0.5);
    rmSync(t.at(`sys/fs/cgroup/${GROUP}/cpu.max`));
    assert.equal(read(), undefined, 'the cpu controller not enabled for the group');
    t.v2Counters(GROUP, { ...COUNTERS, cpuMax: [200_000, 100_000] });
    assert.equal(read(), 2, 'enabled again: opened anew');
  });

  it('keeps the files open between ticks; closes them when let go of, gone, restarted, and on close()', () => {
    const t = v2Host();
    t.write({ [`proc/${OTHER_PID}/cgroup`]: `0::/${OTHER_GROUP}\n` }).v2Counters(OTHER_GROUP, COUNTERS);
    const { counters, files } = reader(t);
    const both = [ref(ID, PID), ref(OTHER_ID, OTHER_PID)];
    assert.equal(counters.read(both).size, 2);
    assert.equal(files.open.size, 10, 'memory.events, three pressure files and cpu.max of each');
    assert.equal(counters.read(both).size, 2);
    assert.equal(files.opened, 10, 'the next tick opens nothing');

    assert.equal(counters.read([ref(ID, PID)]).size, 1);
    assert.equal(files.open.size, 5, 'the container no longer followed: its files closed');
    assert.ok([...files.open.values()].every((p) => p.includes(GROUP)));

    t.write({ [`proc/${PID + 1}/cgroup`]: `0::/${GROUP}\n` });
    assert.equal(counters.read([ref(ID, PID + 1)]).size, 1);
    assert.equal(files.open.size, 5, 'restarted (a new PID): the old descriptors closed, new ones open');
    assert.equal(files.opened, 15);

    rmSync(t.at(`sys/fs/cgroup/${GROUP}`), { recursive: true });
    assert.equal(counters.read([ref(ID, PID + 1)]).size, 1, 'its last counts');
    assert.equal(files.open.size, 0, 'its group removed: nothing kept');

    t.v2Counters(GROUP, COUNTERS);
    t.write({ [`proc/${PID + 2}/cgroup`]: `0::/${GROUP}\n` });
    counters.read([ref(ID, PID + 2)]);
    assert.equal(files.open.size, 5);
    counters.close();
    assert.equal(files.open.size, 0, 'close() lets go of every one');
  });

  it("cgroup v1: the memory and cpu controllers' files kept open; the period only while there is a quota", () => {
    const t = tree().fixture('v1-cgroupfs').v1Counters(V1_ID, { oomKill: 1, failcnt: 2, cfsQuotaUs: -1 });
    const { counters, files } = reader(t);
    const read = (): KernelCounters => only(counters.read([ref(V1_ID, Number(V1_PID))]), V1_ID);
    assert.equal(read().cpuQuotaCpus, undefined);
    assert.deepEqual([...files.open.values()].map((p) => p.split('/').slice(-1)[0]).sort(), [
      'cpu.cfs_quota_us',
      'memory.failcnt',
      'memory.oom_control',
    ]);
    t.v1Counters(V1_ID, { oomKill: 2, failcnt: 5, cfsQuotaUs: 150_000 });
    const c = read();
    assert.deepEqual([c.oomKills, c.memoryFailcnt, c.cpuQuotaCpus], [2, 5, 1.5], 'fresh values from kept descriptors');
    assert.equal(files.open.size, 4);
    assert.equal(files.opened, 4);
  });

  it('cgroup v2 without the pressure files (a kernel before 4.20, or psi=0): pressure absent, never 0', () => {
    const t = v2Host(GROUP, PID, null).write({
      [`sys/fs/cgroup/${GROUP}/memory.events`]: memoryEvents(COUNTERS.events),
    });
    const { counters, clock } = reader(t);
    counters.read([ref(ID, PID)]);
    clock.ms += 5000;
    const c = only(counters.read([ref(ID, PID)]), ID);
    assert.equal(c.oomKills, 3);
    for (const p of Object.values(c.pressure!))
      assert.deepEqual(p, { someSeconds: undefined, fullSeconds: undefined, somePercent: undefined });
  });

  it('garbage in every file: each counter absent, the container still read, no crash', () => {
    const t = v2Host();
    const dir = `sys/fs/cgroup/${GROUP}`;
    t.write({
      [`${dir}/memory.events`]: '\u0000\u00ffoom_kill many\n',
      [`${dir}/cpu.pressure`]: 'some avg10=x total=-5\n',
      [`${dir}/memory.pressure`]: '',
      [`${dir}/io.pressure`]: 'y'.repeat(5000),
      [`${dir}/cpu.max`]: '150000 0\n',
    });
    const { counters, clock } = reader(t);
    counters.read([ref(ID, PID)]);
    clock.ms += 1000;
    const c = only(counters.read([ref(ID, PID)]), ID);
    assert.equal(c.oomKills, undefined);
    assert.ok(Object.values(c.memoryEvents!).every((v) => v === undefined));
    assert.equal(c.cpuQuotaCpus, undefined);
    for (const p of Object.values(c.pressure!))
      assert.deepEqual(p, { someSeconds: undefined, fullSeconds: undefined, somePercent: undefined });
  });

  it("a PID that is now another container's process (or another host's) is never read as this container", () => {
    const t = v2Host();
    t.write({ [`proc/${PID}/cgroup`]: `0::/system.slice/docker-${OTHER_ID}.scope\n` });
    t.v2Counters(`system.slice/docker-${OTHER_ID}.scope`, COUNTERS);
    const logged: string[] = [];
    const { counters } = reader(t, { ...silentLogger, warn: (m) => void logged.push(m) });
    assert.equal(counters.read([ref(ID, PID)]).size, 0);
    assert.deepEqual(logged, [], 'a reused PID is no error');
  });

  it('a container without a PID (not running), or its process gone or hidden: absent, said once at info level', () => {
    const t = v2Host();
    const info: string[] = [];
    const { counters } = reader(t, { ...silentLogger, info: (m) => void info.push(m), warn: (m) => assert.fail(m) });
    assert.equal(counters.read([ref(ID, undefined), ref(OTHER_ID, 999_999), ref('f00d', 999_998)]).size, 0);
    assert.equal(info.length, 1, info.join('\n'));
    assert.match(info[0]!, /not visible in --host-proc's tree/);
  });

  it('a container that started again (a new PID) is located anew, its interval share starting over', () => {
    const t = v2Host();
    const { counters, clock } = reader(t);
    counters.read([ref(ID, PID)]);
    clock.ms += 1000;
    t.write({ [`proc/${PID + 1}/cgroup`]: `0::/${GROUP}\n` });
    const c = only(counters.read([ref(ID, PID + 1)]), ID);
    assert.equal(c.oomKills, 3);
    assert.equal(c.pressure!.cpu.somePercent, undefined);
  });

  it('forgets containers no longer followed', () => {
    const t = v2Host();
    const { counters, clock } = reader(t);
    counters.read([ref(ID, PID)]);
    clock.ms += 1000;
    assert.equal(counters.read([]).size, 0);
    clock.ms += 1000;
    assert.equal(
      only(counters.read([ref(ID, PID)]), ID).pressure!.cpu.somePercent,
      undefined,
      'no interval from before it was dropped',
    );
  });

  it('a group removed (the container stopped): its last counts stand, without a percent, not read again', () => {
    const t = v2Host();
    const { counters, clock } = reader(t);
    counters.read([ref(ID, PID)]);
    clock.ms += 1000;
    const before = only(counters.read([ref(ID, PID)]), ID);
    assert.equal(before.pressure!.cpu.somePercent, 0);
    rmSync(t.at(`sys/fs/cgroup/${GROUP}`), { recursive: true });
    clock.ms += 1000;
    const gone = only(counters.read([ref(ID, PID)]), ID);
    assert.equal(gone.readMs, before.readMs);
    assert.equal(gone.oomKills, 3, 'oom_kills does not switch to another source for its last interval');
    assert.deepEqual(gone.pressure!.cpu, { ...before.pressure!.cpu, somePercent: undefined });
    t.v2Counters(GROUP, { ...COUNTERS, events: { ...COUNTERS.events, oomKill: 9 } });
    assert.equal(only(counters.read([ref(ID, PID)]), ID).oomKills, 3, 'the same PID: not read again');
    assert.equal(counters.read([]).size, 0);
    assert.equal(counters.read([ref(ID, PID)]).get(ID)?.oomKills, 9, 'forgotten once no longer followed');
  });

  it("a group outside the daemon's cgroup namespace: said once at warn level, then at debug level", () => {
    // Not in Docker's default places either (a --cgroup-parent), where the reader would look for it.
    const t = v2Host(`custom/${ID}`);
    t.write({
      [`proc/${PID}/cgroup`]: `0::/../elsewhere-${ID}\n`,
      [`proc/${PID + 1}/cgroup`]: `0::/../elsewhere-${OTHER_ID}\n`,
    });
    const warned: string[] = [];
    const debug: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (m, f) => void warned.push(`${m} ${String(f?.['container'])}`),
      debug: (m) => void debug.push(m),
    };
    const { counters } = reader(t, logger);
    assert.equal(counters.read([ref(ID, PID, 'web'), ref(OTHER_ID, PID + 1, 'db')]).size, 0);
    assert.equal(warned.length, 1, warned.join('\n'));
    assert.match(warned[0]!, /cannot read a container's kernel counters.* web$/);
    assert.equal(debug.length, 1);
    assert.equal(counters.read([ref(ID, PID, 'web'), ref(OTHER_ID, PID + 1, 'db')]).size, 0);
    assert.equal(warned.length + debug.length, 2, 'located once per PID, not at every tick');
  });

  it('a tree that is not there: unreadable, with the flag to check', () => {
    const t = tree();
    const opened = openTickCounters({
      hostProc: t.at('nope/proc'),
      cgroupRoot: t.at('sys/fs/cgroup'),
      now: () => T0,
      logger: silentLogger,
    });
    assert.equal(opened.kind, 'unreadable');
    assert.match((opened as { why: string }).why, /nope\/proc does not exist \(--host-proc\)/);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CgroupTarget } from '../../src/cgroup/locate.js';
import { openCgroupReader, type CgroupReader, type SampleOutcome } from '../../src/cgroup/reader.js';
import type { DockerStats } from '../../src/docker/stats-types.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import { AsNobody } from '../helpers/as-nobody.js';
import { CgroupTree, fixtureText } from '../helpers/cgroup-tree.js';

const NOW = Date.parse('2026-11-30T23:00:00Z');
const [V1_ID, V1_PID] = fixtureText('v1-cgroupfs', 'container').trim().split(' ') as [string, string];
const ID = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const OTHER_ID = 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef';
const PID = 4242;

/** Descriptors this process has open. */
const openFds = (): number => readdirSync('/proc/self/fd').length;

const trees: CgroupTree[] = [];
after(() => {
  for (const t of trees) t.remove();
});
const tree = (): CgroupTree => {
  const t = new CgroupTree();
  trees.push(t);
  return t;
};

function open(t: CgroupTree): CgroupReader {
  const o = openCgroupReader({ ...t.paths, now: () => NOW });
  assert.equal(o.kind, 'ready', JSON.stringify(o));
  return (o as { reader: CgroupReader }).reader;
}

function located(reader: CgroupReader, id: string, pid: number): CgroupTarget {
  const l = reader.locate(id, pid);
  assert.equal(l.kind, 'located', JSON.stringify(l));
  return (l as { target: CgroupTarget }).target;
}

function sample(outcome: SampleOutcome): SampleValues {
  assert.equal(outcome.kind, 'sample', JSON.stringify(outcome));
  return (outcome as { values: SampleValues }).values;
}

const engineValues = (file: string): SampleValues =>
  sampleValues(JSON.parse(fixtureText('v1-cgroupfs', file)) as DockerStats)!;

/** Every number of `actual` lies between (or on) the same number in `a` and `b`; same shape otherwise. */
function assertBetween(actual: unknown, a: unknown, b: unknown, path = 'values'): void {
  if (typeof actual === 'number' && typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.min(a, b) <= actual && actual <= Math.max(a, b), `${path}: ${actual} not within [${a}, ${b}]`);
  } else if (
    actual !== null &&
    typeof actual === 'object' &&
    a !== null &&
    typeof a === 'object' &&
    b !== null &&
    typeof b === 'object'
  ) {
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(a).sort(), `${path}: keys`);
    for (const k of Object.keys(actual)) {
      assertBetween(
        (actual as Record<string, unknown>)[k],
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
    }
  } else {
    assert.deepEqual(actual, a, path);
  }
}

// --- constructed files, in the formats of the kernel's cgroup-v2.rst and proc(5) ---------------

const PROC_STAT = [
  'cpu  4705 356 584 3699176 23060 0 277 12 0 0',
  'cpu0 1393 280 255 922500 6027 0 83 3 0 0',
  'cpu1 1129 26 99 925440 5758 0 106 3 0 0',
  'cpu2 1137 30 116 925569 5724 0 45 3 0 0',
  'cpu3 1046 20 114 925667 5551 0 43 3 0 0',
  'intr 114930548 113199788 3 0 5 263 0 4 [… 500 more]',
  'ctxt 1990473',
  'btime 1062191376',
  'processes 2915',
  'procs_running 1',
  'procs_blocked 0',
  'softirq 183433 0 21755 12 39 1137 231 21459 2263',
  '',
].join('\n');
const SYSTEM_NS = (4705 + 356 + 584 + 3699176 + 23060 + 0 + 277) * 10_000_000;
const MEMINFO = 'MemTotal:        8048912 kB\nMemFree:         1234567 kB\nMemAvailable:    4567890 kB\n';

const netDev = (rows: string[]): string =>
  [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|' +
      'bytes    packets errs drop fifo colls carrier compressed',
    ...rows,
    '',
  ].join('\n');
const NET_DEV = netDev([
  '    lo:    1200      12    0    0    0     0          0         0' +
    '     1200      12    0    0    0     0       0          0',
  '  eth0: 5398736    4123    1    7    0     0          0         0' +
    '   204811    2380    2    3    0     0       0          0',
  '  eth1:    1000      10    0    0    0     0          0         0' +
    '     2000      20    0    1    0     0       0          0',
]);

const V2_CPU_STAT =
  'usage_usec 2817469\nuser_usec 1739315\nsystem_usec 1078154\ncore_sched.force_idle_usec 0\n' +
  'nr_periods 120\nnr_throttled 7\nthrottled_usec 331842\nnr_bursts 0\nburst_usec 0\n';
const V2_MEMORY_STAT = [
  'anon 2678784',
  'file 36864000',
  'kernel 1589248',
  'kernel_stack 49152',
  'pagetables 110592',
  'sec_pagetables 0',
  'percpu 2160',
  'sock 0',
  'vmalloc 0',
  'shmem 0',
  'zswap 0',
  'zswapped 0',
  'file_mapped 4096',
  'file_dirty 0',
  'file_writeback 0',
  'swapcached 0',
  'anon_thp 0',
  'file_thp 0',
  'shmem_thp 0',
  'inactive_anon 2654208',
  'active_anon 24576',
  'inactive_file 30212096',
  'active_file 6651904',
  'unevictable 0',
  'slab_reclaimable 1174872',
  'slab_unreclaimable 247832',
  'slab 1422704',
  'workingset_refault_anon 0',
  'workingset_refault_file 0',
  'workingset_activate_anon 0',
  'workingset_activate_file 0',
  'workingset_restore_anon 0',
  'workingset_restore_file 0',
  'workingset_nodereclaim 0',
  'pgscan 0',
  'pgsteal 0',
  'pgscan_kswapd 0',
  'pgscan_direct 0',
  'pgscan_khugepaged 0',
  'pgsteal_kswapd 0',
  'pgsteal_direct 0',
  'pgsteal_khugepaged 0',
  'pgfault 10467',
  'pgmajfault 3',
  'pgrefill 0',
  'pgactivate 1625',
  'pgdeactivate 0',
  'pglazyfree 0',
  'pglazyfreed 0',
  'zswpin 0',
  'zswpout 0',
  'thp_fault_alloc 0',
  'thp_collapse_alloc 0',
  '',
].join('\n');
const V2_IO_STAT =
  '8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n' +
  '8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n';

/** A cgroup v2 host with one container's group at `group` (relative to the root) and its init `pid`. */
function v2Host(group: string, pid = PID, overrides: Record<string, string> = {}): CgroupTree {
  return tree().write({
    'proc/stat': PROC_STAT,
    'proc/meminfo': MEMINFO,
    'proc/1/net/dev': netDev(['    lo: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0', '  ens3: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0']),
    [`proc/${pid}/cgroup`]: `0::/${group}\n`,
    [`proc/${pid}/net/dev`]: NET_DEV,
    'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    [`sys/fs/cgroup/${group}/cgroup.controllers`]: 'cpuset cpu io memory hugetlb pids rdma misc\n',
    [`sys/fs/cgroup/${group}/cpu.stat`]: V2_CPU_STAT,
    [`sys/fs/cgroup/${group}/memory.current`]: '41234432\n',
    [`sys/fs/cgroup/${group}/memory.max`]: 'max\n',
    [`sys/fs/cgroup/${group}/memory.stat`]: V2_MEMORY_STAT,
    [`sys/fs/cgroup/${group}/io.stat`]: V2_IO_STAT,
    [`sys/fs/cgroup/${group}/pids.current`]: '3\n',
    [`sys/fs/cgroup/${group}/pids.max`]: 'max\n',
    ...overrides,
  });
}

const V2_EXPECTED: SampleValues = {
  readMs: NOW,
  cpuPercentBase: 'system',
  cpuSystem: SYSTEM_NS,
  cpuOnline: 4,
  cpuTotal: 2817469000,
  cpuKernel: 1078154000,
  cpuUser: 1739315000,
  throttledPeriods: 7,
  throttledTime: 331842000,
  memoryUsage: 41234432,
  memoryMaxUsage: undefined,
  memoryLimit: 8048912 * 1024,
  memoryCache: 36864000,
  memoryInactiveFile: 30212096,
  memoryRss: 2678784,
  memoryPgfault: 10467,
  memoryPgmajfault: 3,
  pidsCurrent: 3,
  pidsLimit: undefined,
  network: {
    rx_bytes: 5399736,
    rx_packets: 4133,
    rx_errors: 1,
    rx_dropped: 7,
    tx_bytes: 206811,
    tx_packets: 2400,
    tx_errors: 2,
    tx_dropped: 4,
  },
  interfaces: [
    {
      name: 'eth0',
      counters: {
        rx_bytes: 5398736,
        rx_packets: 4123,
        rx_errors: 1,
        rx_dropped: 7,
        tx_bytes: 204811,
        tx_packets: 2380,
        tx_errors: 2,
        tx_dropped: 3,
      },
    },
    {
      name: 'eth1',
      counters: {
        rx_bytes: 1000,
        rx_packets: 10,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 2000,
        tx_packets: 20,
        tx_errors: 0,
        tx_dropped: 1,
      },
    },
  ],
  blkioRead: {
    total: 1459200 + 90430464,
    perDevice: [
      { major: 8, minor: 16, bytes: 1459200 },
      { major: 8, minor: 0, bytes: 90430464 },
    ],
  },
  blkioWrite: {
    total: 314773504 + 299008000,
    perDevice: [
      { major: 8, minor: 16, bytes: 314773504 },
      { major: 8, minor: 0, bytes: 299008000 },
    ],
  },
};

describe('cgroup v1, cgroupfs driver: files captured from a real container on this kind of host', () => {
  it('gives the values the Engine reported just before and just after the files were copied', () => {
    const t = tree().fixture('v1-cgroupfs');
    const reader = open(t);
    assert.equal(reader.version, 1);
    const target = located(reader, V1_ID, Number(V1_PID));
    assert.equal(target.netDev, t.at(`proc/${V1_PID}/net/dev`));
    assert.deepEqual(
      target.files.map((f) => f.path.slice(t.paths.cgroupRoot.length + 1)),
      [
        'cpuacct/docker/ID/cpuacct.usage',
        'cpuacct/docker/ID/cpuacct.stat',
        'cpu/docker/ID/cpu.stat',
        'memory/docker/ID/memory.usage_in_bytes',
        'memory/docker/ID/memory.max_usage_in_bytes',
        'memory/docker/ID/memory.limit_in_bytes',
        'memory/docker/ID/memory.stat',
        'pids/docker/ID/pids.current',
        'pids/docker/ID/pids.max',
        'blkio/docker/ID/blkio.throttle.io_service_bytes',
      ].map((p) => p.replace('ID', V1_ID)),
    );
    const values = sample(reader.read(target));
    const before = engineValues('engine-before.json');
    const afterValues = engineValues('engine-after.json');
    assertBetween({ ...values, readMs: 0 }, { ...before, readMs: 0 }, { ...afterValues, readMs: 0 });
    assert.equal(values.readMs, NOW);
    // The capture did block I/O, has a memory and a pids limit and was throttled: none of it is a 0 by accident.
    assert.equal(values.blkioRead?.total, 4194304);
    assert.equal(values.memoryLimit, 64 * 1024 * 1024);
    assert.equal(values.pidsLimit, 50);
    assert.equal(values.throttledPeriods, 1);
  });

  it('reports the machine memory as the limit of a container without one, and no pids limit for "max"', () => {
    const t = tree().fixture('v1-cgroupfs');
    t.write({
      [`sys/fs/cgroup/memory/docker/${V1_ID}/memory.limit_in_bytes`]: '9223372036854771712\n',
      [`sys/fs/cgroup/pids/docker/${V1_ID}/pids.max`]: 'max\n',
    });
    const reader = open(t);
    const values = sample(reader.read(located(reader, V1_ID, Number(V1_PID))));
    assert.equal(values.memoryLimit, 24684084 * 1024); // MemTotal of the captured /proc/meminfo
    assert.equal(reader.memTotal, 24684084 * 1024);
    assert.equal(values.pidsLimit, undefined);
  });

  it('reads CFQ block I/O when the kernel has CFQ, and throttle block I/O when CFQ has no entry for the group', () => {
    const t = tree().fixture('v1-cgroupfs');
    const blkio = `sys/fs/cgroup/blkio/docker/${V1_ID}`;
    t.write({
      [`${blkio}/blkio.io_serviced_recursive`]: '8:0 Read 3\n8:0 Write 1\nTotal 4\n',
      [`${blkio}/blkio.io_service_bytes_recursive`]:
        '8:0 Read 12288\n8:0 Write 4096\n8:0 Sync 16384\n8:0 Async 0\n8:0 Total 16384\nTotal 16384\n',
    });
    const reader = open(t);
    const target = located(reader, V1_ID, Number(V1_PID));
    assert.deepEqual(sample(reader.read(target)).blkioRead, {
      total: 12288,
      perDevice: [{ major: 8, minor: 0, bytes: 12288 }],
    });
    t.write({ [`${blkio}/blkio.io_service_bytes_recursive`]: 'Total 0\n' });
    assert.equal(sample(reader.read(target)).blkioRead?.total, 4194304);
  });
});

describe('how the reader reads', () => {
  it('shares one read of /proc/stat among the samples of a round, and reads it anew for the next', () => {
    const t = tree().fixture('v1-cgroupfs');
    const reader = open(t);
    const target = located(reader, V1_ID, Number(V1_PID));
    const procStat = (user: number): string =>
      `cpu  ${user} 0 0 0 0 0 0 0 0 0\ncpu0 ${user} 0 0 0 0 0 0 0 0 0\nintr 1\n`;
    t.write({ 'proc/stat': procStat(100) });
    const [first, second] = reader.round(() => {
      const a = sample(reader.read(target)).cpuSystem;
      t.write({ 'proc/stat': procStat(200) });
      return [a, sample(reader.read(target)).cpuSystem];
    });
    assert.equal(first, 100 * 1e7);
    assert.equal(second, 100 * 1e7, "the round's second sample uses the round's /proc/stat");
    assert.equal(sample(reader.read(target)).cpuSystem, 200 * 1e7, 'outside a round, each sample reads it');
    assert.equal(
      reader.round(() => sample(reader.read(target)).cpuSystem),
      200 * 1e7,
    );
    t.write({ 'proc/stat': procStat(300) });
    assert.equal(
      reader.round(() => sample(reader.read(target)).cpuSystem),
      300 * 1e7,
      'a new round reads it anew',
    );
  });

  it('reads a kept file whole when it grows past 2 KiB, and without leftovers when it shrinks', () => {
    const t = tree().fixture('v1-cgroupfs');
    const statPath = `sys/fs/cgroup/memory/docker/${V1_ID}/memory.stat`;
    const reader = open(t);
    const target = located(reader, V1_ID, Number(V1_PID));
    const plain = sample(reader.read(target));
    // 6 KB of keys the reader does not use, before the real ones: past the 2 KiB a single read is trusted with.
    const padding = Array.from({ length: 300 }, (_, i) => `unused_counter_${i} ${i}\n`).join('');
    t.write({ [statPath]: padding + fixtureText('v1-cgroupfs', statPath) });
    assert.deepEqual(sample(reader.read(target)), plain);
    t.write({ [statPath]: fixtureText('v1-cgroupfs', statPath) });
    assert.deepEqual(sample(reader.read(target)), plain, 'shorter again: nothing of the longer text is left');
  });
});

describe('cgroup v2 (unified hierarchy)', () => {
  it('systemd driver (0::/system.slice/docker-<id>.scope): every value as Docker computes it', () => {
    const t = v2Host(`system.slice/docker-${ID}.scope`);
    const reader = open(t);
    assert.equal(reader.version, 2);
    const target = located(reader, ID, PID);
    assert.equal(target.files[0]?.path, t.at(`sys/fs/cgroup/system.slice/docker-${ID}.scope/cpu.stat`));
    assert.deepEqual(sample(reader.read(target)), V2_EXPECTED);
  });

  it('cgroupfs driver (0::/docker/<id>) with a memory and a pids limit', () => {
    const t = v2Host(`docker/${ID}`, PID, {
      [`sys/fs/cgroup/docker/${ID}/memory.max`]: '67108864\n',
      [`sys/fs/cgroup/docker/${ID}/pids.max`]: '100\n',
    });
    const reader = open(t);
    assert.deepEqual(sample(reader.read(located(reader, ID, PID))), {
      ...V2_EXPECTED,
      memoryLimit: 67108864,
      pidsLimit: 100,
    });
  });

  it('a container whose init moved itself into a sub-group is read as a whole', () => {
    const t = v2Host(`system.slice/docker-${ID}.scope`);
    t.write({ [`proc/${PID}/cgroup`]: `0::/system.slice/docker-${ID}.scope/init.scope\n` });
    const reader = open(t);
    assert.equal(
      located(reader, ID, PID).files[0]?.path,
      t.at(`sys/fs/cgroup/system.slice/docker-${ID}.scope/cpu.stat`),
    );
  });

  it("from a private cgroup namespace (/../…): Docker's default places, else unreadable with the remedy", () => {
    const t = v2Host(`system.slice/docker-${ID}.scope`);
    t.write({ [`proc/${PID}/cgroup`]: `0::/../docker-${ID}.scope\n` });
    const reader = open(t);
    assert.deepEqual(sample(reader.read(located(reader, ID, PID))), V2_EXPECTED);
    rmSync(t.at(`sys/fs/cgroup/system.slice`), { recursive: true });
    const l = reader.locate(ID, PID);
    assert.equal(l.kind, 'unreadable');
    assert.match((l as { reason: string }).reason, /--cgroupns=host/);
  });
});

describe('hybrid host, systemd driver: v1 controllers (cpu,cpuacct joined) beside an empty unified tree', () => {
  it('reads the v1 hierarchies, ignoring the 0:: line, with the values of the same files under cgroupfs', () => {
    const t = tree().fixture('v1-cgroupfs');
    const cg = t.paths.cgroupRoot;
    const scope = `system.slice/docker-${V1_ID}.scope`;
    // Move each controller's group to the systemd driver's place; cpu and cpuacct into one joined mount.
    renameSync(join(cg, 'cpu'), join(cg, 'cpu,cpuacct'));
    renameSync(join(cg, 'cpu,cpuacct/docker'), join(cg, 'cpu,cpuacct/system.slice'));
    renameSync(join(cg, `cpu,cpuacct/system.slice/${V1_ID}`), join(cg, `cpu,cpuacct/${scope}`));
    for (const f of ['cpuacct.usage', 'cpuacct.stat'])
      renameSync(join(cg, `cpuacct/docker/${V1_ID}/${f}`), join(cg, `cpu,cpuacct/${scope}/${f}`));
    rmSync(join(cg, 'cpuacct'), { recursive: true });
    symlinkSync('cpu,cpuacct', join(cg, 'cpu'));
    symlinkSync('cpu,cpuacct', join(cg, 'cpuacct'));
    for (const c of ['memory', 'blkio', 'pids']) {
      renameSync(join(cg, `${c}/docker`), join(cg, `${c}/system.slice`));
      renameSync(join(cg, `${c}/system.slice/${V1_ID}`), join(cg, `${c}/${scope}`));
    }
    t.write({
      'sys/fs/cgroup/unified/cgroup.controllers': '',
      [`sys/fs/cgroup/unified/${scope}/cgroup.procs`]: `${V1_PID}\n`,
      [`proc/${V1_PID}/cgroup`]: [
        `12:pids:/${scope}`,
        `11:blkio:/${scope}`,
        `10:memory:/${scope}`,
        `9:devices:/${scope}`,
        `4:cpu,cpuacct:/${scope}`,
        `1:name=systemd:/${scope}`,
        `0::/${scope}`,
        '',
      ].join('\n'),
    });
    const reader = open(t);
    assert.equal(reader.version, 1);
    const target = located(reader, V1_ID, Number(V1_PID));
    assert.equal(target.files[0]?.path, join(cg, `cpu,cpuacct/${scope}/cpuacct.usage`));
    const values = sample(reader.read(target));
    const cgroupfs = tree().fixture('v1-cgroupfs');
    const r2 = open(cgroupfs);
    assert.deepEqual(values, sample(r2.read(located(r2, V1_ID, Number(V1_PID)))));
  });
});

describe('network', () => {
  it('counts the interfaces the Engine reports (eth0, eth1…), not lo nor interfaces made inside the container', () => {
    const t = v2Host(`docker/${ID}`);
    t.write({
      [`proc/${PID}/net/dev`]: netDev([
        '    lo:    1200      12    0    0    0     0          0         0' +
          '     1200      12    0    0    0     0       0          0',
        'docker0:  777777    7777    0    0    0     0          0' +
          '         0   777777    7777    0    0    0     0       0          0',
        '  eth0: 5398736    4123    1    7    0     0          0         0' +
          '   204811    2380    2    3    0     0       0          0',
        'veth9f8e7d6:  777777    7777    0    0    0     0          0' +
          '         0   777777    7777    0    0    0     0       0          0',
        '  eth1:    1000      10    0    0    0     0          0         0' +
          '     2000      20    0    1    0     0       0          0',
      ]),
    });
    const reader = open(t);
    const values = sample(reader.read(located(reader, ID, PID)));
    assert.deepEqual(values.interfaces, V2_EXPECTED.interfaces);
    assert.deepEqual(values.network, V2_EXPECTED.network);
  });

  it('--network none (only lo): no network values, as the Engine sends no `networks`', () => {
    const t = v2Host(`docker/${ID}`);
    t.write({
      [`proc/${PID}/net/dev`]: netDev([
        '    lo:       0       0    0    0    0     0          0         0' +
          '        0       0    0    0    0     0       0          0',
      ]),
    });
    const reader = open(t);
    const values = sample(reader.read(located(reader, ID, PID)));
    assert.equal(values.network, undefined);
    assert.deepEqual(values.interfaces, []);
  });

  it('--network host (the same net/dev entry as pid 1): net/dev is not read, no network values', () => {
    const t = v2Host(`docker/${ID}`);
    rmSync(t.at(`proc/${PID}/net/dev`));
    linkSync(t.at('proc/1/net/dev'), t.at(`proc/${PID}/net/dev`));
    const reader = open(t);
    const target = located(reader, ID, PID);
    assert.equal(target.netDev, undefined);
    const values = sample(reader.read(target));
    assert.equal(values.network, undefined);
    assert.deepEqual(values.interfaces, []);
  });
});

describe('a container that is gone', () => {
  it('its group removed between two reads', () => {
    const t = tree().fixture('v1-cgroupfs');
    const reader = open(t);
    const target = located(reader, V1_ID, Number(V1_PID));
    sample(reader.read(target));
    rmSync(t.at(`sys/fs/cgroup/cpuacct/docker/${V1_ID}`), { recursive: true });
    // The reader keeps the group's files open between reads. On kernfs a kept descriptor of a
    // removed group answers ENODEV (gone); a constructed tree's regular files go on answering, so
    // here the descriptors are let go first and the read opens anew: ENOENT, and no directory.
    reader.release(target);
    assert.equal(reader.read(target).kind, 'gone');
  });

  it("keeps the group's files open between reads, and closes them on release() and close()", () => {
    const t = tree().fixture('v1-cgroupfs');
    const reader = open(t);
    const target = located(reader, V1_ID, Number(V1_PID));
    const before = openFds();
    sample(reader.read(target));
    const kept = openFds() - before;
    assert.ok(kept >= target.files.length, `${kept} descriptors kept for ${target.files.length} files`);
    sample(reader.read(target));
    assert.equal(openFds() - before, kept, 'a second read opens nothing more');
    reader.release(target);
    assert.equal(openFds() - before, 1, 'only /proc/stat stays open after release()');
    sample(reader.read(target));
    reader.close();
    assert.equal(openFds(), before);
  });

  it("keeps descriptors per target: letting go of a container's old target leaves its new one's open", () => {
    const t = tree().fixture('v1-cgroupfs');
    const reader = open(t);
    // The collector follows a restarted container anew: a second target with the same paths.
    const old = located(reader, V1_ID, Number(V1_PID));
    const renewed = located(reader, V1_ID, Number(V1_PID));
    sample(reader.read(old));
    const before = openFds();
    sample(reader.read(renewed));
    const own = openFds() - before;
    assert.ok(own >= renewed.files.length, `${own} descriptors of its own for ${renewed.files.length} files`);
    reader.release(old);
    assert.equal(openFds() - before, 0, "release() closed the old target's descriptors, and only those");
    sample(reader.read(renewed));
    assert.equal(openFds() - before, 0, 'the new target reads from the descriptors it kept');
    reader.close();
  });

  it('its process exited between two reads, its group not yet removed (v2): gone, and its descriptors let go', () => {
    const t = v2Host(`docker/${ID}`);
    const reader = open(t);
    const before = openFds();
    const target = located(reader, ID, PID);
    sample(reader.read(target));
    // As the kernel shows it: no /proc/<pid>, no task left in the group. The kept net/dev
    // descriptor would go on reading (here: the unlinked file; on Linux: the namespace).
    rmSync(t.at(`proc/${PID}`), { recursive: true });
    t.write({ [`sys/fs/cgroup/docker/${ID}/pids.current`]: '0\n' });
    const outcome = reader.read(target);
    assert.equal(outcome.kind, 'gone');
    assert.match((outcome as { detail: string }).detail, /exited/);
    assert.equal(openFds(), before + 1, 'only /proc/stat stays open');
  });

  it('a group with no task left while its process still runs (it moved itself out): still read', () => {
    const t = v2Host(`docker/${ID}`);
    const reader = open(t);
    const target = located(reader, ID, PID);
    t.write({ [`sys/fs/cgroup/docker/${ID}/pids.current`]: '0\n' });
    assert.equal(sample(reader.read(target)).pidsCurrent, 0);
  });

  it("when located: an exited process, no init PID, or a PID now in another container's group", () => {
    const t = v2Host(`docker/${ID}`);
    const reader = open(t);
    assert.equal(reader.locate(ID, PID + 1).kind, 'gone');
    assert.equal(reader.locate(ID, 0).kind, 'gone');
    t.write({ [`proc/${PID}/cgroup`]: `0::/docker/${OTHER_ID}\n` });
    const l = reader.locate(ID, PID);
    assert.equal(l.kind, 'gone');
    assert.match((l as { detail: string }).detail, /PID was reused/);
  });
});

describe('what cannot be read', () => {
  it('a v1 kernel without the pids controller: unreadable, naming it', () => {
    const t = tree().fixture('v1-cgroupfs');
    t.write({
      [`proc/${V1_PID}/cgroup`]: fixtureText('v1-cgroupfs', `proc/${V1_PID}/cgroup`).replace(/^8:pids:.*\n/m, ''),
    });
    const l = open(t).locate(V1_ID, Number(V1_PID));
    assert.equal(l.kind, 'unreadable');
    assert.match((l as { reason: string }).reason, /pids controller/);
  });

  it('a v2 group without the io controller (no io.stat): unreadable, naming the file; container not gone', () => {
    const t = v2Host(`docker/${ID}`);
    rmSync(t.at(`sys/fs/cgroup/docker/${ID}/io.stat`));
    const reader = open(t);
    const r = reader.read(located(reader, ID, PID));
    assert.deepEqual(r, {
      kind: 'unreadable',
      file: t.at(`sys/fs/cgroup/docker/${ID}/io.stat`),
      reason: 'no such file, though its cgroup exists (a kernel or controller without it?)',
    });
  });

  it('a file in a format this code does not know: unreadable, naming it', () => {
    const t = v2Host(`docker/${ID}`);
    t.write({ [`sys/fs/cgroup/docker/${ID}/memory.max`]: 'infinity\n' });
    const reader = open(t);
    assert.deepEqual(reader.read(located(reader, ID, PID)), {
      kind: 'unreadable',
      file: t.at(`sys/fs/cgroup/docker/${ID}/memory.max`),
      reason: 'unexpected content: neither a counter nor "max"',
    });
  });

  it('a file the daemon may not read (EACCES): unreadable, with the reason', () => {
    const t = v2Host(`docker/${ID}`);
    chmodSync(t.root, 0o755);
    chmodSync(t.at(`sys/fs/cgroup/docker/${ID}/memory.stat`), 0o000);
    // Root reads anything: the read runs in a child process as nobody when this test runs as root.
    const nobody = process.getuid?.() === 0 ? new AsNobody() : undefined;
    after(() => nobody?.dispose());
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const reader = join(repo, 'src/cgroup/reader.ts');
    const code = `
      import { openCgroupReader } from ${JSON.stringify(nobody ? nobody.path(reader) : reader)};
      const o = openCgroupReader({
        hostProc: ${JSON.stringify(t.paths.hostProc)},
        cgroupRoot: ${JSON.stringify(t.paths.cgroupRoot)},
        now: () => 0,
      });
      const l = o.reader.locate(${JSON.stringify(ID)}, ${PID});
      process.stdout.write(JSON.stringify(o.reader.read(l.target)));`;
    const command = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', code];
    const [cmd, ...args] = nobody ? nobody.argv(command, { gid: 65534 }) : command;
    const child = spawnSync(cmd!, args, { cwd: repo, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), {
      kind: 'unreadable',
      file: t.at(`sys/fs/cgroup/docker/${ID}/memory.stat`),
      reason: 'EACCES: permission denied',
    });
  });

  it('a --host-proc or --cgroup-root that is not there: the reader cannot open', () => {
    const t = v2Host(`docker/${ID}`);
    assert.equal(
      openCgroupReader({ hostProc: t.at('nope'), cgroupRoot: t.paths.cgroupRoot, now: () => NOW }).kind,
      'unreadable',
    );
    assert.equal(
      openCgroupReader({ hostProc: t.paths.hostProc, cgroupRoot: t.at('nope'), now: () => NOW }).kind,
      'unreadable',
    );
  });
});

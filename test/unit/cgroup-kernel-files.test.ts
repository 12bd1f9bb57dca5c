import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseBlkioV1,
  parseCount,
  parseFlatKeyed,
  parseIoStatV2,
  parseLimit,
  parseMemTotal,
  parseNetDev,
  parseProcStat,
} from '../../src/cgroup/kernel-files.js';
import { parseProcCgroup } from '../../src/cgroup/proc-cgroup.js';

const ID = '8d922a22b3571e2bb6244a4b17d2e4a33adf953ebc77cd39dd318a66f18b9995';

describe('parseProcCgroup', () => {
  it('reads v1 hierarchies (joined controllers, named hierarchies) and the v2 line of a hybrid host', () => {
    const text = [
      `12:pids:/system.slice/docker-${ID}.scope`,
      `4:cpu,cpuacct:/system.slice/docker-${ID}.scope`,
      `1:name=systemd:/system.slice/docker-${ID}.scope`,
      `0::/system.slice/docker-${ID}.scope`,
      '',
    ].join('\n');
    assert.deepEqual(parseProcCgroup(text), [
      { hierarchyId: 12, controllers: ['pids'], path: `/system.slice/docker-${ID}.scope` },
      { hierarchyId: 4, controllers: ['cpu', 'cpuacct'], path: `/system.slice/docker-${ID}.scope` },
      { hierarchyId: 1, controllers: ['name=systemd'], path: `/system.slice/docker-${ID}.scope` },
      { hierarchyId: 0, controllers: [], path: `/system.slice/docker-${ID}.scope` },
    ]);
  });

  it('keeps a colon inside the path and skips lines without three fields', () => {
    assert.deepEqual(parseProcCgroup('0::/a:b\ngarbage\nx:y:z\n'), [{ hierarchyId: 0, controllers: [], path: '/a:b' }]);
  });
});

describe('kernel file parsers', () => {
  it('parseCount and parseLimit: counters, "max", and nothing else', () => {
    assert.equal(parseCount('9223372036854771712\n'), 9223372036854771712);
    assert.equal(parseCount('-1\n'), undefined);
    assert.equal(parseCount(''), undefined);
    assert.equal(parseLimit('max\n'), 'max');
    assert.equal(parseLimit('67108864\n'), 67108864);
    assert.equal(parseLimit('unlimited'), undefined);
  });

  it('parseFlatKeyed reads memory.stat / cpu.stat lines and leaves out a value that is not a counter', () => {
    const m = parseFlatKeyed('cache 8388608\nrss 180224\nweird x\n\ntotal_pgfault 1432\n');
    assert.deepEqual([...m], [
      ['cache', 8388608],
      ['rss', 180224],
      ['total_pgfault', 1432],
    ]);
  });

  it('parseBlkioV1 reads device lines, skips the Total line, and refuses a line of another shape', () => {
    const text = '254:0 Read 4194304\n254:0 Write 4194304\n254:0 Sync 8388608\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 8388608\nTotal 8388608\n';
    assert.deepEqual(parseBlkioV1(text)?.slice(0, 2), [
      { major: 254, minor: 0, op: 'Read', value: 4194304 },
      { major: 254, minor: 0, op: 'Write', value: 4194304 },
    ]);
    assert.equal(parseBlkioV1(text)?.length, 6);
    assert.deepEqual(parseBlkioV1('Total 0\n'), []);
    assert.equal(parseBlkioV1('254:0 Read\n'), undefined);
  });

  it('parseIoStatV2 gives a read and a write entry per device (cgroup-v2.rst example), 0 for a missing key', () => {
    const text = '8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n8:0 rbytes=90430464 rios=8950\n';
    assert.deepEqual(parseIoStatV2(text), [
      { major: 8, minor: 16, op: 'read', value: 1459200 },
      { major: 8, minor: 16, op: 'write', value: 314773504 },
      { major: 8, minor: 0, op: 'read', value: 90430464 },
      { major: 8, minor: 0, op: 'write', value: 0 },
    ]);
    assert.deepEqual(parseIoStatV2(''), []);
  });

  it('parseNetDev reads every interface, a counter touching the colon and a long name included', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
      '  eth0:12345678901   90000    1    2    0     0          0         0   555555     444    3    4    0     0       0          0',
      'veth1a2b3c4:     702       9    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
      '',
    ].join('\n');
    assert.deepEqual(parseNetDev(text), [
      { name: 'lo', counters: { rx_bytes: 0, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
      {
        name: 'eth0',
        counters: { rx_bytes: 12345678901, rx_packets: 90000, rx_errors: 1, rx_dropped: 2, tx_bytes: 555555, tx_packets: 444, tx_errors: 3, tx_dropped: 4 },
      },
      { name: 'veth1a2b3c4', counters: { rx_bytes: 702, rx_packets: 9, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
    ]);
    assert.equal(parseNetDev('h1\nh2\n  eth0: 1 2 3\n'), undefined);
  });

  it('parseProcStat sums the first seven fields of the cpu line (not steal or guest) and counts the cpuN lines', () => {
    const text = [
      'cpu  27038 10 4172 1062581 498 1 251 145 7 9',
      'cpu0 13564 5 2090 531000 249 0 125 72 3 4',
      'cpu1 13474 5 2082 531581 249 1 126 73 4 5',
      'intr 12345 0 0',
      'cpu9 1 1 1 1 1 1 1 1 1 1',
      '',
    ].join('\n');
    assert.deepEqual(parseProcStat(text), { systemNs: (27038 + 10 + 4172 + 1062581 + 498 + 1 + 251) * 10_000_000, onlineCpus: 2 });
    assert.equal(parseProcStat('cpu  1 2 3\ncpu0 1 2 3 4 5 6 7\n'), undefined);
    assert.equal(parseProcStat('intr 1\n'), undefined);
  });

  it('parseMemTotal gives bytes', () => {
    assert.equal(parseMemTotal('MemTotal:       24684084 kB\nMemFree:        1 kB\n'), 24684084 * 1024);
    assert.equal(parseMemTotal('MemFree:        1 kB\n'), undefined);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
  pickFlatKeyed,
} from '../../src/cgroup/kernel-files.js';
import { parseProcCgroup } from '../../src/cgroup/proc-cgroup.js';

const ID = '8d922a22b3571e2bb6244a4b17d2e4a33adf953ebc77cd39dd318a66f18b9995';

// The parsers read counters where they lie in the text, and hand anything unusual to the plain way
// of reading them. These are that plain way, written as simply as it can be (trim, a test of the
// whole value, Number), for the differential tests below to hold the fast paths to.
const DIGITS = /^\d+$/;
const plainCount = (text: string): number | undefined => (DIGITS.test(text.trim()) ? Number(text.trim()) : undefined);
function plainFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const value = plainCount(line.slice(space + 1));
    if (value !== undefined) out.set(line.slice(0, space), value);
  }
  return out;
}
function plainNetDev(text: string): { name: string; counters: Record<string, number> }[] | undefined {
  const out: { name: string; counters: Record<string, number> }[] = [];
  for (const line of text.split('\n').slice(2)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return undefined;
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (v.length < 16 || !v.every((x) => DIGITS.test(x))) return undefined;
    const n = v.map(Number);
    out.push({
      name: line.slice(0, colon).trim(),
      counters: {
        rx_bytes: n[0]!,
        rx_packets: n[1]!,
        rx_errors: n[2]!,
        rx_dropped: n[3]!,
        tx_bytes: n[8]!,
        tx_packets: n[9]!,
        tx_errors: n[10]!,
        tx_dropped: n[11]!,
      },
    });
  }
  return out;
}

/** A small deterministic generator (mulberry32): the same cases on every run. */
function random(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** A counter-like token: usually digits (1 to 20 of them), sometimes not quite. */
function token(r: (n: number) => number): string {
  const digits = Array.from({ length: 1 + r(20) }, () => String(r(10))).join('');
  const odd = ['', '', '', '', '', '', '-', 'x', '\r', '\t', ' ', '\u00a0', '+', '.5'];
  const at = r(3);
  const o = odd[r(odd.length)]!;
  return at === 0 ? o + digits : at === 1 ? digits + o : digits.slice(0, 3) + o + digits.slice(3);
}

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
    // The kernel's "no limit" (2^63 rounded down to a page), exact as a double.
    assert.equal(parseCount('9223372036854771712\n'), 2 ** 63 - 4096);
    assert.equal(parseCount('-1\n'), undefined);
    assert.equal(parseCount(''), undefined);
    assert.equal(parseLimit('max\n'), 'max');
    assert.equal(parseLimit('67108864\n'), 67108864);
    assert.equal(parseLimit('unlimited'), undefined);
  });

  it('parseFlatKeyed reads memory.stat / cpu.stat lines and leaves out a value that is not a counter', () => {
    const m = parseFlatKeyed('cache 8388608\nrss 180224\nweird x\n\ntotal_pgfault 1432\n');
    assert.deepEqual(
      [...m],
      [
        ['cache', 8388608],
        ['rss', 180224],
        ['total_pgfault', 1432],
      ],
    );
  });

  it('parseCount, parseFlatKeyed and pickFlatKeyed agree with the plain reading on 5,000 generated texts', () => {
    const r = random(14);
    const keys = ['cache', 'rss', 'total_rss', 'pgfault', 'x', ''];
    for (let i = 0; i < 5_000; i++) {
      const t = token(r);
      assert.equal(parseCount(t), plainCount(t), JSON.stringify(t));
      const lines = Array.from({ length: r(6) }, () => {
        const key = keys[r(keys.length)]!;
        return r(8) === 0 ? '' : `${key}${[' ', '  ', '\t'][r(3)]}${token(r)}`;
      });
      const text = lines.join('\n') + ['', '\n'][r(2)];
      const plain = plainFlatKeyed(text);
      assert.deepEqual([...parseFlatKeyed(text)], [...plain], JSON.stringify(text));
      assert.deepEqual(
        pickFlatKeyed(text, keys),
        keys.map((k) => plain.get(k)),
        JSON.stringify(text),
      );
    }
  });

  it('pickFlatKeyed reads the keys asked for, in that order, from a real memory.stat', () => {
    const text = readFileSync(
      new URL(`../fixtures/cgroup/v1-cgroupfs/sys/fs/cgroup/memory/docker/${ID}/memory.stat`, import.meta.url),
      'latin1',
    );
    const all = parseFlatKeyed(text);
    assert.ok(all.size > 30, `${all.size} keys`);
    const keys = ['total_pgfault', 'cache', 'no_such_key', 'total_rss'];
    assert.deepEqual(
      pickFlatKeyed(text, keys),
      keys.map((k) => all.get(k)),
    );
    assert.equal(pickFlatKeyed(text, keys).filter((v) => v !== undefined).length, 3);
  });

  it('parseNetDev agrees with the plain reading on generated texts (tabs, blank lines, long counters, junk)', () => {
    const r = random(12);
    const header =
      'Inter-|   Receive |  Transmit\n' + ' face |bytes    packets errs drop fifo frame compressed multicast|bytes\n';
    let taken = 0;
    for (let i = 0; i < 5_000; i++) {
      const lines = Array.from({ length: r(4) }, () => {
        if (r(20) === 0) return ['', '   ', 'garbage'][r(3)]!;
        const n = 15 + r(3);
        const values = Array.from({ length: n }, () =>
          r(6) === 0 ? token(r) : String(r(4) === 0 ? r(2 ** 31) * 2 ** 21 : r(100_000)),
        );
        const name = `${' '.repeat(r(5))}${['eth0', 'lo', 'veth9'][r(3)]}:`;
        return `${name}${[' ', '', '   '][r(3)]}${values.join([' ', '  ', '\t'][r(3)]!)}`;
      });
      const text = header + lines.join('\n') + ['', '\n'][r(2)];
      const plain = plainNetDev(text);
      if (plain !== undefined && plain.length > 0) taken++;
      assert.deepEqual(parseNetDev(text), plain, JSON.stringify(text));
    }
    assert.ok(taken > 500, `texts with interfaces read: ${taken}`);
  });

  it('parseBlkioV1 reads device lines, skips the Total line, and refuses a line of another shape', () => {
    const text =
      '254:0 Read 4194304\n254:0 Write 4194304\n254:0 Sync 8388608\n' +
      '254:0 Async 0\n254:0 Discard 0\n254:0 Total 8388608\nTotal 8388608\n';
    assert.deepEqual(parseBlkioV1(text)?.slice(0, 2), [
      { major: 254, minor: 0, op: 'Read', value: 4194304 },
      { major: 254, minor: 0, op: 'Write', value: 4194304 },
    ]);
    assert.equal(parseBlkioV1(text)?.length, 6);
    assert.deepEqual(parseBlkioV1('Total 0\n'), []);
    assert.deepEqual(parseBlkioV1('Total 123456789\n'), []);
    assert.equal(parseBlkioV1('Total 12 3\n'), undefined);
    assert.equal(parseBlkioV1('Total 1\n8:0 Read\n'), undefined);
    assert.equal(parseBlkioV1('254:0 Read\n'), undefined);
  });

  it('parseIoStatV2 gives a read and a write entry per device (cgroup-v2.rst example), 0 for a missing key', () => {
    const text =
      '8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n' + '8:0 rbytes=90430464 rios=8950\n';
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
      ' face |bytes    packets errs drop fifo frame compressed multicast|' +
        'bytes    packets errs drop fifo colls carrier compressed',
      '    lo:       0       0    0    0    0     0          0         0' +
        '        0       0    0    0    0     0       0          0',
      '  eth0:12345678901   90000    1    2    0     0          0' +
        '         0   555555     444    3    4    0     0       0          0',
      'veth1a2b3c4:     702       9    0    0    0     0          0' +
        '         0        0       0    0    0    0     0       0          0',
      '',
    ].join('\n');
    assert.deepEqual(parseNetDev(text), [
      {
        name: 'lo',
        counters: {
          rx_bytes: 0,
          rx_packets: 0,
          rx_errors: 0,
          rx_dropped: 0,
          tx_bytes: 0,
          tx_packets: 0,
          tx_errors: 0,
          tx_dropped: 0,
        },
      },
      {
        name: 'eth0',
        counters: {
          rx_bytes: 12345678901,
          rx_packets: 90000,
          rx_errors: 1,
          rx_dropped: 2,
          tx_bytes: 555555,
          tx_packets: 444,
          tx_errors: 3,
          tx_dropped: 4,
        },
      },
      {
        name: 'veth1a2b3c4',
        counters: {
          rx_bytes: 702,
          rx_packets: 9,
          rx_errors: 0,
          rx_dropped: 0,
          tx_bytes: 0,
          tx_packets: 0,
          tx_errors: 0,
          tx_dropped: 0,
        },
      },
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
    assert.deepEqual(parseProcStat(text), {
      systemNs: (27038 + 10 + 4172 + 1062581 + 498 + 1 + 251) * 10_000_000,
      onlineCpus: 2,
    });
    assert.equal(parseProcStat('cpu  1 2 3\ncpu0 1 2 3 4 5 6 7\n'), undefined);
    assert.equal(parseProcStat('intr 1\n'), undefined);
  });

  it('parseMemTotal gives bytes', () => {
    assert.equal(parseMemTotal('MemTotal:       24684084 kB\nMemFree:        1 kB\n'), 24684084 * 1024);
    assert.equal(parseMemTotal('MemFree:        1 kB\n'), undefined);
  });
});

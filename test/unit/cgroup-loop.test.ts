import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextDue, nextWake, readNow } from '../../src/cgroup/collector.js';

/**
 * The cgroup collector's read loop, run on its own rules (nextWake, readNow, nextDue) for ten
 * seconds of clock time: how many wake-ups it takes, and when each container is read.
 */
function run(firstDues: readonly number[], seconds: number): { wakes: number; reads: number[][] } {
  const dues = [...firstDues];
  const reads: number[][] = dues.map(() => []);
  let wakes = 0;
  let now = nextWake(0, dues);
  while (now < seconds * 1000) {
    wakes += 1;
    dues.forEach((due, i) => {
      if (!readNow(due, now)) return;
      reads[i]!.push(now);
      dues[i] = nextDue(due, now);
    });
    now = nextWake(now, dues);
  }
  return { wakes, reads };
}

describe('cgroup read loop', () => {
  it('reads containers whose seconds begin within 100 ms in one wake-up, each once a second', () => {
    const { wakes, reads } = run([100, 130, 180, 600], 10);
    assert.equal(wakes, 20, 'two groups: two wake-ups a second');
    for (const r of reads) {
      assert.equal(r.length, 10);
      for (let k = 1; k < r.length; k++) assert.equal(r[k]! - r[k - 1]!, 1000);
    }
    assert.deepEqual(reads.map((r) => r[0]), [200, 200, 200, 700], 'read up to 100 ms late, never early');
  });

  it('wakes ten times a second at most, whatever the spread, and reads each container once a second', () => {
    const spread = Array.from({ length: 100 }, (_, i) => 100 + i * 10);
    const { wakes, reads } = run(spread, 10);
    assert.ok(wakes <= 100, `${wakes} wake-ups in 10 s`);
    reads.forEach((r, i) => {
      assert.ok(r.length >= 9 && r.length <= 10, `${r.length} reads`);
      // On its own beat (a second apart from its first due time), read up to 100 ms late.
      r.forEach((at, k) => {
        const beat = spread[i]! + k * 1000;
        assert.ok(at >= beat && at <= beat + 100, `container ${i}, read ${k}: at ${at}, due ${beat}`);
      });
    });
  });

  it('with nothing to read, wakes once a second', () => {
    assert.equal(nextWake(5_000, []), 6_000);
    assert.equal(nextWake(5_000, [5_000]), 5_100, 'GATHER_MS after the first is due');
    assert.equal(nextWake(5_000, [5_400, 5_250]), 5_350);
  });
});

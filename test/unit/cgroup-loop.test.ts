import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextDue, nextWake } from '../../src/cgroup/collector.js';

/**
 * The cgroup collector's read loop, run on its own rules (nextWake, nextDue; a wake-up reads what is
 * due by then) for some seconds of clock time, its beat at 0: how many wake-ups it takes, and when
 * each container is read.
 */
function run(firstDues: readonly number[], seconds: number): { wakes: number; reads: number[][] } {
  const dues = [...firstDues];
  const reads: number[][] = dues.map(() => []);
  let wakes = 0;
  let now = nextWake(0, dues);
  while (now < seconds * 1000) {
    wakes += 1;
    dues.forEach((due, i) => {
      if (due > now) return;
      reads[i]!.push(now);
      dues[i] = nextDue(due, now, 0);
    });
    now = nextWake(now, dues);
  }
  return { wakes, reads };
}

/**
 * Each container's reads: the first up to 100 ms after it was due; the second 0.5–1.5 s later, on
 * the beat (up to 100 ms after a whole second); each one after on the next beat.
 */
function assertOnBeat(reads: number[][], firstDues: readonly number[]): void {
  reads.forEach((r, i) => {
    const due = firstDues[i]!;
    assert.ok(r[0]! >= due && r[0]! <= due + 100, `container ${i}: first read at ${r[0]}, due ${due}`);
    assert.ok(
      r[1]! - due >= 500 && r[1]! - due <= 1600,
      `container ${i}: second read ${r[1]! - due} ms after it was due`,
    );
    for (let k = 1; k < r.length; k++) {
      assert.ok(r[k]! % 1000 <= 100, `container ${i}, read ${k}: at ${r[k]}, not on the beat`);
      if (k > 1)
        assert.equal(
          Math.floor(r[k]! / 1000) - Math.floor(r[k - 1]! / 1000),
          1,
          `container ${i}, read ${k}: not the next beat`,
        );
    }
  });
}

describe('cgroup read loop', () => {
  it('reads a container as soon as it is located, then on the beat with every other: one wake-up a second', () => {
    const firstDues = [100, 130, 180, 600];
    const { wakes, reads } = run(firstDues, 10);
    assert.deepEqual(
      reads.map((r) => r[0]),
      [200, 200, 200, 700],
      'read up to 100 ms late, never early',
    );
    assertOnBeat(reads, firstDues);
    // 200 and 700 (first reads), 1100 (the first three), then every container at 2100, 3100, … 9100.
    assert.equal(wakes, 11);
    assert.deepEqual(
      reads.map((r) => r.length),
      [10, 10, 10, 9],
    );
  });

  it('containers located at any moment: ten wake-ups a second at most at first, then one', () => {
    const spread = Array.from({ length: 100 }, (_, i) => 100 + i * 37);
    const { wakes, reads } = run(spread, 10);
    assertOnBeat(reads, spread);
    const after = run(spread, 20).wakes - wakes;
    assert.equal(after, 10, 'the ten seconds after everyone was located: one wake-up each');
    reads.forEach((r, i) => {
      const located = spread[i]!;
      // One read a second from when it was located, give or take the first gap.
      assert.ok(Math.abs(r.length - (10_000 - located) / 1000) <= 1.5, `container ${i}: ${r.length} reads`);
    });
  });

  it('after a stall, the next beat: never more than one read behind', () => {
    assert.equal(nextDue(3_000, 3_050, 0), 4_000);
    assert.equal(nextDue(3_000, 6_420, 0), 7_000, 'read late (the loop was blocked): the next beat after the read');
    assert.equal(nextDue(3_550, 3_600, 250), 4_250, 'the first beat at least 500 ms after');
    assert.equal(nextDue(3_800, 3_850, 250), 5_250);
  });

  it('with nothing to read, wakes once a second', () => {
    assert.equal(nextWake(5_000, []), 6_000);
    assert.equal(nextWake(5_000, [5_000]), 5_100, 'GATHER_MS after the first is due');
    assert.equal(nextWake(5_000, [5_400, 5_250]), 5_350);
  });
});

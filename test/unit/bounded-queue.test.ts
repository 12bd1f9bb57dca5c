import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedQueue } from '../../src/pipeline/bounded-queue.js';

const m = (n: number) => ({ path: `p${n}`, value: n, time: n });
type Item = ReturnType<typeof m>;
const queue = (maxItems: number, maxBytes?: number) =>
  new BoundedQueue<Item>({ maxItems, maxBytes, sizeOf: (x) => 64 + 2 * x.path.length });
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => m(a + i));

describe('BoundedQueue', () => {
  it('is FIFO across batches', () => {
    const q = queue(100);
    q.push(range(0, 3));
    q.push(range(3, 5));
    assert.deepEqual(
      q.take(4).map((x) => x.value),
      [0, 1, 2, 3],
    );
    assert.deepEqual(
      q.take(10).map((x) => x.value),
      [4],
    );
    assert.equal(q.size, 0);
  });

  it('drops the oldest when full and counts them', () => {
    const q = queue(5);
    q.push(range(0, 4));
    q.push(range(4, 8));
    assert.equal(q.size, 5);
    assert.equal(q.dropped, 3);
    assert.deepEqual(
      q.take(10).map((x) => x.value),
      [3, 4, 5, 6, 7],
    );
  });

  it('puts a failed batch back at the head', () => {
    const q = queue(10);
    q.push(range(0, 6));
    const taken = q.take(2);
    q.take(1);
    q.unshift(taken);
    assert.deepEqual(
      q.take(10).map((x) => x.value),
      [0, 1, 3, 4, 5],
    );
  });

  it('a put-back batch that overflows loses its own oldest items first', () => {
    const q = queue(4);
    q.push(range(0, 4));
    const taken = q.take(2);
    q.push(range(4, 6));
    q.unshift(taken);
    assert.equal(q.dropped, 2);
    assert.deepEqual(
      q.take(10).map((x) => x.value),
      [2, 3, 4, 5],
    );
  });

  it('holds to its byte bound too, by the size the owner gives each item', () => {
    const q = queue(100, 3 * (64 + 2 * 'p10'.length));
    q.push(range(10, 15));
    assert.equal(q.size, 3);
    assert.equal(q.dropped, 2);
    assert.equal(q.bytes, 3 * (64 + 6));
    assert.deepEqual(
      q.take(10).map((x) => x.value),
      [12, 13, 14],
    );
    assert.equal(q.bytes, 0);
  });

  it('hands what it lets go to the overflow instead of dropping it', () => {
    const spilled: number[] = [];
    const q = new BoundedQueue<Item>({
      maxItems: 2,
      sizeOf: () => 1,
      overflow: (items) => spilled.push(...items.map((x) => x.value)),
    });
    q.push(range(0, 5));
    assert.deepEqual(spilled, [0, 1, 2]);
    assert.equal(q.dropped, 0);
  });

  describe('with a lazy batch', () => {
    /** A lazy batch of items a..b-1 that records how many have been made. */
    const lazy = (a: number, b: number, bytesEach = 100) => {
      const made: number[] = [];
      function* items() {
        for (let n = a; n < b; n++) {
          made.push(n);
          yield m(n);
        }
      }
      return { batch: { count: b - a, bytesEach, items: items() }, made };
    };

    it('counts its items at once and makes them only as they are taken, in order with the arrays around it', () => {
      const q = queue(100);
      const { batch, made } = lazy(2, 6);
      q.push(range(0, 2));
      q.push(batch);
      q.push(range(6, 8));
      assert.equal(q.size, 8);
      assert.equal(q.bytes, 2 * (64 + 4) + 4 * 100 + 2 * (64 + 4));
      assert.deepEqual(made, []);
      assert.deepEqual(
        q.take(3).map((x) => x.value),
        [0, 1, 2],
      );
      assert.deepEqual(made, [2]);
      assert.equal(q.size, 5);
      assert.deepEqual(
        q.take(10).map((x) => x.value),
        [3, 4, 5, 6, 7],
      );
      assert.deepEqual(made, [2, 3, 4, 5]);
      assert.equal(q.size, 0);
      assert.equal(q.bytes, 0);
    });

    it('is bounded by its count and estimated bytes: the oldest leave, made, to the overflow', () => {
      const gone: number[] = [];
      const q = new BoundedQueue<Item>({
        maxItems: 5,
        maxBytes: 450,
        sizeOf: () => 100,
        overflow: (items) => gone.push(...items.map((x) => x.value)),
      });
      q.push(range(0, 2));
      q.push(lazy(2, 6).batch);
      assert.deepEqual(gone, [0, 1], 'six items, 600 bytes: over both bounds until four, 400 bytes');
      assert.equal(q.size, 4);
      q.push(lazy(6, 8).batch);
      assert.deepEqual(gone, [0, 1, 2, 3]);
      assert.deepEqual(
        q.take(10).map((x) => x.value),
        [4, 5, 6, 7],
      );
    });

    it('gives up the rest of a source that ends before its count', () => {
      const q = queue(100);
      q.push({ count: 5, bytesEach: 10, items: range(0, 2)[Symbol.iterator]() });
      q.push(range(5, 6));
      assert.deepEqual(
        q.take(10).map((x) => x.value),
        [0, 1, 5],
      );
      assert.equal(q.size, 0);
      assert.equal(q.bytes, 0);
    });

    it('takes a failed batch back at its head as an array', () => {
      const q = queue(100);
      q.push(lazy(0, 4).batch);
      const sent = q.take(2);
      q.unshift(sent);
      assert.deepEqual(
        q.take(10).map((x) => x.value),
        [0, 1, 2, 3],
      );
    });
  });
});

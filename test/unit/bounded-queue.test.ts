import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedQueue } from '../../src/pipeline/bounded-queue.js';

const m = (n: number) => ({ path: `p${n}`, value: n, time: n });
type Item = ReturnType<typeof m>;
const queue = (maxItems: number, maxBytes?: number) => new BoundedQueue<Item>({ maxItems, maxBytes, sizeOf: (x) => 64 + 2 * x.path.length });
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => m(a + i));

describe('BoundedQueue', () => {
  it('is FIFO across batches', () => {
    const q = queue(100);
    q.push(range(0, 3));
    q.push(range(3, 5));
    assert.deepEqual(q.take(4).map((x) => x.value), [0, 1, 2, 3]);
    assert.deepEqual(q.take(10).map((x) => x.value), [4]);
    assert.equal(q.size, 0);
  });

  it('drops the oldest when full and counts them', () => {
    const q = queue(5);
    q.push(range(0, 4));
    q.push(range(4, 8));
    assert.equal(q.size, 5);
    assert.equal(q.dropped, 3);
    assert.deepEqual(q.take(10).map((x) => x.value), [3, 4, 5, 6, 7]);
  });

  it('puts a failed batch back at the head', () => {
    const q = queue(10);
    q.push(range(0, 6));
    const taken = q.take(2);
    q.take(1);
    q.unshift(taken);
    assert.deepEqual(q.take(10).map((x) => x.value), [0, 1, 3, 4, 5]);
  });

  it('a put-back batch that overflows loses its own oldest items first', () => {
    const q = queue(4);
    q.push(range(0, 4));
    const taken = q.take(2);
    q.push(range(4, 6));
    q.unshift(taken);
    assert.equal(q.dropped, 2);
    assert.deepEqual(q.take(10).map((x) => x.value), [2, 3, 4, 5]);
  });

  it('holds to its byte bound too, by the size the owner gives each item', () => {
    const q = queue(100, 3 * (64 + 2 * 'p10'.length));
    q.push(range(10, 15));
    assert.equal(q.size, 3);
    assert.equal(q.dropped, 2);
    assert.equal(q.bytes, 3 * (64 + 6));
    assert.deepEqual(q.take(10).map((x) => x.value), [12, 13, 14]);
    assert.equal(q.bytes, 0);
  });

  it('hands what it lets go to the overflow instead of dropping it', () => {
    const spilled: number[] = [];
    const q = new BoundedQueue<Item>({ maxItems: 2, sizeOf: () => 1, overflow: (items) => spilled.push(...items.map((x) => x.value)) });
    q.push(range(0, 5));
    assert.deepEqual(spilled, [0, 1, 2]);
    assert.equal(q.dropped, 0);
  });
});

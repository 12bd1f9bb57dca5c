import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricQueue } from '../../src/pipeline/metric-queue.js';

const m = (n: number) => ({ path: `p${n}`, value: n, time: n });
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => m(a + i));

describe('MetricQueue', () => {
  it('is FIFO across batches', () => {
    const q = new MetricQueue(100);
    q.push(range(0, 3));
    q.push(range(3, 5));
    assert.deepEqual(q.take(4).map((x) => x.value), [0, 1, 2, 3]);
    assert.deepEqual(q.take(10).map((x) => x.value), [4]);
    assert.equal(q.size, 0);
  });

  it('drops the oldest when full and counts them', () => {
    const q = new MetricQueue(5);
    q.push(range(0, 4));
    q.push(range(4, 8));
    assert.equal(q.size, 5);
    assert.equal(q.dropped, 3);
    assert.deepEqual(q.take(10).map((x) => x.value), [3, 4, 5, 6, 7]);
  });

  it('puts a failed batch back at the head', () => {
    const q = new MetricQueue(10);
    q.push(range(0, 6));
    const taken = q.take(2);
    q.take(1);
    q.unshift(taken);
    assert.deepEqual(q.take(10).map((x) => x.value), [0, 1, 3, 4, 5]);
  });

  it('a put-back batch that overflows loses its own oldest items first', () => {
    const q = new MetricQueue(4);
    q.push(range(0, 4));
    const taken = q.take(2);
    q.push(range(4, 6));
    q.unshift(taken);
    assert.equal(q.dropped, 2);
    assert.deepEqual(q.take(10).map((x) => x.value), [2, 3, 4, 5]);
  });
});

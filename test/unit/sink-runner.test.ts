import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { DEFAULT_RETRY, retryPolicyFor, SinkRunner } from '../../src/pipeline/sink-runner.js';
import type { Metric } from '../../src/reduce/metric.js';
import { SinkSendError, type Sink } from '../../src/sinks/sink.js';
import { waitFor } from '../helpers/wait.js';

const FAST = { soonBaseMs: 5, soonCapMs: 20, slowBaseMs: 10, slowCapMs: 40 };
const m = (n: number): Metric => ({ path: `p${n}`, value: n, time: n });

/** A sink of the test's own that fails while told to, records what it got and checks overlap. */
function recordingSink(maxBatchItems = 3) {
  const state = { got: [] as number[], calls: 0, failWith: undefined as SinkSendError | undefined, inFlight: 0, overlap: false };
  const sink: Sink = {
    description: 'test',
    maxBatchItems,
    async send(items) {
      state.calls += 1;
      state.inFlight += 1;
      if (state.inFlight > 1) state.overlap = true;
      await new Promise((r) => setTimeout(r, 2));
      state.inFlight -= 1;
      if (state.failWith) throw state.failWith;
      state.got.push(...items.map((i) => i.value));
    },
    async close() {},
  };
  return { sink, state };
}

describe('SinkRunner', () => {
  it('delivers in order, in chunks of maxBatchItems, one send at a time', async () => {
    const { sink, state } = recordingSink(3);
    const runner = new SinkRunner(sink, { maxItems: 100, clock: systemClock, logger: createLogger(() => {}, { level: 'error' }), retry: FAST });
    runner.enqueue([m(1), m(2), m(3), m(4)]);
    runner.enqueue([m(5)]);
    await waitFor(() => state.got.length === 5, 'all delivered');
    assert.deepEqual(state.got, [1, 2, 3, 4, 5]);
    assert.equal(state.overlap, false);
    assert.ok(state.calls >= 2);
    await runner.close();
  });

  it('keeps failed items and retries them until the sink accepts, logging the failure', async () => {
    const { sink, state } = recordingSink(10);
    const lines: string[] = [];
    const runner = new SinkRunner(sink, { maxItems: 100, clock: systemClock, logger: createLogger((l) => lines.push(l), { level: 'info' }), retry: FAST });
    state.failWith = new SinkSendError('HTTP 500', { pace: 'soon', code: 'HTTP_500' });
    runner.enqueue([m(1), m(2)]);
    await waitFor(() => state.calls >= 3, 'several failed attempts');
    runner.enqueue([m(3)]);
    state.failWith = undefined;
    await waitFor(() => state.got.length === 3, 'delivered after the failures');
    assert.deepEqual(state.got, [1, 2, 3]);
    assert.ok(lines.some((l) => l.includes('WARN') && l.includes('HTTP 500')));
    assert.ok(lines.some((l) => l.includes('delivers again')));
    await runner.close();
  });

  it('drops the oldest on overflow and reports the count once', async () => {
    const { sink, state } = recordingSink(10);
    const lines: string[] = [];
    const runner = new SinkRunner(sink, { maxItems: 4, clock: systemClock, logger: createLogger((l) => lines.push(l), { level: 'warn' }), retry: FAST });
    state.failWith = new SinkSendError('down', { pace: 'soon', code: 'X' });
    runner.enqueue([m(1), m(2), m(3)]);
    await waitFor(() => state.calls >= 1, 'first attempt');
    runner.enqueue([m(4), m(5), m(6)]);
    // The failed first batch goes back to the head: 6 items for 4 places.
    await waitFor(() => runner.stats.dropped === 2, 'the overflow');
    runner.reportDrops();
    runner.reportDrops();
    assert.equal(lines.filter((l) => l.includes('dropped the oldest')).length, 1);
    state.failWith = undefined;
    await waitFor(() => state.got.length === 4, 'the newest four delivered');
    assert.deepEqual(state.got, [3, 4, 5, 6]);
    await runner.close();
  });

  it('flush gives up at its deadline and says how many items are left', async () => {
    const { sink, state } = recordingSink(10);
    const runner = new SinkRunner(sink, { maxItems: 100, clock: systemClock, logger: createLogger(() => {}, { level: 'error' }), retry: FAST });
    state.failWith = new SinkSendError('down', { pace: 'slow', code: 'HTTP_404' });
    runner.enqueue([m(1), m(2)]);
    const started = Date.now();
    assert.equal(await runner.flush(150), 2);
    assert.ok(Date.now() - started < 5000);
    await runner.close();
  });

  it('flush retries at once instead of waiting out a long backoff', async () => {
    const { sink, state } = recordingSink(10);
    const slow = { soonBaseMs: 60_000, soonCapMs: 60_000, slowBaseMs: 60_000, slowCapMs: 60_000 };
    const runner = new SinkRunner(sink, { maxItems: 100, clock: systemClock, logger: createLogger(() => {}, { level: 'error' }), retry: slow });
    state.failWith = new SinkSendError('down', { pace: 'soon', code: 'X' });
    runner.enqueue([m(1)]);
    await waitFor(() => state.calls === 1, 'first attempt');
    state.failWith = undefined;
    assert.equal(await runner.flush(5000), 0);
    assert.deepEqual(state.got, [1]);
    await runner.close();
  });

  it('backs off transient failures up to the poll interval (1 s to 60 s), configuration errors as slowly as ever', () => {
    for (const [pollMs, cap] of [[500, 1_000], [1_000, 1_000], [10_000, 10_000], [60_000, 60_000], [300_000, 60_000]] as const) {
      const policy = retryPolicyFor(pollMs);
      assert.equal(policy.soonCapMs, cap, `poll ${pollMs} ms`);
      assert.equal(policy.soonBaseMs, DEFAULT_RETRY.soonBaseMs);
      assert.equal(policy.slowBaseMs, DEFAULT_RETRY.slowBaseMs);
      assert.equal(policy.slowCapMs, DEFAULT_RETRY.slowCapMs);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import {
  DEFAULT_RETRY,
  PullRunner,
  retryPolicyFor,
  SinkRunner,
  type TickRunner,
} from '../../src/pipeline/sink-runner.js';
import type { CarbonPoint } from '../../src/naming/carbon-path.js';
import { SinkSendError, type PullSink, type Sink } from '../../src/sinks/sink.js';
import { point, pointSinkParts, points, tickOf } from '../helpers/ticks.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitFor } from '../helpers/wait.js';

const FAST = { soonBaseMs: 5, soonCapMs: 20, slowBaseMs: 10, slowCapMs: 40 };

/** A sink of the test's own that fails while told to, records what it got and checks overlap. */
function recordingSink(maxBatchItems = 3) {
  const state = {
    got: [] as number[],
    calls: 0,
    failWith: undefined as SinkSendError | undefined,
    inFlight: 0,
    overlap: false,
  };
  const sink: Sink<CarbonPoint> = {
    description: 'test',
    ...pointSinkParts,
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
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock: systemClock,
      logger: createLogger(() => {}, { level: 'error' }),
      retry: FAST,
    });
    runner.enqueue(tickOf([point(1), point(2), point(3), point(4)]));
    runner.enqueue(tickOf([point(5)]));
    await waitFor(() => state.got.length === 5, 'all delivered');
    assert.deepEqual(state.got, [1, 2, 3, 4, 5]);
    assert.equal(state.overlap, false);
    assert.ok(state.calls >= 2);
    await runner.close();
  });

  it('items the sink rejects as bad count as dropped, not delivered, and not as a full buffer', async () => {
    const lines: string[] = [];
    let rejectedSoFar = 0;
    const sink: Sink<CarbonPoint> = {
      description: 'test',
      ...pointSinkParts,
      maxBatchItems: 10,
      // Rejects the odd values, as Backstop's 400 does for bad items.
      async send(items) {
        const bad = items.filter((i) => i.value % 2 === 1).length;
        rejectedSoFar += bad;
        return bad;
      },
      async close() {},
    };
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock: systemClock,
      logger: createLogger((l) => lines.push(l), { level: 'warn' }),
      retry: FAST,
    });
    runner.enqueue(tickOf(points(0, 7)));
    await waitFor(() => runner.stats.delivered + runner.stats.dropped === 7, 'the batch sent');
    assert.equal(rejectedSoFar, 3);
    assert.deepEqual(
      { delivered: runner.stats.delivered, dropped: runner.stats.dropped, produced: runner.stats.produced },
      { delivered: 4, dropped: 3, produced: 7 },
    );
    runner.reportDrops();
    assert.deepEqual(
      lines.filter((l) => l.includes('buffer full')),
      [],
      'no full buffer was involved',
    );
    await runner.close();
  });

  it('keeps failed items and retries them until the sink accepts, logging the failure', async () => {
    const { sink, state } = recordingSink(10);
    const lines: string[] = [];
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock: systemClock,
      logger: createLogger((l) => lines.push(l), { level: 'info' }),
      retry: FAST,
    });
    state.failWith = new SinkSendError('HTTP 500', { pace: 'soon', code: 'HTTP_500' });
    runner.enqueue(tickOf([point(1), point(2)]));
    await waitFor(() => state.calls >= 3, 'several failed attempts');
    runner.enqueue(tickOf([point(3)]));
    state.failWith = undefined;
    await waitFor(() => state.got.length === 3, 'delivered after the failures');
    assert.deepEqual(state.got, [1, 2, 3]);
    assert.ok(lines.some((l) => l.includes('WARN') && l.includes('HTTP 500')));
    assert.ok(lines.some((l) => l.includes('delivers again')));
    await runner.close();
  });

  it("keeps the sink's health: failing since a run's first failure, with the last error, till delivered", async () => {
    const { sink, state } = recordingSink(10);
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock: systemClock,
      logger: createLogger(() => {}, { level: 'error' }),
      retry: FAST,
    });
    assert.deepEqual(runner.health(), { sink: 'test', failingSince: undefined, lastError: undefined });
    const before = Date.now();
    state.failWith = new SinkSendError('POST https://ops:secret-pw@backstop.example/publish/x failed: HTTP 503', {
      pace: 'soon',
      code: 'HTTP_503',
    });
    runner.enqueue(tickOf([point(1)]));
    await waitFor(() => state.calls >= 3, 'several failures');
    const failing = runner.health();
    assert.ok(
      failing.failingSince !== undefined && failing.failingSince >= before && failing.failingSince <= Date.now(),
    );
    assert.equal(failing.lastError, 'POST https://ops:***@backstop.example/publish/x failed: HTTP 503');
    await waitFor(() => state.calls >= 5, 'more failures');
    assert.equal(runner.health().failingSince, failing.failingSince, 'since the first failure of the run');
    state.failWith = undefined;
    await waitFor(() => state.got.length === 1, 'delivered');
    assert.deepEqual(runner.health(), { sink: 'test', failingSince: undefined, lastError: undefined });
    await runner.close();
  });

  it('waits out its backoff on its clock: 1 s doubling to the cap, jitter in [50 %, 100 %] of each step', async () => {
    const clock = new FakeClock();
    const { sink, state } = recordingSink(10);
    const sends: number[] = [];
    const counted: Sink<CarbonPoint> = {
      ...sink,
      send: (items, signal) => {
        sends.push(clock.now());
        return sink.send(items, signal);
      },
    };
    const draws = [1, 1, 1, 1, 1, 0, 1];
    const runner = new SinkRunner(counted, {
      maxItems: 100,
      clock,
      logger: createLogger(() => {}, { level: 'error' }),
      retry: retryPolicyFor(10_000),
      random: () => draws.shift() ?? 1,
    });
    state.failWith = new SinkSendError('down', { pace: 'soon', code: 'X' });
    const t0 = clock.now();
    runner.enqueue(tickOf([point(1)]));
    await waitFor(() => sends.length === 1, 'the first attempt');
    // Steps 1, 2, 4, 8, 10 (capped at the poll interval) s at the top of the jitter, then 10 at its
    // bottom (5 s), then 10 again.
    for (let i = 0; i < 7; i++) {
      await waitFor(() => clock.pending > 0, 'the backoff timer');
      await clock.next();
      await waitFor(() => sends.length === i + 2, 'the next attempt');
    }
    assert.deepEqual(
      sends.slice(0, 8).map((t) => t - t0),
      [0, 1_000, 3_000, 7_000, 15_000, 25_000, 30_000, 40_000],
    );
    await waitFor(() => clock.pending > 0, 'the backoff timer after the last failure');
    state.failWith = undefined;
    await clock.next();
    await waitFor(() => state.got.length === 1, 'delivered');
    await runner.close();
  });

  it('drops the oldest on overflow and reports the count once', async () => {
    const { sink, state } = recordingSink(10);
    const lines: string[] = [];
    const runner = new SinkRunner(sink, {
      maxItems: 4,
      clock: systemClock,
      logger: createLogger((l) => lines.push(l), { level: 'warn' }),
      retry: FAST,
    });
    state.failWith = new SinkSendError('down', { pace: 'soon', code: 'X' });
    runner.enqueue(tickOf([point(1), point(2), point(3)]));
    await waitFor(() => state.calls >= 1, 'first attempt');
    runner.enqueue(tickOf([point(4), point(5), point(6)]));
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
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock: systemClock,
      logger: createLogger(() => {}, { level: 'error' }),
      retry: FAST,
    });
    state.failWith = new SinkSendError('down', { pace: 'slow', code: 'HTTP_404' });
    runner.enqueue(tickOf([point(1), point(2)]));
    const started = Date.now();
    assert.equal(await runner.flush(150), 2);
    assert.ok(Date.now() - started < 5000);
    await runner.close();
  });

  it('flush retries at once instead of waiting out a long backoff', async () => {
    const { sink, state } = recordingSink(10);
    const slow = { soonBaseMs: 60_000, soonCapMs: 60_000, slowBaseMs: 60_000, slowCapMs: 60_000 };
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock: systemClock,
      logger: createLogger(() => {}, { level: 'error' }),
      retry: slow,
    });
    state.failWith = new SinkSendError('down', { pace: 'soon', code: 'X' });
    runner.enqueue(tickOf([point(1)]));
    await waitFor(() => state.calls === 1, 'first attempt');
    state.failWith = undefined;
    assert.equal(await runner.flush(5000), 0);
    assert.deepEqual(state.got, [1]);
    await runner.close();
  });

  it('backs off transient failures up to the poll interval (1 s to 60 s), configuration errors as slowly', () => {
    for (const [pollMs, cap] of [
      [500, 1_000],
      [1_000, 1_000],
      [10_000, 10_000],
      [60_000, 60_000],
      [300_000, 60_000],
    ] as const) {
      const policy = retryPolicyFor(pollMs);
      assert.equal(policy.soonCapMs, cap, `poll ${pollMs} ms`);
      assert.equal(policy.soonBaseMs, DEFAULT_RETRY.soonBaseMs);
      assert.equal(policy.slowBaseMs, DEFAULT_RETRY.slowBaseMs);
      assert.equal(policy.slowCapMs, DEFAULT_RETRY.slowCapMs);
    }
  });
});

describe('PullRunner', () => {
  it('hands each tick to the sink at once, queues and counts nothing, is never failing, closes once', async () => {
    const seen: number[] = [];
    let started = 0;
    let closed = 0;
    const sink: PullSink = {
      description: 'pull',
      update: (tick) => void seen.push([...tick.metrics].length),
      start: async () => {
        started += 1;
      },
      close: async () => {
        closed += 1;
      },
    };
    const runner: TickRunner = new PullRunner(sink);
    const status = { engineReachable: () => true, sinks: () => [] };
    await runner.start(status);
    assert.equal(started, 1);
    runner.enqueue(tickOf(points(0, 3)));
    runner.enqueue(tickOf(points(3, 5)));
    assert.deepEqual(seen, [3, 2]);
    assert.equal(runner.pending, 0);
    assert.deepEqual(
      Object.values(runner.stats),
      Object.values(runner.stats).map(() => 0),
    );
    assert.deepEqual(runner.health(), { sink: 'pull', failingSince: undefined, lastError: undefined });
    assert.equal(await runner.flush(1_000), 0);
    await runner.close();
    await runner.close();
    assert.equal(closed, 1);
    runner.enqueue(tickOf(points(5, 6)));
    assert.deepEqual(seen, [3, 2], 'nothing after close');
  });
});

import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock, type Clock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import type { CarbonPoint } from '../../src/naming/carbon-path.js';
import { SinkRunner, type SinkRunnerOptions } from '../../src/pipeline/sink-runner.js';
import { Spool, type SpoolBatch } from '../../src/pipeline/spool.js';
import { SinkSendError, type Sink } from '../../src/sinks/sink.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FaultyFs, type FsOp } from '../helpers/faulty-fs.js';
import { pointSinkParts, points, tickOf } from '../helpers/ticks.js';
import { waitFor } from '../helpers/wait.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('dstb-runner-faults-');

const FAST = { soonBaseMs: 5, soonCapMs: 20, slowBaseMs: 5, slowCapMs: 20 };
const ALL_WRITES: FsOp[] = [
  'openSync',
  'writeSync',
  'fdatasyncSync',
  'ftruncateSync',
  'writeFileSync',
  'renameSync',
  'unlinkSync',
  'mkdirSync',
];
const quiet = createLogger(() => {}, { level: 'error' });
/** A spool on `dir` as a new process would open it. */
const reopen = (dir: string): Spool<CarbonPoint> =>
  new Spool({ dir, maxBytes: 1 << 30, logger: quiet, sink: 'test', codec: pointSinkParts.spool! });

/**
 * A sink of the test's own: down while told so, hanging while told so, recording what it
 * accepted, and checking the runner's accounting on every call (mid-flight included).
 */
function testSink(check: () => void = () => {}) {
  const state = { up: true, hang: false, got: [] as number[], sends: 0, release: () => {} };
  const sink: Sink<CarbonPoint> = {
    description: 'test',
    ...pointSinkParts,
    maxBatchItems: 10,
    async send(items, signal) {
      state.sends += 1;
      check();
      if (state.hang) {
        await new Promise<void>((resolve) => {
          state.release = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        if (signal.aborted) throw new SinkSendError('aborted', { pace: 'soon', code: 'ABORT' });
      }
      await new Promise((r) => setTimeout(r, 1));
      if (!state.up) throw new SinkSendError('down', { pace: 'soon', code: 'DOWN' });
      state.got.push(...items.map((i) => i.value));
    },
    async close() {},
  };
  return { sink, state };
}

interface HarnessOptions {
  fs?: FaultyFs;
  dir?: string;
  clock?: Clock;
  spoolRetryMs?: number;
  maxItems?: number;
  segmentBytes?: number;
}

function harness(opts: HarnessOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger((l) => lines.push(l), { level: 'debug' });
  const dir = opts.dir ?? tempDir();
  const codec = pointSinkParts.spool!;
  const { segmentBytes, fs } = opts;
  const spool = new Spool({ dir, maxBytes: 1 << 30, segmentBytes, logger, sink: 'test', codec, fs });
  let runner: SinkRunner<CarbonPoint> | undefined;
  const balance = (): void => {
    if (!runner) return;
    const s = runner.stats;
    assert.equal(s.delivered + s.dropped + s.buffered + s.spooled, s.produced, `accounting: ${JSON.stringify(s)}`);
  };
  const { sink, state } = testSink(balance);
  const o: SinkRunnerOptions<CarbonPoint> = {
    maxItems: opts.maxItems ?? 10_000,
    clock: opts.clock ?? systemClock,
    logger,
    retry: FAST,
    spool,
    spoolRetryMs: opts.spoolRetryMs,
  };
  runner = new SinkRunner(sink, o);
  let next = 0;
  /** Enqueues a tick of n new points, checking the accounting before and after. */
  const tick = (n = 5): void => {
    balance();
    runner!.enqueue(tickOf(points(next, next + n)));
    next += n;
    balance();
  };
  return { runner, sink, state, lines, dir, spool, tick, balance, produced: () => next };
}

/** No item was delivered that was not produced, and (duplicates aside) none is missing that was not dropped. */
function assertDeliveredWhole(got: readonly number[], produced: number, dropped: number): void {
  for (const v of got) assert.ok(Number.isInteger(v) && v >= 0 && v < produced, `delivered, never produced: ${v}`);
  assert.equal(new Set(got).size + dropped, produced, 'delivered + dropped = produced');
}

describe('SinkRunner with a spool, under faults', () => {
  it('writes each tick ahead: on disk (a restart counts it) while the sink hangs in a send', async () => {
    const h = harness();
    h.state.hang = true;
    h.tick(5);
    await waitFor(() => h.state.sends === 1, 'the hanging send');
    h.tick(5);
    h.tick(5);
    // kill -9 now: what a new process finds on disk.
    assert.equal(reopen(h.dir).waiting, 15);
    assert.equal(h.runner.pending, 0, 'nothing waits only in memory');
    h.balance();
    h.state.hang = false;
    h.state.release();
    await waitFor(() => new Set(h.state.got).size === 15, 'everything delivered');
    h.balance();
    await h.runner.close();
  });

  it('keeps one segment open across ticks and does not read back from disk what it just wrote', async () => {
    const fs = new FaultyFs();
    const h = harness({ fs });
    for (let i = 0; i < 10; i++) {
      h.tick(5);
      await waitFor(() => h.state.got.length === (i + 1) * 5, 'delivered');
    }
    assert.equal(fs.count('openSync'), 1, 'one segment for all ten ticks');
    assert.equal(fs.count('readFileSync'), 0, 'fresh records are sent from memory');
    assert.equal(fs.count('fdatasyncSync'), 10, 'each tick synced');
    await h.runner.close();
  });

  for (const [what, ops, code] of [
    ['read-only (EROFS)', ALL_WRITES, 'EROFS'],
    ['EIO on fdatasync', ['fdatasyncSync'], 'EIO'],
    ['EACCES', ['openSync', 'writeFileSync', 'renameSync', 'unlinkSync', 'ftruncateSync'], 'EACCES'],
    ['ENOENT', ['openSync', 'writeFileSync', 'renameSync', 'mkdirSync'], 'ENOENT'],
  ] as const) {
    it(`a spool that fails (${what}) never stops delivery to a healthy sink: memory, one error, counted`, async () => {
      const fs = new FaultyFs();
      const h = harness({ fs, segmentBytes: 100 });
      h.tick(5);
      await waitFor(() => h.state.got.length === 5, 'the first tick');
      fs.failAll(ops, code);
      for (let i = 0; i < 6; i++) {
        h.tick(5);
        await waitFor(() => new Set(h.state.got).size === h.produced(), 'delivered despite the spool');
      }
      const s = h.runner.stats;
      assert.ok(s.spoolErrors > 0, 'spool errors counted');
      assert.equal(s.failures, 0, 'no send failed');
      assert.equal(s.dropped, 0);
      const errors = h.lines.filter((l) => l.includes('ERROR') && l.includes('spool failed'));
      assert.equal(errors.length, 1, 'one logged error');
      h.balance();
      assertDeliveredWhole(h.state.got, h.produced(), s.dropped);
      await h.runner.close();
    });
  }

  it('a failed acknowledgement is not a send failure: the items count as delivered', async () => {
    const fs = new FaultyFs();
    const h = harness({ fs });
    fs.failAll(['writeFileSync', 'renameSync', 'unlinkSync', 'ftruncateSync'], 'EROFS');
    h.tick(25); // three records: two acknowledgements in the file, then the emptied segment
    await waitFor(() => h.state.got.length === 25, 'delivered');
    const s = h.runner.stats;
    assert.equal(s.failures, 0);
    assert.equal(s.delivered, 25);
    assert.equal(s.spooled, 0);
    assert.ok(s.spoolErrors > 0);
    h.balance();
    await h.runner.close();
  });

  it('sink down too: what a broken spool cannot take waits in memory; the spool is retried, says so', async () => {
    const fs = new FaultyFs();
    const h = harness({ fs, spoolRetryMs: 30 });
    h.state.up = false;
    fs.failAll(['openSync', 'writeSync'], 'EROFS');
    h.tick(5);
    h.tick(5);
    assert.equal(h.runner.stats.buffered, 10, 'in memory, not lost');
    await waitFor(() => h.state.sends >= 2, 'failed sends');
    fs.clear();
    await new Promise((r) => setTimeout(r, 40));
    h.tick(5);
    assert.ok(h.lines.some((l) => l.includes('spool works again')));
    // What waited in memory went to disk first (a batch out in a failing send follows when it fails).
    const stats = (): string => JSON.stringify(h.runner.stats);
    await waitFor(() => h.runner.stats.spooled === 15 && h.runner.stats.buffered === 0, stats);
    h.state.up = true;
    await waitFor(() => new Set(h.state.got).size === 15, 'everything delivered');
    h.balance();
    assert.equal(h.runner.stats.dropped, 0);
    await h.runner.close();
  });

  it('the memory fallback is bounded: the oldest are dropped and counted, and the accounting holds', async () => {
    const fs = new FaultyFs();
    const h = harness({ fs, maxItems: 12 });
    h.state.up = false;
    fs.failAll(ALL_WRITES, 'EROFS');
    for (let i = 0; i < 6; i++) h.tick(5);
    h.balance();
    // The first tick is out in a (failing) send; the 25 points after it have 12 places.
    assert.equal(h.runner.stats.dropped, 13);
    h.state.up = true;
    await waitFor(() => h.runner.stats.buffered === 0, 'the memory queue delivered');
    h.balance();
    assertDeliveredWhole(h.state.got, h.produced(), h.runner.stats.dropped);
    await h.runner.close();
  });

  it('a full disk during an outage: eviction counted, no torn record, delivered + dropped = produced', async () => {
    const fs = new FaultyFs();
    const h = harness({ fs, segmentBytes: 300 });
    h.state.up = false;
    for (let i = 0; i < 8; i++) h.tick(5);
    fs.fail('writeSync', { kind: 'short', bytes: 40 }).fail('writeSync', { kind: 'error', code: 'ENOSPC' });
    h.tick(5);
    fs.fail('writeSync', { kind: 'error', code: 'ENOSPC' }, 2);
    h.tick(5);
    h.balance();
    assert.ok(h.runner.stats.dropped > 0);
    h.state.up = true;
    await waitFor(() => h.runner.stats.spooled === 0 && h.runner.stats.buffered === 0, 'drained');
    h.balance();
    assertDeliveredWhole(h.state.got, h.produced(), h.runner.stats.dropped);
    assert.ok(!h.lines.some((l) => l.includes('skipped corrupt or torn')));
    await h.runner.close();
  });

  it('the spool folder deleted during an outage: the loss counted, the folder made again, the rest sent', async () => {
    const fs = new FaultyFs();
    const parent = tempDir();
    const dir = join(parent, 'sink');
    const h = harness({ fs, dir });
    h.state.up = false;
    for (let i = 0; i < 4; i++) h.tick(5);
    await waitFor(() => h.state.sends >= 1, 'a failed send');
    fs.removeDir(dir);
    h.tick(5);
    h.balance();
    // A batch out in a send when the files went is dropped when that send fails.
    await waitFor(() => h.runner.stats.dropped === 20, 'the 20 points of the lost files counted');
    assert.ok(readdirSync(dir).length > 0, 'made again');
    h.state.up = true;
    await waitFor(() => h.runner.stats.spooled === 0, 'drained');
    h.balance();
    assert.deepEqual(
      [...new Set(h.state.got)].sort((a, b) => a - b),
      [20, 21, 22, 23, 24],
    );
    assertDeliveredWhole(h.state.got, h.produced(), h.runner.stats.dropped);
    await h.runner.close();
  });

  it('a corrupt acknowledgement file at start: everything delivered from the segment start, no spinning', async () => {
    const dir = tempDir();
    const first = reopen(dir);
    first.append(points(0, 30), 10);
    first.close();
    const [segment] = readdirSync(dir);
    writeFileSync(join(dir, `${segment!}.ack`), '-1');
    const h = harness({ dir });
    await waitFor(() => h.state.got.length === 30, 'the segment delivered');
    assert.equal(h.state.sends, 3);
    assert.equal(h.lines.filter((l) => l.includes('invalid spool acknowledgement')).length, 1);
    h.balance();
    await h.runner.close();
  });

  it('an exception picking the next batch is logged and retried after the send backoff, not at once', async () => {
    const clock = new FakeClock();
    let attempts = 0;
    const broken = {
      waiting: 1,
      bytes: 10,
      dropped: 0,
      errors: 0,
      hasBacklog: true,
      seal() {},
      close() {},
      release() {},
      take(): SpoolBatch<CarbonPoint> | undefined {
        attempts += 1;
        throw new RangeError('a record index out of range');
      },
    } as unknown as Spool<CarbonPoint>;
    const lines: string[] = [];
    const { sink } = testSink();
    const runner = new SinkRunner(sink, {
      maxItems: 100,
      clock,
      logger: createLogger((l) => lines.push(l), { level: 'debug' }),
      retry: { soonBaseMs: 1_000, soonCapMs: 8_000, slowBaseMs: 1_000, slowCapMs: 8_000 },
      spool: broken,
      random: () => 1,
    });
    await waitFor(() => attempts === 1, 'the first attempt');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(attempts, 1, 'no retry before the clock moves');
    const at: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) {
      await waitFor(() => clock.pending > 0, 'the backoff timer');
      await clock.next();
      await waitFor(() => attempts === i + 2, 'the next attempt');
      at.push(clock.now() - t0);
    }
    assert.deepEqual(at, [1_000, 3_000, 7_000, 15_000, 23_000]);
    assert.ok(lines.some((l) => l.includes('ERROR') && l.includes('a record index out of range')));
    await runner.close();
  });
});

describe('SinkRunner.spillToSpool', () => {
  it('writes what waits only in memory to the spool at once, synchronously; what it cannot write stays', async () => {
    const fs = new FaultyFs();
    const h = harness({ fs, spoolRetryMs: 60_000 });
    h.state.up = false;
    fs.failAll(['openSync'], 'EROFS');
    h.tick(5);
    h.tick(5);
    h.runner.spillToSpool();
    assert.equal(h.runner.stats.buffered + h.runner.stats.spooled, 10, 'still there, in memory');
    fs.clear();
    h.runner.spillToSpool(); // a second signal's exit: no waiting for the retry time
    assert.ok(h.runner.pending <= 5, 'only a batch out in a send is left in memory');
    assert.equal(reopen(h.dir).waiting, 10 - h.runner.pending, 'on disk at once, but for a batch out in a send');
    // That batch follows when its send fails.
    await waitFor(() => h.runner.stats.buffered === 0, 'the batch out in a send');
    assert.equal(reopen(h.dir).waiting, 10, 'on disk for the next run');
    h.balance();
    await h.runner.close();
  });
});

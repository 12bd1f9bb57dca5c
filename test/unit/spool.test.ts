import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { SinkRunner } from '../../src/pipeline/sink-runner.js';
import { Spool } from '../../src/pipeline/spool.js';
import type { CarbonPoint } from '../../src/naming/carbon-path.js';
import { SinkSendError, type Sink } from '../../src/sinks/sink.js';
import { point, pointSinkParts, points, tickOf } from '../helpers/ticks.js';
import { waitFor } from '../helpers/wait.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('dstb-spool-');

const logs: string[] = [];
const logger = createLogger((l) => logs.push(l), { level: 'debug' });
const spool = (dir: string, maxBytes = 1 << 30, segmentBytes?: number) =>
  new Spool({ dir, maxBytes, segmentBytes, logger, sink: 'test', codec: pointSinkParts.spool! });

/** Everything a spool holds, oldest first, acknowledging as it goes. */
function drain(s: Spool<CarbonPoint>): number[] {
  const out: number[] = [];
  for (let r = s.peek(); r; r = s.peek()) {
    out.push(...r.map((x) => x.value));
    s.ack();
  }
  return out;
}

describe('Spool', () => {
  it('replays records oldest first, one send (record) at a time', () => {
    const s = spool(tempDir());
    s.append(points(0, 5), 2);
    s.append(points(5, 7), 2);
    assert.deepEqual(
      s.peek()?.map((x) => x.value),
      [0, 1],
    );
    assert.deepEqual(drain(s), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(s.hasBacklog, false);
    assert.equal(s.bytes, 0);
  });

  it('survives a restart (a new Spool on the same folder) and resumes after the last acknowledged record', () => {
    const dir = tempDir();
    const a = spool(dir);
    a.append(points(0, 6), 2);
    a.peek();
    a.ack(); // 0, 1 delivered
    // No close(): as after kill -9.
    const b = spool(dir);
    assert.equal(b.hasBacklog, true);
    assert.deepEqual(drain(b), [2, 3, 4, 5]);
    assert.deepEqual(readdirSync(dir), [], 'delivered segments are deleted');
  });

  it('counts acknowledgements from the segment start: four restarts mid-backlog deliver each record once', () => {
    const dir = tempDir();
    const first = spool(dir);
    first.append(points(0, 12), 1);
    first.close();
    const delivered: number[] = [];
    // Four runs, each delivering two records and then killed (never closed), then one that drains.
    for (let run = 0; run < 4; run++) {
      const s = spool(dir);
      for (let i = 0; i < 2; i++) {
        delivered.push(...s.peek()!.map((x) => x.value));
        s.ack();
      }
    }
    delivered.push(...drain(spool(dir)));
    assert.deepEqual(
      delivered,
      points(0, 12).map((x) => x.value),
    );
  });

  it('skips a torn tail and a corrupt record, delivers the rest, says so once', () => {
    const dir = tempDir();
    const a = spool(dir);
    a.append(points(0, 8), 2);
    a.close();
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('c.p2', 'c.pX'); // digest no longer matches
    writeFileSync(path, lines.join('\n'));
    truncateSync(path, readFileSync(path).length - 10); // the last record torn mid-write
    logs.length = 0;
    assert.deepEqual(drain(spool(dir)), [0, 1, 4, 5]);
    assert.equal(logs.filter((l) => l.includes('skipped corrupt or torn records')).length, 1);
  });

  it('a segment of an earlier run holding only a torn record is deleted, not carried in its bytes', () => {
    const dir = tempDir();
    const a = spool(dir);
    a.append(points(0, 4), 4);
    a.close();
    const [torn] = readdirSync(dir);
    truncateSync(join(dir, torn!), readFileSync(join(dir, torn!)).length - 10); // killed mid-write
    logs.length = 0;
    const b = spool(dir);
    assert.equal(b.hasBacklog, false);
    assert.equal(b.waiting, 0);
    b.append(points(10, 13), 2);
    // As the sink runner delivers: fresh records while there is anything, no take once nothing waits.
    const got: number[] = [];
    while (b.hasBacklog) {
      got.push(...b.take('fresh', 10)!.items.map((x) => x.value));
      b.ack();
    }
    assert.deepEqual(got, [10, 11, 12]);
    assert.equal(b.waiting, 0);
    assert.equal(b.dropped, 0);
    assert.equal(b.bytes, 0, 'no byte of the torn segment counted once everything is delivered');
    assert.ok(!readdirSync(dir).includes(torn!), 'the torn segment is deleted');
    const said = logs.filter((l) => l.includes('skipped corrupt or torn records'));
    assert.equal(said.length, 1, 'its loss is logged once');
  });

  it('whole records then a torn tail: the whole ones delivered once, then the segment and its .ack deleted', () => {
    const dir = tempDir();
    const a = spool(dir);
    a.append(points(0, 6), 2);
    a.close();
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    truncateSync(path, readFileSync(path).length - 10); // the third record torn
    // A second segment, all of whose whole records an earlier run acknowledged before it was killed.
    const acked = join(dir, 'seg-000000000002.log');
    writeFileSync(acked, readFileSync(path));
    writeFileSync(`${acked}.ack`, '2');
    const b = spool(dir);
    assert.equal(b.waiting, 4);
    b.append(points(10, 12), 2);
    const got: number[] = [];
    for (let turn: 'oldest' | 'fresh' = 'fresh'; b.hasBacklog; turn = turn === 'fresh' ? 'oldest' : 'fresh') {
      const batch = b.take(turn, 2)!;
      got.push(...batch.items.map((x) => x.value));
      b.ack();
    }
    assert.deepEqual(
      got.sort((x, y) => x - y),
      [0, 1, 2, 3, 10, 11],
    );
    assert.equal(b.waiting, 0);
    assert.equal(b.dropped, 0);
    assert.equal(b.bytes, 0);
    const left = readdirSync(dir).filter((f) => !f.startsWith('seg-000000000003.'));
    assert.deepEqual(left, [], 'only the open segment is left');
  });

  it('a sink runner on a folder holding a torn segment reports no spooled bytes once all is delivered', async () => {
    const dir = tempDir();
    const a = spool(dir);
    a.append(points(0, 4), 4);
    a.close();
    const [torn] = readdirSync(dir);
    truncateSync(join(dir, torn!), readFileSync(join(dir, torn!)).length - 10);
    const { sink, state } = switchableSink();
    state.up = true;
    const r = new SinkRunner(sink, { maxItems: 1000, clock: systemClock, logger, retry: FAST, spool: spool(dir) });
    // Each tick delivered before the next comes, as in steady state: the spool is never asked for its oldest.
    for (let i = 10; i < 40; i += 10) {
      r.enqueue(tickOf(points(i, i + 10)));
      await waitFor(() => r.stats.delivered === i, `tick ${i} delivered`);
    }
    assert.deepEqual(
      { ...r.stats, spoolErrors: 0 },
      {
        produced: 30,
        delivered: 30,
        failures: 0,
        buffered: 0,
        spooled: 0,
        spooledBytes: 0,
        dropped: 0,
        spoolErrors: 0,
      },
    );
    await r.close();
  });

  it('an acknowledgement left without its segment is deleted, and never counts the records of a new one', () => {
    const dir = tempDir();
    // A crash left these: the .ack of a segment since deleted (its number the next one to be made), an
    // .ack being written for it, and a half-written .ack of a segment that is there.
    const a = spool(dir);
    a.append(points(0, 2), 2);
    a.close();
    const [kept] = readdirSync(dir);
    writeFileSync(join(dir, `${kept}.ack.tmp`), '1');
    writeFileSync(join(dir, 'seg-000000000002.log.ack'), '3');
    writeFileSync(join(dir, 'seg-000000000002.log.ack.tmp'), '3');
    const b = spool(dir);
    assert.deepEqual(readdirSync(dir), [kept], 'only the segment is left');
    b.append(points(10, 16), 2);
    b.close();
    // Restarted (as after kill -9): every record is still to be delivered, none taken for acknowledged.
    const c = spool(dir);
    assert.equal(c.waiting, 8);
    assert.deepEqual(drain(c), [0, 1, 10, 11, 12, 13, 14, 15]);
    assert.equal(c.dropped, 0);
  });

  it('keeps within its size bound by dropping the oldest segments, counted and logged', () => {
    const s = spool(tempDir(), 1_200, 300);
    for (let i = 0; i < 100; i += 10) s.append(points(i, i + 10), 10);
    assert.ok(s.bytes <= 1_200, String(s.bytes));
    assert.ok(s.dropped > 0);
    const left = drain(s);
    assert.equal(left.length + s.dropped, 100, 'every item is either delivered or counted as dropped');
    assert.deepEqual(
      left,
      points(100 - left.length, 100).map((x) => x.value),
      'the newest are kept',
    );
    assert.ok(logs.some((l) => l.includes('spool full: dropped its oldest segment')));
  });
});

/** A sink of the test's own that is down while told so and records what it accepted. */
function switchableSink() {
  const state = { up: false, got: [] as number[], sends: 0 };
  const sink: Sink<CarbonPoint> = {
    description: 'test',
    ...pointSinkParts,
    maxBatchItems: 10,
    async send(items) {
      state.sends += 1;
      await new Promise((r) => setTimeout(r, 1));
      if (!state.up) throw new SinkSendError('down', { pace: 'soon', code: 'DOWN' });
      state.got.push(...items.map((i) => i.value));
    },
    async close() {},
  };
  return { sink, state };
}
const FAST = { soonBaseMs: 5, soonCapMs: 20, slowBaseMs: 5, slowCapMs: 20 };

describe('SinkRunner with a spool', () => {
  it('while the sink is down everything goes to disk, and after a crash a new runner delivers it all', async () => {
    const dir = tempDir();
    const first = switchableSink();
    const r1 = new SinkRunner(first.sink, {
      maxItems: 1000,
      clock: systemClock,
      logger,
      retry: FAST,
      spool: spool(dir),
    });
    r1.enqueue(tickOf(points(0, 25)));
    await waitFor(() => first.state.sends >= 2, 'failed sends');
    r1.enqueue(tickOf(points(25, 40)));
    await waitFor(() => r1.stats.spooledBytes > 0 && r1.pending === 0, 'everything on disk');
    // The process dies here: r1 is never closed.
    const second = switchableSink();
    second.state.up = true;
    const r2 = new SinkRunner(second.sink, {
      maxItems: 1000,
      clock: systemClock,
      logger,
      retry: FAST,
      spool: spool(dir),
    });
    await waitFor(() => second.state.got.length >= 40, 'the backlog delivered');
    assert.deepEqual(
      [...new Set(second.state.got)].sort((a, b) => a - b),
      points(0, 40).map((x) => x.value),
    );
    await r2.close();
    await r1.close();
  });

  it('nothing is dropped for the memory bound: every tick goes to the spool first', async () => {
    const { sink, state } = switchableSink();
    state.up = true;
    const r = new SinkRunner(sink, { maxItems: 5, clock: systemClock, logger, retry: FAST, spool: spool(tempDir()) });
    r.enqueue(tickOf(points(0, 50)));
    await waitFor(() => state.got.length === 50, 'all 50 delivered');
    assert.equal(r.stats.dropped, 0);
    await r.close();
  });

  it('fresh batches keep going out while a backlog drains', async () => {
    const dir = tempDir();
    const s = spool(dir);
    s.append(points(0, 200), 10);
    const { sink, state } = switchableSink();
    state.up = true;
    const r = new SinkRunner(sink, {
      maxItems: 1000,
      clock: systemClock,
      logger,
      retry: FAST,
      spool: s,
      backlogGapMs: 5,
    });
    await waitFor(() => state.got.length >= 20, 'the drain started');
    r.enqueue(tickOf([point(1000)]));
    await waitFor(() => state.got.includes(1000), 'the fresh item');
    assert.ok(state.got.indexOf(1000) < 200, 'fresh data did not wait for the whole backlog');
    await waitFor(() => state.got.length === 201, 'everything');
    await r.close();
  });

  it('fresh batches keep going out while a backlog built during an outage of this run drains', async () => {
    const { sink, state } = switchableSink();
    const r = new SinkRunner(sink, {
      maxItems: 1000,
      clock: systemClock,
      logger,
      retry: FAST,
      spool: spool(tempDir()),
      backlogGapMs: 5,
    });
    for (let i = 0; i < 200; i += 10) r.enqueue(tickOf(points(i, i + 10)));
    await waitFor(() => state.sends >= 2, 'failed sends');
    state.up = true;
    await waitFor(() => state.got.length >= 20, 'the drain started');
    r.enqueue(tickOf([point(1000)]));
    await waitFor(() => state.got.includes(1000), 'the fresh item');
    assert.ok(state.got.indexOf(1000) < 200, 'fresh data did not wait for the whole backlog');
    await waitFor(() => new Set(state.got).size === 201, 'everything');
    await r.close();
  });

  it('on shutdown with the sink down, what is left in memory is kept on disk', async () => {
    const dir = tempDir();
    const { sink } = switchableSink();
    const r = new SinkRunner(sink, { maxItems: 1000, clock: systemClock, logger, retry: FAST, spool: spool(dir) });
    r.enqueue(tickOf(points(0, 7)));
    assert.equal(await r.flush(100), 0);
    await r.close();
    assert.deepEqual(
      drain(spool(dir)).sort((a, b) => a - b),
      points(0, 7).map((x) => x.value),
    );
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import type { CarbonPoint } from '../../src/naming/carbon-path.js';
import { Spool, SpoolError } from '../../src/pipeline/spool.js';
import { FaultyFs } from '../helpers/faulty-fs.js';
import { pointSinkParts, points } from '../helpers/ticks.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('dstb-spool-faults-');

const logs: string[] = [];
const logger = createLogger((l) => logs.push(l), { level: 'debug' });
const open = (dir: string, fs?: FaultyFs, maxBytes = 1 << 30, segmentBytes?: number): Spool<CarbonPoint> =>
  new Spool({ dir, maxBytes, segmentBytes, logger, sink: 'test', codec: pointSinkParts.spool!, fs });
const values = (ps: readonly CarbonPoint[]): number[] => ps.map((p) => p.value);

/** Everything a spool holds, oldest first, acknowledging as it goes. */
function drain(s: Spool<CarbonPoint>): number[] {
  const out: number[] = [];
  for (let r = s.peek(); r; r = s.peek()) {
    out.push(...values(r));
    s.ack();
  }
  return out;
}

/** Every line of every segment file on disk: whole (newline-terminated) and matching its checksum. */
function assertNoTornRecord(dir: string): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${file} ends with a torn record`);
    for (const line of text.split('\n').slice(0, -1)) {
      const m = /^([0-9a-f]{12}) (\d+) (.*)$/.exec(line);
      assert.ok(m, `${file}: a line that is not a record: ${line.slice(0, 60)}`);
      assert.equal(createHash('sha1').update(m[3]!).digest('hex').slice(0, 12), m[1], `${file}: a corrupt record`);
    }
  }
}

/** Appends, and says whether the items went in (a SpoolError means they did not, and nothing else). */
function tryAppend(s: Spool<CarbonPoint>, ps: CarbonPoint[], perRecord = 10): boolean {
  try {
    s.append(ps, perRecord);
    return true;
  } catch (err) {
    assert.ok(err instanceof SpoolError, String(err));
    return false;
  }
}

const segmentFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();

describe('Spool under file-system faults', () => {
  it('a short write is completed by writing the rest: the record is whole', () => {
    const dir = tempDir();
    const fs = new FaultyFs().fail('writeSync', { kind: 'short', bytes: 7 });
    const s = open(dir, fs);
    s.append(points(0, 5), 10);
    assert.ok(fs.count('writeSync') >= 2, 'the rest was written by a second call');
    assertNoTornRecord(dir);
    assert.deepEqual(drain(open(dir)), [0, 1, 2, 3, 4], 'read back from disk');
  });

  it('a short write, then a full disk with nothing to evict: no byte of the record left, whole or absent', () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = open(dir, fs);
    fs.fail('writeSync', { kind: 'short', bytes: 20 }).fail('writeSync', { kind: 'error', code: 'ENOSPC' });
    assert.equal(tryAppend(s, points(0, 5)), false);
    assert.equal(s.errors, 1);
    assert.equal(s.waiting, 0);
    assert.equal(s.bytes, 0);
    assertNoTornRecord(dir);
    assert.equal(tryAppend(s, points(5, 8)), true, 'the next record goes in');
    assertNoTornRecord(dir);
    assert.deepEqual(drain(open(dir)), [5, 6, 7]);
  });

  it('on a full disk the oldest segments make room and the write is retried; appended = read back + dropped', () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = open(dir, fs, 1 << 30, 400);
    for (let i = 0; i < 30; i += 5) s.append(points(i, i + 5), 5);
    assert.ok(segmentFiles(dir).length >= 2, 'several segments');
    fs.fail('writeSync', { kind: 'short', bytes: 33 }).fail('writeSync', { kind: 'error', code: 'ENOSPC' });
    s.append(points(30, 35), 5);
    assert.equal(s.errors, 0, 'a full disk that eviction fixed is not an error');
    assert.ok(s.dropped > 0);
    assert.equal(s.waiting + s.dropped, 35);
    assertNoTornRecord(dir);
    const left = drain(open(dir));
    assert.equal(left.length + s.dropped, 35);
    assert.deepEqual(
      left,
      points(35 - left.length, 35).map((p) => p.value),
      'the newest are kept',
    );
    assert.ok(logs.some((l) => l.includes('spool full') && l.includes('why="disk full"')));
  });

  it('a disk that stays full with less spooled than the record needs: the backlog is kept, the write refused', () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = open(dir, fs, 1 << 30, 400);
    s.append(points(0, 2), 2);
    const held = s.bytes;
    // Someone else filled the disk: every write fails, and deleting our few bytes cannot make room for a big record.
    fs.fail('writeSync', { kind: 'error', code: 'ENOSPC' }, Infinity);
    assert.equal(tryAppend(s, points(100, 140)), false);
    assert.equal(s.bytes, held, 'nothing evicted for a write it could not make possible');
    assert.equal(s.dropped, 0);
    assert.equal(s.waiting, 2);
    fs.clear();
    assert.deepEqual(drain(s), [0, 1]);
  });

  it('EIO on fdatasync cuts the record back and says so; the spool goes on', () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = open(dir, fs);
    s.append(points(0, 3), 10);
    fs.fail('fdatasyncSync', { kind: 'error', code: 'EIO' });
    assert.equal(tryAppend(s, points(3, 6)), false);
    assert.equal(s.waiting, 3);
    assertNoTornRecord(dir);
    s.append(points(6, 9), 10);
    assert.deepEqual(drain(open(dir)), [0, 1, 2, 6, 7, 8]);
  });

  it('a failed write that cannot be cut back: its segment is abandoned, its torn tail never read as good', () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = open(dir, fs);
    s.append(points(0, 3), 10);
    fs.fail('writeSync', { kind: 'short', bytes: 25 })
      .fail('writeSync', { kind: 'error', code: 'EIO' })
      .fail('ftruncateSync', { kind: 'error', code: 'EIO' });
    assert.equal(tryAppend(s, points(3, 6)), false);
    s.append(points(6, 9), 10);
    assert.equal(segmentFiles(dir).length, 2, 'the next record went to a new segment');
    assert.equal(s.waiting, 6);
    logs.length = 0;
    assert.deepEqual(drain(s), [0, 1, 2, 6, 7, 8], 'in this run: only whole records');
    assert.equal(s.waiting + s.dropped, 0);
    // After a restart the abandoned file is read as a whole: the torn tail fails its checksum.
    const dir2 = tempDir();
    const fs2 = new FaultyFs();
    const s2 = open(dir2, fs2);
    s2.append(points(0, 3), 10);
    fs2
      .fail('writeSync', { kind: 'short', bytes: 25 })
      .fail('writeSync', { kind: 'error', code: 'EIO' })
      .fail('ftruncateSync', { kind: 'error', code: 'EIO' });
    assert.equal(tryAppend(s2, points(3, 6)), false);
    const restarted = open(dir2);
    assert.equal(restarted.waiting, 3, 'the torn record is not counted');
    assert.deepEqual(drain(restarted), [0, 1, 2]);
    assert.ok(logs.some((l) => l.includes('skipped corrupt or torn records')));
  });

  it('makes room before writing: the files never pass --spool-max-bytes', () => {
    const dir = tempDir();
    const s = open(dir, undefined, 2_000, 500);
    for (let i = 0; i < 200; i += 10) {
      s.append(points(i, i + 10), 5);
      const onDisk = segmentFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      assert.ok(onDisk <= 2_000, `${onDisk} bytes on disk`);
    }
    assert.equal(s.waiting + s.dropped, 200);
    assert.equal(drain(s).length + s.dropped, 200);
  });

  for (const code of ['EROFS', 'EACCES']) {
    it(`${code} when opening a segment: a SpoolError with that code, counted, nothing half-written`, () => {
      const dir = tempDir();
      const fs = new FaultyFs().fail('openSync', { kind: 'error', code });
      const s = open(dir, fs);
      assert.throws(
        () => s.append(points(0, 3), 10),
        (err: unknown) => err instanceof SpoolError && err.code === code,
      );
      assert.equal(s.errors, 1);
      assert.equal(s.waiting, 0);
      s.append(points(3, 4), 10);
      assert.deepEqual(drain(open(dir)), [3]);
    });
  }

  it('an acknowledgement that cannot be written still takes the items out of what waits, and says so', () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const s = open(dir, fs);
    s.append(points(0, 4), 2);
    fs.failAll(['writeFileSync', 'renameSync'], 'EROFS');
    assert.deepEqual(values(s.peek()!), [0, 1]);
    assert.throws(() => s.ack(), SpoolError);
    assert.equal(s.waiting, 2);
    assert.equal(s.errors, 1);
    assert.deepEqual(values(s.peek()!), [2, 3], 'the next record, not the same one again');
  });

  for (const bad of ['-1', 'abc', '99999999999999999999', '3.5', '', '7']) {
    it(`a corrupt acknowledgement (${JSON.stringify(bad)}) means "from the segment's start", one warning`, () => {
      const dir = tempDir();
      const a = open(dir);
      a.append(points(0, 6), 2);
      a.close();
      writeFileSync(join(dir, `${segmentFiles(dir)[0]!}.ack`), bad);
      logs.length = 0;
      const b = open(dir);
      assert.equal(b.waiting, 6);
      assert.deepEqual(drain(b), [0, 1, 2, 3, 4, 5]);
      assert.equal(logs.filter((l) => l.includes('invalid spool acknowledgement')).length, 1, logs.join(''));
    });
  }

  it('a valid acknowledgement is kept: the recount at start leaves out what was delivered', () => {
    const dir = tempDir();
    const a = open(dir);
    a.append(points(0, 6), 2);
    a.peek();
    a.ack();
    const b = open(dir);
    assert.equal(b.waiting, 4);
    assert.deepEqual(drain(b), [2, 3, 4, 5]);
  });

  it('a checksummed record whose count no array of its length could hold is no record: nothing huge is counted', () => {
    const dir = tempDir();
    const a = open(dir);
    a.append(points(0, 2), 10);
    a.close();
    const json = '[["c.p9",9,1700000009]]';
    const forged = `${createHash('sha1').update(json).digest('hex').slice(0, 12)} 99999999999999999999 ${json}\n`;
    writeFileSync(join(dir, 'seg-000000000002.log'), forged);
    logs.length = 0;
    const b = open(dir);
    assert.equal(b.waiting, 2, 'only the good segment counts');
    assert.deepEqual(drain(b), [0, 1]);
    assert.ok(Number.isFinite(b.dropped) && b.dropped <= 1, `dropped ${b.dropped}`);
  });

  it('ignores segment names that are not regular files', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'seg-000000000001.log'));
    logs.length = 0;
    const s = open(dir);
    assert.equal(s.waiting, 0);
    assert.ok(logs.some((l) => l.includes('not a regular file')));
    s.append(points(0, 2), 10);
    assert.deepEqual(drain(s), [0, 1]);
  });

  it('the folder deleted while running: noticed at the next append, made again, the loss counted in one line', () => {
    const dir = join(tempDir(), 'sink');
    const fs = new FaultyFs();
    const s = open(dir, fs);
    s.append(points(0, 5), 2);
    fs.removeDir(dir);
    logs.length = 0;
    s.append(points(5, 8), 2);
    assert.equal(s.dropped, 5);
    assert.equal(s.waiting, 3);
    assert.equal(logs.filter((l) => l.includes('deleted while running')).length, 1);
    assert.ok(logs.some((l) => l.includes('items=5')));
    assertNoTornRecord(dir);
    assert.deepEqual(drain(open(dir)), [5, 6, 7]);
  });

  it('the folder emptied while running (a closed segment and the open one): the same', () => {
    const dir = tempDir();
    const s = open(dir, undefined, 1 << 30, 100);
    for (let i = 0; i < 12; i += 3) s.append(points(i, i + 3), 3);
    assert.ok(segmentFiles(dir).length >= 2);
    for (const f of readdirSync(dir)) unlinkSync(join(dir, f));
    s.append(points(12, 14), 3);
    assert.equal(s.dropped, 12);
    assert.equal(s.waiting, 2);
    assert.deepEqual(drain(s), [12, 13]);
    assert.equal(s.waiting + s.dropped, 12);
  });

  it('the folder deleted while a batch is out: it counts as delivered when acknowledged, the rest dropped', () => {
    const dir = join(tempDir(), 'sink');
    const fs = new FaultyFs();
    const s = open(dir, fs);
    s.append(points(0, 6), 2);
    const batch = s.take('oldest', 2)!;
    assert.deepEqual(values(batch.items), [0, 1]);
    fs.removeDir(dir);
    s.append(points(6, 7), 2);
    assert.equal(s.dropped, 4);
    assert.equal(s.waiting, 3, 'the batch out and the new item');
    s.ack();
    assert.equal(s.waiting, 1);
    assert.deepEqual(drain(s), [6]);
  });
});

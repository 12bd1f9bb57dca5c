import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { SpoolCodec } from '../sinks/sink.js';
import { nodeSpoolFs, type SpoolFs } from './spool-fs.js';

export interface SpoolOptions<T> {
  /** This sink's own folder. Created when missing. */
  readonly dir: string;
  /** Beyond this many bytes on disk the oldest segments are deleted (counted and logged). */
  readonly maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  readonly segmentBytes?: number;
  readonly logger: Logger;
  /** For log lines. */
  readonly sink: string;
  /** How the sink's items are written and read back. */
  readonly codec: SpoolCodec<T>;
  /** The file system; node:fs unless a test hands one that fails on demand. */
  readonly fs?: SpoolFs;
}

/** A spool operation failed in a way eviction could not fix: the owner runs from memory for a while. */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
  /** The file system's code (EROFS, EIO, ENOENT, EACCES, ENOSPC, …), or ESHORTWRITE. */
  readonly code: string;

  constructor(op: string, dir: string, cause: unknown) {
    super(`cannot ${op} the spool in ${dir}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.code = errorCode(cause) ?? 'EUNKNOWN';
  }
}

/** What `take` hands out: consecutive records of one segment, to be acknowledged or released. */
export interface SpoolBatch<T> {
  readonly items: readonly T[];
  /** From the segment being written now (this run's newest records) rather than an older backlog. */
  readonly fresh: boolean;
}

/** One record: the items of at most one send, as it was appended. */
interface Rec<T> {
  readonly items: readonly T[];
}

interface Segment<T> {
  readonly seq: number;
  readonly path: string;
  /** Bytes of whole records; for a segment written in this run the reader never looks past them. */
  bytes: number;
  /** Whether `bytes` was measured by this run's writes (else it is the file's size at start). */
  readonly ours: boolean;
  /** Undelivered items in it. */
  items: number;
  /** Records delivered, counted from the segment's start (what its .ack file says). */
  acked: number;
  /** Its undelivered records, when in memory: always for the segment being written, else once read. */
  pending: Rec<T>[] | undefined;
}

interface InFlight<T> {
  readonly segment: Segment<T>;
  readonly records: number;
  readonly items: number;
  /** Its segment was evicted or lost while it was out: its items are counted apart until acked or released. */
  detached: boolean;
}

const SEGMENT = /^seg-(\d{12})\.log$/;
/** A segment's acknowledgement, or one being written (renamed into place once whole). */
const ACK = /^seg-(\d{12})\.log\.ack(?:\.tmp)?$/;
const name = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.log`;
const digest = (text: string): string => createHash('sha1').update(text).digest('hex').slice(0, 12);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const isFull = (err: unknown): boolean => errorCode(err) === 'ENOSPC' || errorCode(err) === 'EDQUOT';
const LINE = /^([0-9a-f]{12}) (\d+) (.*)$/s;

/**
 * A sink's disk spool: append-only segment files of records, one record per line:
 * `<digest> <count> <JSON array of the items, as the sink's codec writes them>` (for the carbon
 * sinks `[[path,value,time],…]`).
 *
 * Writing: `append` writes whole records and fdatasyncs them before it returns; a record is whole
 * on disk or absent (a short or failed write is truncated back to the offset before it, and a
 * segment that cannot be truncated is abandoned, never appended to again, and read only up to its
 * last whole record). Room is made before writing (past `maxBytes`) and on a full disk by deleting
 * the oldest segments, their undelivered items counted in `dropped`. The segment being written
 * keeps its undelivered records in memory, so delivering fresh records never reads the disk.
 *
 * Reading: `take` hands out consecutive records of one segment, either the oldest undelivered
 * ones or the open segment's (fresh data need not wait behind a long backlog); `ack` marks them
 * delivered in `<segment>.ack` (the number of the segment's records delivered so far, counted from
 * its start), so that after any restart, even after kill -9, delivery resumes where it stopped; at
 * worst the records in flight are sent twice, which Graphite does not mind. A fully delivered open
 * segment is truncated to empty and reused; a closed one is deleted. Everything read from disk is
 * validated: a torn or corrupt record is skipped (its items counted as dropped) with one log line
 * per segment, an .ack that is not a whole number of records means "from the start" with a
 * warning, and files that are not regular segment files are ignored. A segment found at start with
 * nothing left to deliver is deleted then: no take would ever reach it, its bytes would stay counted.
 *
 * Accounting: `waiting` is the number of undelivered items it holds (recounted from disk at start);
 * every item appended is later acknowledged, or counted in `dropped`, or still waiting.
 * Spool files deleted under a running daemon are noticed at the next append: the folder is made
 * again and what the lost files held is counted as dropped.
 *
 * All file operations are synchronous and small (a record is at most one send's worth of items);
 * the owner (one sink runner) calls it from one place at a time. Failures that eviction cannot fix
 * throw a SpoolError (and count in `errors`), leaving the spool consistent.
 */
export class Spool<T> {
  readonly #o: SpoolOptions<T>;
  readonly #fs: SpoolFs;
  readonly #segmentBytes: number;
  #segments: Segment<T>[] = [];
  #writer: { fd: number; segment: Segment<T> } | undefined;
  #inFlight: InFlight<T> | undefined;
  #detached = 0;
  #dropped = 0;
  #errors = 0;
  /** The highest segment number seen in the folder, whatever became of it: a new segment never reuses a name. */
  #lastSeq = 0;

  constructor(opts: SpoolOptions<T>) {
    this.#o = opts;
    this.#fs = opts.fs ?? nodeSpoolFs;
    this.#segmentBytes = opts.segmentBytes ?? 8 << 20;
    this.#fs.mkdirSync(opts.dir, { recursive: true });
    const files = this.#fs.readdirSync(opts.dir).sort();
    for (const file of files) {
      const segmentFile = SEGMENT.exec(file);
      // An acknowledgement's number counts too: a new segment under its name would be read as acknowledged.
      const seq = Number((segmentFile ?? ACK.exec(file))?.[1] ?? 0);
      this.#lastSeq = Math.max(this.#lastSeq, seq);
      if (!segmentFile) continue;
      const segment = this.#scan(seq, join(opts.dir, file));
      if (segment) this.#segments.push(segment);
    }
    this.#removeOrphans(files);
    if (this.#segments.length > 0) {
      opts.logger.info('spool holds undelivered metrics from an earlier run; they will be sent oldest first', {
        sink: opts.sink,
        segments: this.#segments.length,
        items: this.waiting,
        bytes: this.bytes,
      });
    }
  }

  /** Bytes on disk (whole records). */
  get bytes(): number {
    return this.#segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Undelivered items it holds, including those handed out by `take` and not yet acknowledged. */
  get waiting(): number {
    return this.#segments.reduce((sum, s) => sum + s.items, 0) + this.#detached;
  }

  /** Items lost to the size bound, a full disk, corrupt records or deleted files since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** File operations that failed since start (a full disk that eviction fixed is not one). */
  get errors(): number {
    return this.#errors;
  }

  /** Is anything waiting to be delivered? */
  get hasBacklog(): boolean {
    return this.#segments.some((s) => s.items > 0);
  }

  /**
   * Appends items as records of at most `perRecord` items each, durably (written and fdatasync'd)
   * before it returns. Throws a SpoolError when they could not be written: then none of them is on
   * disk, and the caller still holds them.
   */
  append(items: readonly T[], perRecord: number): void {
    if (items.length === 0) return;
    const records: Rec<T>[] = [];
    const lines: string[] = [];
    let bytes = 0;
    for (let i = 0; i < items.length; i += perRecord) {
      const chunk = items.slice(i, i + perRecord);
      const json = JSON.stringify(chunk.map((item) => this.#o.codec.encode(item)));
      const line = `${digest(json)} ${chunk.length} ${json}\n`;
      lines.push(line);
      bytes += Buffer.byteLength(line);
      records.push({ items: chunk });
    }
    this.#noticeLoss();
    while (this.bytes + bytes > this.#o.maxBytes && this.#evictOldest('spool size limit')) {
      /* making room */
    }
    for (let reopened = false; ; ) {
      let w: { fd: number; segment: Segment<T> };
      try {
        w = this.#openWriter();
      } catch (err) {
        if (errorCode(err) === 'ENOENT' && !reopened) {
          reopened = true;
          this.#noticeLoss(true);
          continue;
        }
        this.#errors += 1;
        throw new SpoolError('open a segment in', this.#o.dir, err);
      }
      const before = w.segment.bytes;
      try {
        for (const line of lines) this.#writeAll(w.fd, line);
        this.#fs.fdatasyncSync(w.fd);
      } catch (err) {
        this.#undo(w, before);
        // Only while what it holds could make room: else the backlog would go for nothing.
        if (isFull(err) && this.bytes >= bytes && this.#evictOldest('disk full')) continue;
        this.#errors += 1;
        throw new SpoolError('write to', this.#o.dir, err);
      }
      w.segment.bytes += bytes;
      w.segment.items += items.length;
      w.segment.pending!.push(...records);
      if (w.segment.bytes >= this.#segmentBytes) this.#closeWriter();
      return;
    }
  }

  /** The oldest undelivered record's items, or undefined when the spool is empty; acknowledge with ack(). */
  peek(): readonly T[] | undefined {
    return this.take('oldest', 0)?.items;
  }

  /**
   * Hands out the next undelivered records of one segment, as many whole records as fit in
   * `maxItems` (at least one): from the oldest segment, or with 'fresh' from the segment being
   * written when it has any (else the oldest). The previous batch not acknowledged is released.
   */
  take(from: 'oldest' | 'fresh', maxItems: number): SpoolBatch<T> | undefined {
    this.release();
    for (;;) {
      const segment = this.#pick(from);
      if (!segment) return undefined;
      if (!segment.pending) this.#load(segment);
      const pending = segment.pending;
      if (!pending) continue;
      if (pending.length === 0) {
        this.#forget(segment); // counted items with no records behind them: never expected, never looped on
        continue;
      }
      let records = 1;
      let count = pending[0]!.items.length;
      while (records < pending.length && count + pending[records]!.items.length <= maxItems) {
        count += pending[records]!.items.length;
        records += 1;
      }
      const items = records === 1 ? pending[0]!.items : pending.slice(0, records).flatMap((r) => r.items);
      this.#inFlight = { segment, records, items: count, detached: false };
      return { items, fresh: segment === this.#writer?.segment };
    }
  }

  /**
   * The batch last handed out was delivered. Its items leave `waiting` whatever happens next;
   * throws a SpoolError when recording that on disk failed (it may then be sent again after a restart).
   */
  ack(): void {
    const f = this.#inFlight;
    if (!f) return;
    this.#inFlight = undefined;
    if (f.detached) {
      this.#detached -= f.items;
      return;
    }
    const s = f.segment;
    s.pending?.splice(0, f.records);
    s.acked += f.records;
    s.items -= f.items;
    try {
      if (s.items > 0) this.#writeAck(s);
      else if (s === this.#writer?.segment) this.#reuseWriter();
      else this.#remove(s, true);
    } catch (err) {
      this.#errors += 1;
      throw new SpoolError('record a delivery in', this.#o.dir, err);
    }
  }

  /** The batch last handed out was not delivered: it stays first in line (or, if its files are gone, dropped). */
  release(): void {
    const f = this.#inFlight;
    this.#inFlight = undefined;
    if (f?.detached) {
      this.#detached -= f.items;
      this.#dropped += f.items;
    }
  }

  /** What waits in the open segment becomes backlog: the next append starts a new segment (fresh again). */
  seal(): void {
    if (this.#writer && this.#writer.segment.items > 0) this.#closeWriter();
  }

  close(): void {
    this.#closeWriter();
  }

  /**
   * Counts a segment found at start: its whole, checksummed records after its acknowledgement. One with
   * none (all delivered, or only torn or corrupt records) is deleted now, as nothing would ever take from it.
   */
  #scan(seq: number, path: string): Segment<T> | undefined {
    let raw: Buffer;
    try {
      if (!this.#fs.lstatSync(path).isFile()) {
        this.#o.logger.warn('ignoring a spool entry that is not a regular file', { sink: this.#o.sink, path });
        return undefined;
      }
      raw = this.#fs.readFileSync(path);
    } catch (err) {
      this.#errors += 1;
      this.#o.logger.error('cannot read a spool segment; ignoring it', {
        sink: this.#o.sink,
        segment: path,
        error: messageOf(err),
      });
      return undefined;
    }
    const counts: number[] = [];
    const lines = raw.toString('utf8').split('\n');
    const torn = lines.pop() !== '';
    for (const line of lines) {
      const m = LINE.exec(line);
      // The digest covers the items, not the count: a count no JSON array of that length could hold is no record.
      if (m && m[2]!.length <= 9 && Number(m[2]) <= m[3]!.length / 2 && digest(m[3]!) === m[1])
        counts.push(Number(m[2]));
    }
    const acked = this.#readAck(path, counts.length);
    const items = counts.slice(acked).reduce((n, c) => n + c, 0);
    const segment: Segment<T> = { seq, path, bytes: raw.length, ours: false, items, acked, pending: undefined };
    if (items > 0) return segment;
    const skipped = lines.length - counts.length + (torn ? 1 : 0);
    if (skipped > 0) {
      const msg = 'skipped corrupt or torn records in a spool segment with nothing else to deliver; deleted it';
      this.#o.logger.warn(msg, {
        sink: this.#o.sink,
        segment: path,
        records: skipped,
      });
    }
    this.#remove(segment, true);
    return undefined;
  }

  /**
   * Deletes the acknowledgements whose segment is not there: left by a crash while one was being
   * written, or by a segment deleted by hand or by a failed removal. Each would otherwise stay for
   * good, and none may ever count records of another segment (the constructor numbers new ones past them).
   */
  #removeOrphans(files: readonly string[]): void {
    const segments = new Set(this.#segments.map((s) => s.path));
    for (const file of files) {
      const m = ACK.exec(file);
      if (!m) continue;
      const path = join(this.#o.dir, file);
      if (!file.endsWith('.tmp') && segments.has(join(this.#o.dir, name(Number(m[1]))))) continue;
      try {
        this.#fs.unlinkSync(path);
      } catch {
        /* already gone, or it cannot be deleted: no segment will ever be named after it */
      }
    }
  }

  /** The .ack of a segment of `records` good records: a whole number in [0, records], else 0 with a warning. */
  #readAck(segmentPath: string, records: number): number {
    let text: string;
    try {
      text = this.#fs.readFileSync(`${segmentPath}.ack`).toString('utf8');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        this.#o.logger.warn('cannot read a spool acknowledgement; delivering the segment from its start', {
          sink: this.#o.sink,
          segment: segmentPath,
          error: messageOf(err),
        });
      }
      return 0;
    }
    const value = text.trim();
    if (/^\d{1,15}$/.test(value) && Number(value) <= records) return Number(value);
    this.#o.logger.warn('invalid spool acknowledgement; delivering the segment from its start', {
      sink: this.#o.sink,
      segment: segmentPath,
      value: JSON.stringify(value.slice(0, 40)),
      records,
    });
    return 0;
  }

  /** Reads a segment's undelivered records; what no longer checks out is counted as dropped. */
  #load(segment: Segment<T>): void {
    let text: string;
    try {
      const raw = this.#fs.readFileSync(segment.path);
      text = (segment.ours ? raw.subarray(0, segment.bytes) : raw).toString('utf8');
    } catch (err) {
      this.#errors += 1;
      this.#o.logger.error('cannot read a spool segment; its metrics are lost', {
        sink: this.#o.sink,
        segment: segment.path,
        items: segment.items,
        error: messageOf(err),
      });
      this.#forget(segment);
      return;
    }
    const records: Rec<T>[] = [];
    let corrupt = 0;
    const lines = text.split('\n');
    const torn = lines.pop() !== '';
    for (const line of lines) {
      const record = parseRecord(line, this.#o.codec);
      if (record) records.push(record);
      else corrupt += 1;
    }
    const pending = records.slice(Math.min(segment.acked, records.length));
    const items = pending.reduce((n, r) => n + r.items.length, 0);
    if (corrupt > 0 || torn) {
      this.#o.logger.warn('skipped corrupt or torn records in a spool segment; delivering the rest', {
        sink: this.#o.sink,
        segment: segment.path,
        corrupt: corrupt + (torn ? 1 : 0),
        good: records.length,
      });
    }
    // Never more than was counted (the file changed under us); what no longer checks out is lost.
    const kept = items <= segment.items ? pending : trimTo(pending, segment.items);
    const keptItems = kept.reduce((n, r) => n + r.items.length, 0);
    this.#dropped += segment.items - keptItems;
    segment.items = keptItems;
    segment.pending = kept;
    // Only the oldest closed segment is kept in memory besides the open one.
    for (const s of this.#segments) {
      if (s !== segment && s !== this.#writer?.segment && s !== this.#inFlight?.segment) s.pending = undefined;
    }
  }

  /** The segment to read next: the open one for 'fresh' when it has records, else the oldest that has. */
  #pick(from: 'oldest' | 'fresh'): Segment<T> | undefined {
    const open = this.#writer?.segment;
    if (from === 'fresh' && open && open.items > 0) return open;
    for (const s of [...this.#segments]) {
      if (s.items > 0) return s;
      if (s !== open) this.#remove(s, true);
    }
    return undefined;
  }

  #openWriter(): { fd: number; segment: Segment<T> } {
    if (this.#writer) return this.#writer;
    const seq = ++this.#lastSeq;
    const path = join(this.#o.dir, name(seq));
    const fd = this.#fs.openSync(path, 'a');
    const segment: Segment<T> = { seq, path, bytes: 0, ours: true, items: 0, acked: 0, pending: [] };
    this.#segments.push(segment);
    this.#writer = { fd, segment };
    return this.#writer;
  }

  #closeWriter(): void {
    const w = this.#writer;
    if (!w) return;
    this.#writer = undefined;
    try {
      this.#fs.closeSync(w.fd);
    } catch {
      /* the data was synced; a failing close changes nothing we rely on */
    }
    if (w.segment !== this.#inFlight?.segment) w.segment.pending = undefined;
  }

  /**
   * Writes all of a line, looping over short writes (the rest as bytes, which a string cannot be cut
   * into); a write that makes no progress is an error. Strings go to the kernel without a Buffer of
   * ours in between: one fewer copy of each tick, and no external memory for the collector to chase.
   */
  #writeAll(fd: number, line: string): void {
    const length = Buffer.byteLength(line);
    let n = this.#fs.writeStringSync(fd, line);
    let buf: Buffer | undefined;
    for (let off = 0; ; ) {
      if (!(n > 0)) throw Object.assign(new Error('short write: no progress'), { code: 'ESHORTWRITE' });
      off += n;
      if (off >= length) return;
      buf ??= Buffer.from(line);
      n = this.#fs.writeSync(fd, buf, off, length - off);
    }
  }

  /** Cuts a failed write back to the last whole record; if even that fails, the segment is never written again. */
  #undo(w: { fd: number; segment: Segment<T> }, before: number): void {
    try {
      this.#fs.ftruncateSync(w.fd, before);
    } catch (err) {
      this.#errors += 1;
      this.#o.logger.warn('cannot cut a failed spool write back; starting a new segment, its torn tail never read', {
        sink: this.#o.sink,
        segment: w.segment.path,
        error: messageOf(err),
      });
      this.#closeWriter();
    }
  }

  /** The open segment is fully delivered: it is emptied and written again, its .ack removed first. */
  #reuseWriter(): void {
    const w = this.#writer!;
    try {
      this.#unlinkIfThere(`${w.segment.path}.ack`);
      this.#fs.ftruncateSync(w.fd, 0);
      w.segment.bytes = 0;
      w.segment.acked = 0;
    } catch (err) {
      // A stale .ack must never count records written later: give the segment up instead.
      this.#closeWriter();
      this.#remove(w.segment, true);
      throw err;
    }
  }

  #writeAck(s: Segment<T>): void {
    const path = `${s.path}.ack`;
    this.#fs.writeFileSync(`${path}.tmp`, String(s.acked));
    this.#fs.renameSync(`${path}.tmp`, path);
  }

  #unlinkIfThere(path: string): void {
    try {
      this.#fs.unlinkSync(path);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }

  /**
   * Spool files deleted under us (the open file unlinked, or the folder gone): the folder is made
   * again and what the lost segments held is counted as dropped, in one log line.
   */
  #noticeLoss(folderGone = false): void {
    let writerGone = false;
    if (this.#writer) {
      try {
        writerGone = this.#fs.fstatSync(this.#writer.fd).nlink === 0;
      } catch {
        writerGone = true;
      }
    } else if (!folderGone && this.#segments.length > 0) {
      try {
        this.#fs.lstatSync(this.#segments.at(-1)!.path);
      } catch {
        folderGone = true;
      }
    }
    if (!writerGone && !folderGone) return;
    const lost = this.#segments.filter((s) => {
      if (s === this.#writer?.segment) return writerGone;
      try {
        this.#fs.lstatSync(s.path);
        return false;
      } catch {
        return true;
      }
    });
    const before = this.#dropped;
    for (const s of lost) this.#forget(s);
    try {
      this.#fs.mkdirSync(this.#o.dir, { recursive: true });
    } catch (err) {
      this.#errors += 1;
      throw new SpoolError('make again the folder of', this.#o.dir, err);
    }
    if (lost.length === 0) return;
    this.#o.logger.error('spool files were deleted while running; made the folder again, their metrics are lost', {
      sink: this.#o.sink,
      dir: this.#o.dir,
      segments: lost.length,
      items: this.#dropped - before,
    });
  }

  /** Deletes the oldest segment that holds anything; false when none does. */
  #evictOldest(why: string): boolean {
    const open = this.#writer?.segment;
    const victim = this.#segments.find((s) => s !== open && s.bytes > 0) ?? (open && open.bytes > 0 ? open : undefined);
    if (!victim) return false;
    const before = this.#dropped;
    this.#remove(victim, false);
    this.#o.logger.warn('spool full: dropped its oldest segment', {
      sink: this.#o.sink,
      why,
      items: this.#dropped - before,
      droppedTotal: this.#dropped,
    });
    return true;
  }

  /** Forgets a segment (its undelivered items dropped) and deletes its files, as far as it can. */
  #remove(segment: Segment<T>, delivered: boolean): void {
    if (!delivered) this.#forget(segment);
    else this.#segments = this.#segments.filter((s) => s !== segment);
    if (this.#writer?.segment === segment) this.#closeWriter();
    for (const path of [`${segment.path}.ack`, segment.path]) {
      try {
        this.#fs.unlinkSync(path);
      } catch {
        /* already gone, or it cannot be deleted: it is no longer ours either way */
      }
    }
  }

  /** A segment leaves the spool: its undelivered items are dropped, except a batch out for delivery. */
  #forget(segment: Segment<T>): void {
    this.#segments = this.#segments.filter((s) => s !== segment);
    if (this.#writer?.segment === segment) this.#closeWriter();
    let items = segment.items;
    const f = this.#inFlight;
    if (f && f.segment === segment && !f.detached) {
      f.detached = true;
      this.#detached += f.items;
      items -= f.items;
    }
    segment.items = 0;
    segment.pending = undefined;
    this.#dropped += items;
  }
}

/** The first records of `pending` holding at most `items` items. */
function trimTo<T>(pending: Rec<T>[], items: number): Rec<T>[] {
  const out: Rec<T>[] = [];
  let n = 0;
  for (const r of pending) {
    if (n + r.items.length > items) break;
    out.push(r);
    n += r.items.length;
  }
  return out;
}

function parseRecord<T>(line: string, codec: SpoolCodec<T>): Rec<T> | undefined {
  const m = LINE.exec(line);
  if (!m || digest(m[3]!) !== m[1]) return undefined;
  try {
    const rows = JSON.parse(m[3]!) as unknown;
    if (!Array.isArray(rows) || rows.length !== Number(m[2])) return undefined;
    const items: T[] = [];
    for (const row of rows) {
      const item = codec.decode(row);
      if (item === undefined) return undefined;
      items.push(item);
    }
    return { items };
  } catch {
    return undefined;
  }
}

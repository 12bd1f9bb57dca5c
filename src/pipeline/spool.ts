import { createHash } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { SpoolCodec } from '../sinks/sink.js';

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
}

/** One record: the items of one send, as it was appended. */
interface Record_<T> {
  readonly items: T[];
}

interface Segment {
  readonly seq: number;
  readonly path: string;
  bytes: number;
}

const SEGMENT = /^seg-(\d{12})\.log$/;
const name = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.log`;
const digest = (text: string): string => createHash('sha1').update(text).digest('hex').slice(0, 12);

/**
 * A sink's disk spool: append-only segment files of records, one record per line:
 * `<digest> <count> <JSON array of the items, as the sink's codec writes them>` (for the carbon
 * sinks `[[path,value,time],…]`). The reader takes records oldest first and only from closed
 * segments (reaching the segment being written closes it), acknowledging each delivered record in
 * `<segment>.ack`: the number of the segment's records delivered so far, counted from the
 * segment's start, so that after any number of restarts (even after kill -9) delivery resumes
 * where it stopped; at worst the record in flight is sent twice, which Graphite does not mind. A torn or
 * corrupt record (power loss mid-write) is skipped with one log line per segment. Total size is
 * bounded by `maxBytes`: the oldest segments go first, their items counted as dropped.
 *
 * All file operations are synchronous and small (a record is at most one send's worth of items);
 * the owner (one sink runner) calls it from one place at a time.
 */
export class Spool<T> {
  readonly #o: SpoolOptions<T>;
  readonly #segmentBytes: number;
  #segments: Segment[] = [];
  #writer: { fd: number; segment: Segment } | undefined;
  /** The head segment's records (all of them) and the index of the first undelivered one. */
  #head: { segment: Segment; records: Record_<T>[]; next: number } | undefined;
  #dropped = 0;

  constructor(opts: SpoolOptions<T>) {
    this.#o = opts;
    this.#segmentBytes = opts.segmentBytes ?? 8 << 20;
    mkdirSync(opts.dir, { recursive: true });
    for (const file of readdirSync(opts.dir).sort()) {
      const m = SEGMENT.exec(file);
      if (!m) continue;
      const path = join(opts.dir, file);
      this.#segments.push({ seq: Number(m[1]), path, bytes: statSync(path).size });
    }
    if (this.#segments.length > 0) {
      opts.logger.info('spool holds undelivered metrics from an earlier run; they will be sent oldest first', {
        sink: opts.sink,
        segments: this.#segments.length,
        bytes: this.bytes,
      });
    }
  }

  /** Bytes on disk. */
  get bytes(): number {
    return this.#segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Items lost to the size bound or to a full disk since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Is anything waiting to be delivered? */
  get hasBacklog(): boolean {
    return (this.#head !== undefined && this.#head.next < this.#head.records.length) || this.#segments.some((s) => s.bytes > 0);
  }

  /**
   * Appends items as records of at most `perRecord` items each, durably (written and fdatasync'd).
   * On a full disk the oldest segments are given up to make room. Returns false when the items
   * could not be written at all (the caller counts them as dropped).
   */
  append(items: readonly T[], perRecord: number): boolean {
    if (items.length === 0) return true;
    let text = '';
    for (let i = 0; i < items.length; i += perRecord) {
      const chunk = items.slice(i, i + perRecord);
      const json = JSON.stringify(chunk.map((item) => this.#o.codec.encode(item)));
      text += `${digest(json)} ${chunk.length} ${json}\n`;
    }
    const bytes = Buffer.byteLength(text);
    for (;;) {
      try {
        const w = this.#openWriter();
        writeSync(w.fd, text);
        fdatasyncSync(w.fd);
        w.segment.bytes += bytes;
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code === 'ENOSPC' || code === 'EDQUOT') && this.#evictOldest('disk full')) continue;
        this.#o.logger.error('cannot write to the spool; these metrics are lost', {
          sink: this.#o.sink,
          dir: this.#o.dir,
          items: items.length,
          error: (err as Error).message,
        });
        this.#dropped += items.length;
        return false;
      }
    }
    if (this.#writer && this.#writer.segment.bytes >= this.#segmentBytes) this.#closeWriter();
    while (this.bytes > this.#o.maxBytes && this.#evictOldest('spool size limit')) {
      /* evicting */
    }
    return true;
  }

  /** The oldest undelivered record, or undefined when the spool is empty. Does not remove it. */
  peek(): readonly T[] | undefined {
    for (;;) {
      if (this.#head && this.#head.next < this.#head.records.length) return this.#head.records[this.#head.next]!.items;
      if (this.#head) {
        this.#remove(this.#head.segment);
        this.#head = undefined;
      }
      const oldest = this.#segments[0];
      if (!oldest) return undefined;
      if (this.#writer?.segment === oldest) {
        if (oldest.bytes === 0) return undefined;
        this.#closeWriter();
      }
      this.#head = this.#load(oldest);
    }
  }

  /** The record last returned by peek() was delivered. */
  ack(): void {
    const head = this.#head;
    if (!head || head.next >= head.records.length) return;
    head.next += 1;
    const ackPath = `${head.segment.path}.ack`;
    if (head.next >= head.records.length) {
      this.#remove(head.segment);
      this.#head = undefined;
      return;
    }
    writeFileSync(`${ackPath}.tmp`, String(head.next));
    renameSync(`${ackPath}.tmp`, ackPath);
  }

  close(): void {
    this.#closeWriter();
  }

  #openWriter(): { fd: number; segment: Segment } {
    if (this.#writer) return this.#writer;
    const seq = (this.#segments.at(-1)?.seq ?? 0) + 1;
    const segment: Segment = { seq, path: join(this.#o.dir, name(seq)), bytes: 0 };
    const fd = openSync(segment.path, 'a');
    this.#segments.push(segment);
    this.#writer = { fd, segment };
    return this.#writer;
  }

  #closeWriter(): void {
    if (!this.#writer) return;
    closeSync(this.#writer.fd);
    this.#writer = undefined;
  }

  /**
   * Reads a closed segment: every good record (a corrupt one is skipped), starting at the first
   * one its .ack does not count as delivered.
   */
  #load(segment: Segment): { segment: Segment; records: Record_<T>[]; next: number } {
    let text = '';
    try {
      text = readFileSync(segment.path, 'utf8');
    } catch (err) {
      this.#o.logger.error('cannot read a spool segment; skipping it', { sink: this.#o.sink, segment: segment.path, error: (err as Error).message });
    }
    let acked = 0;
    try {
      acked = Number.parseInt(readFileSync(`${segment.path}.ack`, 'utf8'), 10) || 0;
    } catch {
      /* no ack file: nothing delivered yet */
    }
    const records: Record_<T>[] = [];
    let corrupt = 0;
    const lines = text.split('\n');
    const torn = lines.pop() !== '';
    for (const line of lines) {
      const record = parseRecord(line, this.#o.codec);
      if (record) records.push(record);
      else corrupt += 1;
    }
    if (corrupt > 0 || torn) {
      this.#o.logger.warn('skipped corrupt or torn records in a spool segment; delivering the rest', {
        sink: this.#o.sink,
        segment: segment.path,
        corrupt: corrupt + (torn ? 1 : 0),
        good: records.length,
      });
    }
    return { segment, records, next: Math.min(acked, records.length) };
  }

  #evictOldest(why: string): boolean {
    const victim = this.#segments.find((s) => s !== this.#writer?.segment) ?? (this.#segments.length > 0 ? this.#segments[0] : undefined);
    if (!victim) return false;
    let items: number;
    if (this.#head?.segment === victim) {
      items = this.#head.records.slice(this.#head.next).reduce((n, r) => n + r.items.length, 0);
      this.#head = undefined;
    } else {
      const loaded = this.#load(victim);
      items = loaded.records.slice(loaded.next).reduce((n, r) => n + r.items.length, 0);
    }
    if (this.#writer?.segment === victim) this.#closeWriter();
    this.#remove(victim);
    this.#dropped += items;
    this.#o.logger.warn('spool full: dropped its oldest segment', { sink: this.#o.sink, why, items, droppedTotal: this.#dropped });
    return true;
  }

  #remove(segment: Segment): void {
    this.#segments = this.#segments.filter((s) => s !== segment);
    for (const path of [segment.path, `${segment.path}.ack`]) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  }
}

function parseRecord<T>(line: string, codec: SpoolCodec<T>): Record_<T> | undefined {
  const m = /^([0-9a-f]{12}) (\d+) (.*)$/s.exec(line);
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

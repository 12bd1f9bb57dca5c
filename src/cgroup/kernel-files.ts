import type { NetworkCounters } from '../model/network-counters.js';
import type { MemoryEvents } from '../model/kernel-counters.js';
import type { BlkioEntry, InterfaceValues } from '../model/sample-values.js';

// Pure parsers of the kernel files a cgroup sample is read from, in the formats of the kernel's
// cgroup documentation (v1: memory, cpuacct, blkio; v2: cgroup-v2.rst) and proc(5). Each returns
// undefined (or leaves an entry out) for what it cannot parse: the caller turns a missing value
// into an absent metric, never into 0.

/** Linux's USER_HZ: the unit of /proc/stat and cpuacct.stat. Docker hard-codes 100 too. */
export const USER_HZ = 100;
export const NS_PER_TICK = 1e9 / USER_HZ;

const DIGITS = /^\d+$/;

/**
 * The decimal counter in `text[from, to)`, or undefined when that is not one, nor one with
 * whitespace around it. A run of up to 15 digits (a number below 2^53, summed exactly) is read
 * where it lies: a sample's files are a hundred such counters, and slicing and trimming each made
 * half of parsing's cost. Anything else goes through trim, the test and Number, as before.
 */
function counterAt(text: string, from: number, to: number): number | undefined {
  let value = 0;
  let i = from;
  for (; i < to && i - from < 16; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  if (i > from && i - from <= 15 && (i === to || (i === to - 1 && text.charCodeAt(i) === 10))) return value;
  const t = text.slice(from, to).trim();
  return DIGITS.test(t) ? Number(t) : undefined;
}

/** A decimal counter, or undefined. */
export function parseCount(text: string): number | undefined {
  return counterAt(text, 0, text.length);
}

/**
 * A single-value limit file (`memory.max`, `pids.max`, v1 `pids.max`): a number, 'max' for no
 * limit, or undefined when it is neither.
 */
export function parseLimit(text: string): number | 'max' | undefined {
  const t = text.trim();
  return t === 'max' ? 'max' : parseCount(t);
}

/**
 * A flat keyed file, one `key value` per line: memory.stat, cpu.stat, cpuacct.stat (v1 and v2).
 * Lines whose value is not a decimal counter are left out.
 */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  eachKeyed(text, (start, space, end) => {
    const value = counterAt(text, space + 1, end);
    if (value !== undefined) out.set(text.slice(start, space), value);
  });
  return out;
}

/**
 * The values of `keys` in a flat keyed file, in the order of `keys`: what parseFlatKeyed would
 * give for each (undefined when the file lacks the key or its value is not a counter), without
 * building the map of every line (v1's memory.stat has 36 and a sample needs 5).
 */
export function pickFlatKeyed(text: string, keys: readonly string[]): (number | undefined)[] {
  const out: (number | undefined)[] = keys.map(() => undefined);
  eachKeyed(text, (start, space, end) => {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      // The line's key is what precedes its first space: `key` and then the space.
      if (space - start === key.length && text.startsWith(key, start)) {
        const value = counterAt(text, space + 1, end);
        if (value !== undefined) out[k] = value;
      }
    }
  });
  return out;
}

/** Calls `line` with each line's start, first space and end, for a line with a key before a space. */
function eachKeyed(text: string, line: (start: number, space: number, end: number) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (space > start && space < end) line(start, space, end);
    start = end + 1;
  }
}

/**
 * cgroup v1 `blkio.*io_service_bytes*`: lines `8:0 Read 4096` (ops Read, Write, Sync, Async,
 * Discard, Total) and a last line `Total 4096`, which is skipped as containerd's parser does.
 * Undefined when a line is neither.
 */
export function parseBlkioV1(text: string): BlkioEntry[] | undefined {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(/[ :]+/);
    if (fields.length === 2 && fields[0] === 'Total') continue;
    if (fields.length !== 4) return undefined;
    const [major, minor, op, value] = fields as [string, string, string, string];
    if (!DIGITS.test(major) || !DIGITS.test(minor) || !DIGITS.test(value)) return undefined;
    out.push({ major: Number(major), minor: Number(minor), op, value: Number(value) });
  }
  return out;
}

/**
 * cgroup v2 `io.stat`: one line per device, `8:16 rbytes=1459200 wbytes=314773504 rios=192 …`.
 * Each device gives a `read` and a `write` entry (0 for a key the line lacks), as Docker's
 * statsV2 builds `io_service_bytes_recursive` from containerd's parse.
 */
export function parseIoStatV2(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    const device = /^(\d+):(\d+)$/.exec(parts[0] ?? '');
    if (!device || parts.length < 2) continue;
    let read = 0;
    let write = 0;
    for (const pair of parts.slice(1)) {
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (eq < 0 || !DIGITS.test(value)) continue;
      if (pair.startsWith('rbytes=')) read = Number(value);
      else if (pair.startsWith('wbytes=')) write = Number(value);
    }
    const major = Number(device[1]);
    const minor = Number(device[2]);
    out.push({ major, minor, op: 'read', value: read }, { major, minor, op: 'write', value: write });
  }
  return out;
}

/** Columns of `/proc/<pid>/net/dev` after the interface name (proc(5)), by counter. */
const NET_DEV_COLUMNS: readonly [keyof NetworkCounters, number][] = [
  ['rx_bytes', 0],
  ['rx_packets', 1],
  ['rx_errors', 2],
  ['rx_dropped', 3],
  ['tx_bytes', 8],
  ['tx_packets', 9],
  ['tx_errors', 10],
  ['tx_dropped', 11],
];

/**
 * `/proc/<pid>/net/dev`: two header lines, then `  eth0: 1234 5 0 0 0 0 0 0 567 8 0 0 0 0 0 0`
 * (a wide counter may touch the colon). Every interface, `lo` included; undefined when a line
 * does not have the 16 counters.
 */
export function parseNetDev(text: string): InterfaceValues[] | undefined {
  return netDevAsWritten(text) ?? parseNetDevAnyway(text);
}

/** Columns netDevAsWritten keeps, by position: NET_DEV_COLUMNS's field, or undefined. */
const NET_DEV_FIELD: readonly (keyof NetworkCounters | undefined)[] = Array.from(
  { length: 16 },
  (_, column) => NET_DEV_COLUMNS.find(([, c]) => c === column)?.[0],
);

/**
 * net/dev as the kernel writes it (spaces, digits, 16 counters a line), read where its counters
 * lie; null for anything else, which parseNetDevAnyway then decides on.
 */
function netDevAsWritten(text: string): InterfaceValues[] | null {
  const out: InterfaceValues[] = [];
  let start = text.indexOf('\n', text.indexOf('\n') + 1) + 1;
  if (start === 0) return null;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= end) return null;
    const counters: NetworkCounters = {};
    let column = 0;
    let i = colon + 1;
    for (;;) {
      while (i < end && text.charCodeAt(i) === 32) i++;
      if (i === end) break;
      const from = i;
      while (i < end && text.charCodeAt(i) !== 32) i++;
      // A counter up to the next space; anything else (a tab, junk) is parseNetDevAnyway's.
      const value = counterAt(text, from, i);
      if (value === undefined) return null;
      const field = NET_DEV_FIELD[column++];
      if (field !== undefined) counters[field] = value;
    }
    if (column < 16) return null;
    out.push({ name: text.slice(start, colon).trim(), counters });
    start = end + 1;
  }
  return out;
}

/** parseNetDev for a text netDevAsWritten did not take: blank lines, tabs, errors. */
function parseNetDevAnyway(text: string): InterfaceValues[] | undefined {
  const out: InterfaceValues[] = [];
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return undefined;
    const values = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (values.length < 16 || !values.every((v) => DIGITS.test(v))) return undefined;
    const counters: NetworkCounters = {};
    for (const [field, column] of NET_DEV_COLUMNS) counters[field] = Number(values[column]);
    out.push({ name: line.slice(0, colon).trim(), counters });
  }
  return out;
}

/** What a sample needs of `/proc/stat`. */
export interface HostCpu {
  /** Docker's `system_cpu_usage`: the first seven fields of the `cpu` line summed, ticks → ns. */
  readonly systemNs: number;
  /** The `cpuN` lines: the CPUs online (see docs/cgroup.md for Docker 20.10's own count). */
  readonly onlineCpus: number;
}

/**
 * `/proc/stat`: user nice system idle iowait irq softirq of the `cpu` line (steal, guest and
 * guest_nice are left out, as Docker's getSystemCPUUsage does), and the number of `cpuN` lines.
 * Undefined without a `cpu` line of at least seven counters.
 */
export function parseProcStat(text: string): HostCpu | undefined {
  let systemNs: number | undefined;
  let onlineCpus = 0;
  let start = 0;
  while (text.startsWith('cpu', start)) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const c = text.charCodeAt(start + 3);
    if (c === 32 /* ' ' */) {
      const fields = text
        .slice(start + 3, end)
        .trim()
        .split(/\s+/, 7);
      if (fields.length < 7 || !fields.every((f) => DIGITS.test(f))) return undefined;
      let ticks = 0;
      for (const f of fields) ticks += Number(f);
      systemNs = ticks * NS_PER_TICK;
    } else if (c >= 48 && c <= 57) {
      onlineCpus++;
    }
    start = end + 1;
  }
  return systemNs === undefined || onlineCpus === 0 ? undefined : { systemNs, onlineCpus };
}

/** `/proc/meminfo`'s `MemTotal:  24684084 kB` in bytes (Docker's machine memory), or undefined. */
export function parseMemTotal(text: string): number | undefined {
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** cgroup v1 `memory.oom_control`'s `oom_kill` (Linux 4.13 on), or undefined when it has none. */
export function parseOomControl(text: string): number | undefined {
  return pickFlatKeyed(text, OOM_CONTROL)[0];
}
const OOM_CONTROL = ['oom_kill'];

/**
 * cgroup v2 `memory.events`: `low 0`, `high 0`, `max 12`, `oom 3`, `oom_kill 3`, `oom_group_kill 0`,
 * one a line; a counter the file lacks is undefined.
 */
export function parseMemoryEvents(text: string): MemoryEvents {
  const [low, high, max, oom, oomKill] = pickFlatKeyed(text, MEMORY_EVENTS);
  return { low, high, max, oom, oomKill };
}
const MEMORY_EVENTS = ['low', 'high', 'max', 'oom', 'oom_kill'];

/** The stall totals of a PSI file, in µs; `full` is undefined where the file has no such line. */
export interface PressureTotals {
  readonly someUs: number | undefined;
  readonly fullUs: number | undefined;
}

/**
 * A PSI file (cgroup v2 `cpu.pressure`, `memory.pressure`, `io.pressure`):
 * `some avg10=0.00 avg60=0.00 avg300=0.00 total=12345` and the same for `full` (a line that
 * `cpu.pressure` lacks before Linux 5.13). Only the `total` counters are taken: the averages
 * are the kernel's own windows, not the daemon's interval.
 */
export function parsePressure(text: string): PressureTotals {
  let someUs: number | undefined;
  let fullUs: number | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const total = text.lastIndexOf(' total=', end);
    if (total > start) {
      const value = counterAt(text, total + 7, end);
      if (text.startsWith('some ', start)) someUs = value;
      else if (text.startsWith('full ', start)) fullUs = value;
    }
    start = end + 1;
  }
  return { someUs, fullUs };
}

/**
 * cgroup v2 `cpu.max`: `$MAX $PERIOD` in µs (`150000 100000`), `max 100000` for no quota. The
 * quota in CPUs, or undefined without one or for anything else.
 */
export function parseCpuMax(text: string): number | undefined {
  const m = /^(\d{1,15}) (\d{1,15})\n?$/.exec(text);
  return m ? quotaCpus(Number(m[1]), Number(m[2])) : undefined;
}

/** cgroup v1 `cpu.cfs_quota_us`: the quota in µs, or undefined for -1 (no quota) or anything else. */
export function parseCfsQuota(text: string): number | undefined {
  const quota = parseCount(text);
  return quota === undefined || quota === 0 ? undefined : quota;
}

/** A CFS quota and period in µs as CPUs (v1 `cpu.cfs_period_us` read by parseCount); undefined without both. */
export function quotaCpus(quotaUs: number | undefined, periodUs: number | undefined): number | undefined {
  return quotaUs === undefined || periodUs === undefined || !(quotaUs > 0 && periodUs > 0)
    ? undefined
    : quotaUs / periodUs;
}

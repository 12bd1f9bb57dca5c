import type { BlkioEntry, NetworkCounters } from '../docker/stats-types.js';
import type { InterfaceValues } from '../docker/sample-values.js';

// Pure parsers of the kernel files a cgroup sample is read from, in the formats of the kernel's
// cgroup documentation (v1: memory, cpuacct, blkio; v2: cgroup-v2.rst) and proc(5). Each returns
// undefined (or leaves an entry out) for what it cannot parse: the caller turns a missing value
// into an absent metric, never into 0.

/** Linux's USER_HZ: the unit of /proc/stat and cpuacct.stat. Docker hard-codes 100 too. */
export const USER_HZ = 100;
export const NS_PER_TICK = 1e9 / USER_HZ;

const DIGITS = /^\d+$/;

/** A decimal counter, or undefined. */
export function parseCount(text: string): number | undefined {
  const t = text.trim();
  return DIGITS.test(t) ? Number(t) : undefined;
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
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (space > start && space < end) {
      const value = text.slice(space + 1, end).trim();
      if (DIGITS.test(value)) out.set(text.slice(start, space), Number(value));
    }
    start = end + 1;
  }
  return out;
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
  const out: InterfaceValues[] = [];
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return undefined;
    const values = line.slice(colon + 1).trim().split(/\s+/);
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
      const fields = text.slice(start + 3, end).trim().split(/\s+/, 7);
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

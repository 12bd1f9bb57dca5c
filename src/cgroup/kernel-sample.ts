import {
  blkioValues,
  interfaceTotals,
  type BlkioEntry,
  type InterfaceValues,
  type SampleValues,
} from '../model/sample-values.js';
import {
  NS_PER_TICK,
  parseCount,
  parseIoStatV2,
  parseLimit,
  parseNetDev,
  parseBlkioV1,
  pickFlatKeyed,
  type HostCpu,
} from './kernel-files.js';

// One sample's values from the texts of the kernel files, computed as Docker 20.10 computes its
// stats JSON from the same files (through containerd's cgroups package and daemon/stats), so that
// the reducer gives the same metrics in both modes. Pure: the reader does the I/O. Where each value
// comes from, and where this differs from the Engine, is in docs/cgroup.md.

/** The texts of a cgroup v1 sample, by file (`blkio`: the file Docker reads, see the reader). */
export interface V1Texts {
  readonly 'cpuacct.usage': string;
  readonly 'cpuacct.stat': string;
  readonly 'cpu.stat': string;
  readonly 'memory.usage_in_bytes': string;
  readonly 'memory.max_usage_in_bytes': string;
  readonly 'memory.limit_in_bytes': string;
  readonly 'memory.stat': string;
  readonly blkio: string;
  readonly 'pids.current': string;
  readonly 'pids.max': string;
}

/** The texts of a cgroup v2 sample, by file. */
export interface V2Texts {
  readonly 'cpu.stat': string;
  readonly 'memory.current': string;
  readonly 'memory.max': string;
  readonly 'memory.stat': string;
  readonly 'io.stat': string;
  readonly 'pids.current': string;
  readonly 'pids.max': string;
}

/** What every sample needs besides its group's files. */
export interface HostTexts {
  /** `/proc/stat` (undefined: not in its format), read in the sample's round as Docker reads it with the stats. */
  readonly cpu: HostCpu | undefined;
  /** `/proc/<pid>/net/dev`; undefined for a container on the host's network. */
  readonly netDev: string | undefined;
  /** MemTotal in bytes (Docker's machine memory, read once), undefined if unknown. */
  readonly memTotal: number | undefined;
  /** When the sample was taken, epoch ms. */
  readonly readMs: number;
}

export type KernelSampleOutcome =
  | { readonly kind: 'values'; readonly values: SampleValues }
  | { readonly kind: 'bad'; readonly file: string; readonly reason: string };

/**
 * Interfaces the Engine reports: those libnetwork moved into the container's namespace, which it
 * names eth0, eth1, … (never `lo`, nor an interface made inside the container, like the bridge
 * and veths of a Docker-in-Docker).
 */
const isEngineInterface = (name: string): boolean => /^eth\d+$/.test(name);

const bad = (file: string, reason: string): KernelSampleOutcome => ({ kind: 'bad', file, reason });

// The keys a sample takes from each flat keyed file (pickFlatKeyed), in the order they are used.
const V1_ACCT = ['user', 'system'];
const V1_CPU = ['nr_throttled', 'throttled_time'];
const V1_MEMORY = ['total_cache', 'total_inactive_file', 'total_rss', 'total_pgfault', 'total_pgmajfault'];
const V2_CPU = ['usage_usec', 'system_usec', 'user_usec', 'nr_throttled', 'throttled_usec'];
const V2_MEMORY = ['file', 'inactive_file', 'anon', 'pgfault', 'pgmajfault'];

/** Pure: a cgroup v1 sample. `bad` names the first file whose content is not in the kernel's format. */
export function v1Sample(t: V1Texts, host: HostTexts): KernelSampleOutcome {
  const cpuTotal = parseCount(t['cpuacct.usage']);
  if (cpuTotal === undefined) return bad('cpuacct.usage', 'not a counter');
  const [user, system] = pickFlatKeyed(t['cpuacct.stat'], V1_ACCT);
  const [throttledPeriods, throttledTime] = pickFlatKeyed(t['cpu.stat'], V1_CPU);
  const usage = parseCount(t['memory.usage_in_bytes']);
  if (usage === undefined) return bad('memory.usage_in_bytes', 'not a counter');
  const maxUsage = parseCount(t['memory.max_usage_in_bytes']);
  if (maxUsage === undefined) return bad('memory.max_usage_in_bytes', 'not a counter');
  const limit = parseCount(t['memory.limit_in_bytes']);
  if (limit === undefined) return bad('memory.limit_in_bytes', 'not a counter');
  const [cache, inactiveFile, rss, pgfault, pgmajfault] = pickFlatKeyed(t['memory.stat'], V1_MEMORY);
  const blkio = parseBlkioV1(t.blkio);
  if (blkio === undefined) return bad('blkio', 'a line is not `major:minor op bytes`');
  const pids = pidsValues(t['pids.current'], t['pids.max']);
  if (typeof pids === 'string') return bad(pids, 'not a counter');
  return common(host, blkio, {
    cpuTotal,
    // cpuacct.stat counts USER_HZ ticks; containerd converts them to ns, as here.
    cpuKernel: ticksToNs(system),
    cpuUser: ticksToNs(user),
    throttledPeriods,
    throttledTime,
    memoryUsage: usage,
    memoryMaxUsage: maxUsage,
    memoryLimit: machineLimit(limit, host.memTotal),
    memoryCache: cache,
    memoryInactiveFile: inactiveFile,
    memoryRss: rss,
    memoryPgfault: pgfault,
    memoryPgmajfault: pgmajfault,
    ...pids,
  });
}

/** Pure: a cgroup v2 sample. `bad` names the first file whose content is not in the kernel's format. */
export function v2Sample(t: V2Texts, host: HostTexts): KernelSampleOutcome {
  const [usageUsec, systemUsec, userUsec, throttledPeriods, throttledUsec] = pickFlatKeyed(t['cpu.stat'], V2_CPU);
  const usage = parseCount(t['memory.current']);
  if (usage === undefined) return bad('memory.current', 'not a counter');
  const limit = parseLimit(t['memory.max']);
  if (limit === undefined) return bad('memory.max', 'neither a counter nor "max"');
  const [file, inactiveFile, anon, pgfault, pgmajfault] = pickFlatKeyed(t['memory.stat'], V2_MEMORY);
  const pids = pidsValues(t['pids.current'], t['pids.max']);
  if (typeof pids === 'string') return bad(pids, 'not a counter');
  return common(host, parseIoStatV2(t['io.stat']), {
    cpuTotal: usToNs(usageUsec),
    cpuKernel: usToNs(systemUsec),
    cpuUser: usToNs(userUsec),
    throttledPeriods,
    throttledTime: usToNs(throttledUsec),
    memoryUsage: usage,
    // cgroup v2 keeps no peak that Docker 20.10 reads (memory.peak came with Linux 5.19).
    memoryMaxUsage: undefined,
    memoryLimit: machineLimit(limit === 'max' ? Number.POSITIVE_INFINITY : limit, host.memTotal),
    memoryCache: file,
    memoryInactiveFile: inactiveFile,
    memoryRss: anon,
    memoryPgfault: pgfault,
    memoryPgmajfault: pgmajfault,
    ...pids,
  });
}

type GroupValues = Omit<
  SampleValues,
  'readMs' | 'cpuPercentBase' | 'cpuSystem' | 'cpuOnline' | 'network' | 'interfaces' | 'blkioRead' | 'blkioWrite'
>;

/** The values both versions get the same way: host CPU, network, block I/O. */
function common(host: HostTexts, blkio: readonly BlkioEntry[], group: GroupValues): KernelSampleOutcome {
  const cpu = host.cpu;
  if (cpu === undefined) return bad('stat', 'no `cpu` line of seven counters');
  let interfaces: InterfaceValues[] = [];
  if (host.netDev !== undefined) {
    const all = parseNetDev(host.netDev);
    if (all === undefined) return bad('net/dev', 'a line does not hold 16 counters');
    interfaces = all.filter((i) => isEngineInterface(i.name));
  }
  return {
    kind: 'values',
    values: {
      readMs: host.readMs,
      cpuPercentBase: 'system',
      cpuSystem: cpu.systemNs,
      cpuOnline: cpu.onlineCpus,
      ...group,
      network: interfaces.length > 0 ? interfaceTotals(interfaces) : undefined,
      interfaces,
      blkioRead: blkioValues(blkio, 'read'),
      blkioWrite: blkioValues(blkio, 'write'),
    },
  };
}

/** pids.current and pids.max ('max' = no limit: no `pids.limit`), or the name of the bad file. */
function pidsValues(current: string, max: string): { pidsCurrent: number; pidsLimit: number | undefined } | string {
  const pidsCurrent = parseCount(current);
  if (pidsCurrent === undefined) return 'pids.current';
  const limit = parseLimit(max);
  if (limit === undefined) return 'pids.max';
  return { pidsCurrent, pidsLimit: limit === 'max' ? undefined : limit };
}

/** Docker reports the machine's memory as the limit of a container without one (or with a larger one). */
function machineLimit(limit: number, memTotal: number | undefined): number | undefined {
  if (memTotal !== undefined && memTotal > 0 && limit > memTotal) return memTotal;
  return Number.isFinite(limit) ? limit : undefined;
}

const ticksToNs = (ticks: number | undefined): number | undefined =>
  ticks === undefined ? undefined : ticks * NS_PER_TICK;
const usToNs = (us: number | undefined): number | undefined => (us === undefined ? undefined : us * 1000);

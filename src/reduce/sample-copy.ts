import type { BlkioValues, InterfaceValues, SampleValues } from '../model/sample-values.js';
import { NETWORK_FIELDS, type NetworkCounters } from '../model/network-counters.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Why the store keeps copies of samples, and overwrites them (docs/architecture.md §6 has the
 * figures): a container's latest sample lives about a second, until the next one, which at
 * thousands of streams is long enough for V8 to promote it and then allocate every sample straight
 * in the old generation (allocation-site pretenuring), as garbage for the costly collections. Now
 * the objects a collector makes never outlive the sample's arrival: the store keeps its own copies,
 * made twice per container per interval (the first sample, and the latest), and writes the later
 * samples into the latest copy in place.
 */

type NestedKey = 'network' | 'interfaces' | 'blkioRead' | 'blkioWrite';
type ScalarKey = Exclude<keyof SampleValues, NestedKey>;

/**
 * Every field of a sample that is a number or a word: the compiler insists each one is listed, and
 * the test that writes every fixture sample over every other checks overwriteSample copies each.
 */
const SCALARS = {
  readMs: true,
  cpuPercentBase: true,
  cpuSystem: true,
  cpuTotal: true,
  cpuKernel: true,
  cpuUser: true,
  cpuOnline: true,
  throttledPeriods: true,
  throttledTime: true,
  memoryUsage: true,
  memoryMaxUsage: true,
  memoryLimit: true,
  memoryCache: true,
  memoryInactiveFile: true,
  memoryRss: true,
  memoryPgfault: true,
  memoryPgmajfault: true,
  pidsCurrent: true,
  pidsLimit: true,
} as const satisfies Record<ScalarKey, true>;
/** The scalar fields' names (tests check overwriteSample against them). */
export const SCALAR_KEYS = Object.keys(SCALARS) as ScalarKey[];

/** A deep copy of a sample: the object a container's later samples in the interval are copied into. */
export function copySample(src: SampleValues): SampleValues {
  return {
    ...src,
    network: src.network && { ...src.network },
    interfaces: copyInterfaces(src.interfaces),
    blkioRead: src.blkioRead && copyBlkio(src.blkioRead),
    blkioWrite: src.blkioWrite && copyBlkio(src.blkioWrite),
  };
}

const copyInterfaces = (list: readonly InterfaceValues[]): readonly InterfaceValues[] =>
  list.length === 0 ? list : list.map((i) => ({ name: i.name, counters: { ...i.counters } }));

const copyBlkio = (b: BlkioValues): BlkioValues => ({ total: b.total, perDevice: b.perDevice.map((d) => ({ ...d })) });

/**
 * `src` copied into `dst` (an object copySample made): numbers are written in place, and so are
 * the nested counters whenever they have the same shape as before (the same interfaces, the same
 * devices, the same fields), which is every sample but the one after a change. Otherwise the new
 * nested value is taken as it is.
 */
export function overwriteSample(dst: SampleValues, src: SampleValues): void {
  const d = dst as Writable<SampleValues>;
  // Field by field (SCALARS lists them for the compiler; a loop over it is a keyed access per field).
  d.readMs = src.readMs;
  d.cpuPercentBase = src.cpuPercentBase;
  d.cpuSystem = src.cpuSystem;
  d.cpuTotal = src.cpuTotal;
  d.cpuKernel = src.cpuKernel;
  d.cpuUser = src.cpuUser;
  d.cpuOnline = src.cpuOnline;
  d.throttledPeriods = src.throttledPeriods;
  d.throttledTime = src.throttledTime;
  d.memoryUsage = src.memoryUsage;
  d.memoryMaxUsage = src.memoryMaxUsage;
  d.memoryLimit = src.memoryLimit;
  d.memoryCache = src.memoryCache;
  d.memoryInactiveFile = src.memoryInactiveFile;
  d.memoryRss = src.memoryRss;
  d.memoryPgfault = src.memoryPgfault;
  d.memoryPgmajfault = src.memoryPgmajfault;
  d.pidsCurrent = src.pidsCurrent;
  d.pidsLimit = src.pidsLimit;
  if (!(d.network && src.network && overwriteCounters(d.network, src.network)))
    d.network = src.network && { ...src.network };
  if (!overwriteInterfaces(d.interfaces, src.interfaces)) d.interfaces = copyInterfaces(src.interfaces);
  if (!(d.blkioRead && src.blkioRead && overwriteBlkio(d.blkioRead, src.blkioRead)))
    d.blkioRead = src.blkioRead && copyBlkio(src.blkioRead);
  if (!(d.blkioWrite && src.blkioWrite && overwriteBlkio(d.blkioWrite, src.blkioWrite)))
    d.blkioWrite = src.blkioWrite && copyBlkio(src.blkioWrite);
}

/** False (and `dst` unchanged) when the two do not have the same fields. */
function overwriteCounters(dst: NetworkCounters, src: NetworkCounters): boolean {
  if (!sameFields(dst, src)) return false;
  for (const f of NETWORK_FIELDS) if (src[f] !== undefined) dst[f] = src[f];
  return true;
}

const sameFields = (a: NetworkCounters, b: NetworkCounters): boolean =>
  NETWORK_FIELDS.every((f) => (a[f] === undefined) === (b[f] === undefined));

function overwriteInterfaces(dst: readonly InterfaceValues[], src: readonly InterfaceValues[]): boolean {
  if (dst.length !== src.length) return false;
  for (let i = 0; i < src.length; i++)
    if (dst[i]!.name !== src[i]!.name || !sameFields(dst[i]!.counters, src[i]!.counters)) return false;
  for (let i = 0; i < src.length; i++) overwriteCounters(dst[i]!.counters, src[i]!.counters);
  return true;
}

function overwriteBlkio(dst: BlkioValues, src: BlkioValues): boolean {
  if (dst.perDevice.length !== src.perDevice.length) return false;
  for (let i = 0; i < src.perDevice.length; i++) {
    const a = dst.perDevice[i]!;
    const b = src.perDevice[i]!;
    if (a.major !== b.major || a.minor !== b.minor) return false;
  }
  (dst as Writable<BlkioValues>).total = src.total;
  for (let i = 0; i < src.perDevice.length; i++)
    (dst.perDevice[i] as { bytes: number }).bytes = src.perDevice[i]!.bytes;
  return true;
}

/**
 * The kernel's own counters of one container's cgroup, read once per tick in every mode
 * (cgroup/tick-counters.ts) and turned into metrics by the reducer. Shared data: it imports nothing.
 * A field is undefined when its file is not in this cgroup version or could not be read or
 * understood: its metric is then left out, never sent as 0.
 */
export interface KernelCounters {
  /** When the files were read, epoch ms. */
  readonly readMs: number;
  /** Processes the kernel's OOM killer killed in the group: v1 `memory.oom_control`, v2 `memory.events`. */
  readonly oomKills: number | undefined;
  /** cgroup v1 `memory.failcnt`: how often the usage hit the limit. */
  readonly memoryFailcnt: number | undefined;
  /** cgroup v2 `memory.events`. */
  readonly memoryEvents: MemoryEvents | undefined;
  /** cgroup v2 `*.pressure`, by resource. */
  readonly pressure: Readonly<Record<PressureResource, Pressure>> | undefined;
  /**
   * The CPUs the group may use by its CFS quota: v2 `cpu.max`, v1 `cpu.cfs_quota_us` /
   * `cpu.cfs_period_us`. Undefined without a quota (`max`, -1): then inspect's limit stands.
   */
  readonly cpuQuotaCpus: number | undefined;
}

export interface MemoryEvents {
  readonly low: number | undefined;
  readonly high: number | undefined;
  readonly max: number | undefined;
  readonly oom: number | undefined;
  readonly oomKill: number | undefined;
}

export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io'] as const;
export type PressureResource = (typeof PRESSURE_RESOURCES)[number];

/** One resource's pressure stall information. */
export interface Pressure {
  /** Time some task of the group stalled on the resource, seconds, since the group was made. */
  readonly someSeconds: number | undefined;
  /** Time every task of the group stalled at once, seconds (absent from older kernels' `cpu.pressure`). */
  readonly fullSeconds: number | undefined;
  /**
   * The share of the time between the previous tick's read and this one during which some task
   * stalled, 0–100; undefined at the first read or after the counter went back.
   */
  readonly somePercent: number | undefined;
}

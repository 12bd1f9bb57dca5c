import type { SampleValues } from '../model/sample-values.js';

// The `docker stats` formulas (docs/architecture.md §2) as small pure helpers over the values of a
// sample (src/model/sample-values.ts). Each returns undefined when its inputs are absent, so that
// a missing field never turns into a 0.

/**
 * CPU % between two samples of one container, as `docker stats` computes it but over any pair:
 * Δtotal_usage / Δsystem_cpu_usage × online CPUs × 100. Undefined without a usable pair
 * (the same sample twice, a missing field, no system time elapsed, a counter that went back).
 */
export function cpuPercent(from: SampleValues, to: SampleValues): number | undefined {
  if (to.cpuPercentBase === 'wall-clock') return wallClockCpuPercent(from, to);
  const { cpuTotal: t0, cpuSystem: s0 } = from;
  const { cpuTotal: t1, cpuSystem: s1, cpuOnline: cpus } = to;
  if (t0 === undefined || t1 === undefined || s0 === undefined || s1 === undefined || cpus === undefined)
    return undefined;
  const dSystem = s1 - s0;
  const dTotal = t1 - t0;
  if (!(dSystem > 0) || dTotal < 0) return undefined;
  return (dTotal / dSystem) * cpus * 100;
}

/**
 * CPU % between two samples from wall-clock time, for samples whose system time leaves idle time out
 * (SampleValues.cpuPercentBase): Δtotal_usage / Δread × 100 (100 = one CPU busy; what `docker stats`
 * shows). Undefined without a usable pair (a missing field, no time elapsed, a counter that went back).
 */
export function wallClockCpuPercent(from: SampleValues, to: SampleValues): number | undefined {
  const t0 = from.cpuTotal;
  const t1 = to.cpuTotal;
  if (t0 === undefined || t1 === undefined) return undefined;
  const dTotalNs = t1 - t0;
  const dWallNs = (to.readMs - from.readMs) * 1e6;
  if (!(dWallNs > 0) || !(dTotalNs >= 0)) return undefined;
  return (dTotalNs / dWallNs) * 100;
}

/** `docker stats`' MEM USAGE: usage minus inactive file pages when those are present and smaller. */
export function workingSet(v: SampleValues): number | undefined {
  const { memoryUsage: usage, memoryInactiveFile: inactive } = v;
  if (usage === undefined) return undefined;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

/**
 * Did any counter the rates use go backwards between two samples (the container restarted and its
 * cgroup counters started again from small values)?
 */
export function countersWentBack(from: SampleValues, to: SampleValues): boolean {
  const back = (a: number | undefined, b: number | undefined): boolean => a !== undefined && b !== undefined && b < a;
  return (
    back(from.cpuTotal, to.cpuTotal) ||
    back(from.network?.rx_bytes, to.network?.rx_bytes) ||
    back(from.network?.tx_bytes, to.network?.tx_bytes) ||
    back(from.blkioRead?.total, to.blkioRead?.total) ||
    back(from.blkioWrite?.total, to.blkioWrite?.total)
  );
}

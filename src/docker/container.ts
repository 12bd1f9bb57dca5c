import type { ContainerRef } from '../model/container.js';
import type { ContainerInspect } from './engine.js';

/** The ContainerRef of an inspect answer. */
export function containerRef(id: string, info: ContainerInspect): ContainerRef {
  const started = Date.parse(info.State?.StartedAt ?? '');
  const health = info.State?.Health;
  const status = health?.Status;
  const pid = info.State?.Pid;
  return {
    id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config?.Image ?? '',
    labels: info.Config?.Labels ?? {},
    facts: {
      startedAtMs: Number.isFinite(started) && started > 0 ? started : undefined,
      restartCount: typeof info.RestartCount === 'number' ? info.RestartCount : undefined,
      health:
        status === 'healthy' || status === 'unhealthy' || status === 'starting'
          ? { status, failingStreak: health?.FailingStreak ?? 0 }
          : undefined,
      pid: typeof pid === 'number' && pid > 0 ? pid : undefined,
      cpuLimit: cpuLimit(info.HostConfig ?? undefined),
      memoryReservation: positive(info.HostConfig?.MemoryReservation),
    },
  };
}

/** The same container with a new count of Engine `oom` events (facts stay immutable). */
export function withOomEvents(container: ContainerRef, oomEvents: number | undefined): ContainerRef {
  if (container.facts.oomEvents === oomEvents) return container;
  return { ...container, facts: { ...container.facts, oomEvents } };
}

const positive = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;

/** CPUs from `HostConfig`: NanoCpus/1e9, else CpuQuota/CpuPeriod, else the cpuset's size; undefined when unlimited. */
export function cpuLimit(host: NonNullable<ContainerInspect['HostConfig']> | undefined): number | undefined {
  const nano = positive(host?.NanoCpus);
  if (nano !== undefined) return nano / 1e9;
  const quota = positive(host?.CpuQuota);
  // The Engine's default period when none is given.
  const period = positive(host?.CpuPeriod) ?? 100_000;
  if (quota !== undefined) return quota / period;
  return cpusetSize(host?.CpusetCpus);
}

/** How many CPUs a cpuset list names (`0-2,4` → 4, overlaps counted once); undefined for empty or bad text. */
export function cpusetSize(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096) return undefined;
  const ranges: [number, number][] = [];
  for (const item of text.trim().split(',')) {
    const m = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(item.trim());
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return undefined;
    ranges.push([from, to]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let count = 0;
  let end = -1;
  for (const [from, to] of ranges) {
    if (to <= end) continue;
    count += to - Math.max(from, end + 1) + 1;
    end = to;
  }
  return count > 0 ? count : undefined;
}

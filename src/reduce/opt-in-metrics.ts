import type { ContainerRef } from '../model/container.js';
import type { ContainerSize, ServiceTasks } from '../model/opt-in.js';
import { HOST, type Metric } from '../model/metric.js';

/**
 * Pure: the swarm's services → `swarm.services.<service>.{running,desired}` (host metrics, per
 * service), stamped with the time the listing was asked for.
 */
export function swarmMetrics(services: readonly ServiceTasks[], timeMs: number): Metric[] {
  const time = Math.floor(timeMs / 1000);
  return services.flatMap(({ service, running, desired }): Metric[] => {
    const per = { key: 'service', value: service } as const;
    return [
      { subject: HOST, name: 'swarm.services.running', per, kind: 'gauge', value: running, time },
      { subject: HOST, name: 'swarm.services.desired', per, kind: 'gauge', value: desired, time },
    ];
  });
}

/**
 * Pure: the containers' sizes → `disk.{rw_bytes,root_bytes}` of each followed container (one the
 * filters leave out, or that stopped since, sends nothing), stamped with the time the measurement was asked for.
 */
export function diskMetrics(
  sizes: readonly ContainerSize[],
  timeMs: number,
  followed: readonly ContainerRef[],
): Metric[] {
  const time = Math.floor(timeMs / 1000);
  const byId = new Map(followed.map((c) => [c.id, c]));
  const out: Metric[] = [];
  for (const { id, rwBytes, rootBytes } of sizes) {
    const container = byId.get(id);
    if (!container) continue;
    const subject = { kind: 'container', container } as const;
    if (rwBytes !== undefined) out.push({ subject, name: 'disk.rw_bytes', kind: 'gauge', value: rwBytes, time });
    if (rootBytes !== undefined) out.push({ subject, name: 'disk.root_bytes', kind: 'gauge', value: rootBytes, time });
  }
  return out;
}

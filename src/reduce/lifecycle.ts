import type { ContainerExit } from '../model/container.js';
import { CONTAINER_STATES, HEALTH_STATES, type HostStates } from '../model/host-states.js';
import { HOST, type Metric } from '../model/metric.js';

/**
 * Pure: each exit's `exit_code` and, when known, `oom_killed` (1/0), about the container as last
 * followed, stamped with the second it died. Sent whatever `--metrics` says.
 */
export function exitMetrics(exits: readonly ContainerExit[]): Metric[] {
  const out: Metric[] = [];
  for (const exit of exits) {
    const subject = { kind: 'container', container: exit.container } as const;
    const time = Math.floor(exit.atMs / 1000);
    out.push({ subject, name: 'exit_code', kind: 'gauge', value: exit.exitCode, time });
    if (exit.oomKilled !== undefined)
      out.push({ subject, name: 'oom_killed', kind: 'gauge', value: exit.oomKilled ? 1 : 0, time });
  }
  return out;
}

/** Pure: `containers_state` per state (all six) and `containers_health` per health (all three), at the tick. */
export function stateMetrics(states: HostStates, tickSeconds: number): Metric[] {
  const gauge = (name: string, key: 'state' | 'health', value: string, count: number): Metric => ({
    subject: HOST,
    name,
    per: { key, value },
    kind: 'gauge',
    value: count,
    time: tickSeconds,
  });
  return [
    ...CONTAINER_STATES.map((s) => gauge('containers_state', 'state', s, states.state[s])),
    ...HEALTH_STATES.map((h) => gauge('containers_health', 'health', h, states.health[h])),
  ];
}

/** `cpu.percent` (100 per CPU) as a share of the CPU limit, 0–100; undefined without both. */
export function percentOfLimit(cpuPercent: number | undefined, cpuLimit: number | undefined): number | undefined {
  if (cpuPercent === undefined || cpuLimit === undefined || !(cpuLimit > 0)) return undefined;
  return Math.min(100, Math.max(0, cpuPercent / cpuLimit));
}

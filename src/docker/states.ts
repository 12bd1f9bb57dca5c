import type { Clock } from '../clock.js';
import type { HealthStatus } from '../model/container.js';
import { CONTAINER_STATES, HEALTH_STATES, type ContainerState, type HostStates } from '../model/host-states.js';
import { CALL_TIMEOUT_MS, withTimeout } from './engine-calls.js';
import type { ContainerSummary, EngineClient } from './engine.js';
import { engineLabelFilter, passesFilter, type ContainerFilter } from './filter.js';

/**
 * The health in a list entry's `Status` text (`Up 5 minutes (healthy)`, `(unhealthy)`,
 * `(health: starting)`); undefined for a container without a healthcheck or any other text.
 */
export function healthFromStatus(status: unknown): HealthStatus | undefined {
  if (typeof status !== 'string') return undefined;
  const m = /\((healthy|unhealthy|health: starting)\)\s*$/.exec(status);
  if (!m) return undefined;
  return m[1] === 'health: starting' ? 'starting' : (m[1] as HealthStatus);
}

/**
 * Pure: counts a `GET /containers/json?all=1` answer by state and health, over the entries that pass
 * the filter (name globs and labels, as for the containers followed). A state outside the six
 * (`removing`) is not counted.
 */
export function countStates(list: readonly ContainerSummary[], filter: ContainerFilter): HostStates {
  const state = Object.fromEntries(CONTAINER_STATES.map((s) => [s, 0])) as Record<ContainerState, number>;
  const health = Object.fromEntries(HEALTH_STATES.map((h) => [h, 0])) as Record<HealthStatus, number>;
  const ids = new Set<string>();
  for (const c of list) {
    if (c === null || typeof c !== 'object') continue;
    // Legacy links add names such as `/web/db`; the container's own has no inner slash.
    const names = Array.isArray(c.Names) ? c.Names.filter((n): n is string => typeof n === 'string') : [];
    const name = names.find((n) => n.lastIndexOf('/') === 0) ?? names[0] ?? '';
    const labels = c.Labels !== null && typeof c.Labels === 'object' ? c.Labels : {};
    if (!passesFilter(filter, name, labels)) continue;
    if (typeof c.Id === 'string') ids.add(c.Id);
    if (typeof c.State === 'string' && Object.hasOwn(state, c.State)) state[c.State as ContainerState] += 1;
    const h = healthFromStatus(c.Status);
    if (h) health[h] += 1;
  }
  return { state, health, ids };
}

/** One `GET /containers/json?all=1` with the filter's labels passed to the Engine, counted (countStates). */
export async function listStates(
  engine: EngineClient,
  filter: ContainerFilter,
  clock: Clock,
  /** The caller's own bound (a tick cannot wait long): the call is given up at the sooner of it and the usual one. */
  atMostMs = CALL_TIMEOUT_MS,
): Promise<HostStates> {
  const labels = engineLabelFilter(filter);
  const list = await withTimeout(
    clock,
    (signal) => engine.listContainers(labels.length ? { label: labels } : {}, signal, true),
    'GET /containers/json?all=1',
    Math.min(atMostMs, CALL_TIMEOUT_MS),
  );
  return countStates(Array.isArray(list) ? list : [], filter);
}

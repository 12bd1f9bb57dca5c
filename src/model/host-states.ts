import type { HealthStatus } from './container.js';

export const CONTAINER_STATES = ['running', 'paused', 'restarting', 'exited', 'created', 'dead'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];
export const HEALTH_STATES = ['healthy', 'unhealthy', 'starting'] as const satisfies readonly HealthStatus[];

/** How many of the containers that pass the filter are in each state, and each health (all keys, 0 included). */
export interface HostStates {
  readonly state: Readonly<Record<ContainerState, number>>;
  readonly health: Readonly<Record<HealthStatus, number>>;
  /** The ids of the containers counted: what is not among them was removed. */
  readonly ids: ReadonlySet<string>;
}

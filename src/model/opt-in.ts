// What the opt-in groups measure in the background (docker/swarm-probe.ts, docker/disk-probe.ts).

/** One service's tasks, as the managers count them. */
export interface ServiceTasks {
  /** The service's name as the Engine gave it: untrusted input. */
  readonly service: string;
  readonly running: number;
  readonly desired: number;
}

/** One container's sizes: its writable layer, and that with its image's layers. */
export interface ContainerSize {
  readonly id: string;
  readonly rwBytes: number | undefined;
  readonly rootBytes: number | undefined;
}

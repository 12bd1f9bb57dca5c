// What the daemon knows of a container: who it is (its inspect as of a moment) and how it ended.
// Built by docker/ from the Engine's answers; read by every later stage.

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** What an inspect says about a container besides its name and labels. */
export interface ContainerFacts {
  /** `State.StartedAt` in epoch ms. */
  readonly startedAtMs?: number | undefined;
  /** `RestartCount`. */
  readonly restartCount?: number | undefined;
  /** Only for containers that have a healthcheck; kept current from `health_status` events. */
  readonly health?: { readonly status: HealthStatus; readonly failingStreak: number } | undefined;
  /** `State.Pid`: the container's init process on the Engine's host (0 or absent when unknown). */
  readonly pid?: number | undefined;
  /** The CPUs it may use (`HostConfig`: NanoCpus, else quota/period, else its cpuset); absent when unlimited. */
  readonly cpuLimit?: number | undefined;
  /** `HostConfig.MemoryReservation` (the soft limit) in bytes, when one is set. */
  readonly memoryReservation?: number | undefined;
  /**
   * OOM kills counted from the Engine's `oom` events since the container last started, repeats
   * left out (tracker.ts); the kernel's own count is preferred where it can be read.
   */
  readonly oomEvents?: number | undefined;
}

/**
 * A container stopped (a `die` event): sent once, in the next tick. `oomKilled` is undefined when
 * no inspect could say (the container was already removed, or already running again).
 */
export interface ContainerExit {
  /** The container as last followed (or as inspected after it died, if it was never followed). */
  readonly container: ContainerRef;
  readonly exitCode: number;
  readonly oomKilled: boolean | undefined;
  /** When it died (the event's time), epoch ms. */
  readonly atMs: number;
}

/**
 * A followed container as of its latest inspect. Immutable: a new inspect (a rename, a health
 * change) makes a new one, so a sample, and every metric made from it, keeps the facts of its
 * own moment.
 */
export interface ContainerRef {
  readonly id: string;
  /** The name without its leading `/`. */
  readonly name: string;
  /** The image as given to `docker run`. */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly facts: ContainerFacts;
}

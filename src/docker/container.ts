import type { ContainerInspect } from './engine.js';

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
    },
  };
}

import type { ContainerInfo } from './series.js';

/**
 * What the Prometheus sinks need to see of the running daemon: the followed containers (for the
 * `name`, `id`, `image` and container-label labels) and whether the Engine answers (for /healthz).
 * Created by main before the daemon exists; the daemon attaches its watcher once, in its
 * constructor. Until then there are no containers and the Engine counts as unreachable.
 */
export class DaemonView {
  #source: { containers(): readonly ContainerInfo[]; engineReachable(): boolean } | undefined;

  attach(source: { containers(): readonly ContainerInfo[]; engineReachable(): boolean }): void {
    this.#source = source;
  }

  containers(): readonly ContainerInfo[] {
    return this.#source?.containers() ?? [];
  }

  engineReachable(): boolean {
    return this.#source?.engineReachable() ?? false;
  }
}

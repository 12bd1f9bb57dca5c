import type { ContainerRef } from '../model/container.js';
import type { Metric } from '../model/metric.js';
import { containerPath, type ContainerPath, type Rule } from './rules.js';
import { sanitizePath, sanitizeSegment } from './sanitize.js';

export interface CarbonPathOptions {
  readonly rules: readonly Rule[];
  /** Sanitised path put in front of every path ('' for none). */
  readonly pathPrefix: string;
  /** Sanitised host path (the host name's dots separate its segments, as the Go daemon wrote it). */
  readonly hostPath: string;
}

/** A metric as carbon sees it: a sanitised dotted path, a finite value, Unix seconds. */
export interface CarbonPoint {
  readonly path: string;
  readonly value: number;
  readonly time: number;
}

/** Beyond this many names the memo starts again (a host that churns through unique names). */
const MEMO_MAX = 10_000;

/**
 * The one place a metric becomes a carbon path (docs/architecture.md §3), for every sink that
 * speaks carbon (Backstop, carbon, stdout):
 *
 *   container  [prefix.]<container path>.<name, with the per value before its last segment>
 *   host       [prefix.]<host path>.containers.<category>, [prefix.]<host path>.swarm.services.<service>.running
 *   daemon     [prefix.]<host path>.docker_stats_to_backstop.<name>
 *
 * The container path is the container's name rewritten by the rules and sanitised (rules.ts),
 * memoised by name: the rules run once per name, not once per container per tick per sink. Per
 * values (interface names: untrusted input) are sanitised like any segment.
 */
export class CarbonPaths {
  readonly #o: CarbonPathOptions;
  readonly #prefix: string;
  #memo = new Map<string, ContainerPath>();

  constructor(opts: CarbonPathOptions) {
    this.#o = opts;
    this.#prefix = opts.pathPrefix === '' ? '' : `${opts.pathPrefix}.`;
  }

  /** The container's path and rule category (the rules see the name without its leading `/`). */
  container(ref: ContainerRef): ContainerPath {
    let found = this.#memo.get(ref.name);
    if (found === undefined) {
      if (this.#memo.size >= MEMO_MAX) this.#memo = new Map();
      found = containerPath(this.#o.rules, ref.name, '');
      this.#memo.set(ref.name, found);
    }
    // A name that sanitises to nothing is named by its short id.
    return found.path === '' ? { path: sanitizePath(ref.id.slice(0, 12)), category: found.category } : found;
  }

  /** The full carbon path of a metric. */
  path(m: Metric): string {
    return `${this.#base(m.subject)}${relativePath(m)}`;
  }

  /**
   * The carbon points of a tick's metrics, `prefix` (sanitised, '' for none) in front of each
   * path. A subject's path is built once for the run of metrics about it (a container's metrics
   * come together).
   */
  points(metrics: Iterable<Metric>, prefix = ''): CarbonPoint[] {
    return Array.from({ [Symbol.iterator]: () => this.eachPoint(metrics, prefix) });
  }

  /** The same points, made one by one as they are read (written out: cheaper than a generator). */
  eachPoint(metrics: Iterable<Metric>, prefix = ''): Iterator<CarbonPoint, undefined> {
    const source = metrics[Symbol.iterator]();
    const lead = prefix === '' ? '' : `${prefix}.`;
    let subject: Metric['subject'] | undefined;
    let base = '';
    return {
      next: () => {
        const r = source.next();
        if (r.done) return { done: true, value: undefined };
        const m = r.value;
        if (m.subject !== subject) {
          subject = m.subject;
          base = lead + this.#base(subject);
        }
        return { done: false, value: { path: base + relativePath(m), value: m.value, time: m.time } };
      },
    };
  }

  /** `[prefix.]<subject's path>.` */
  #base(s: Metric['subject']): string {
    const path =
      s.kind === 'container'
        ? this.container(s.container).path
        : s.kind === 'host'
          ? this.#o.hostPath
          : `${this.#o.hostPath}.docker_stats_to_backstop`;
    return `${this.#prefix}${path}.`;
  }

  /**
   * The carbon paths that more than one of these containers is named to, with those containers.
   * Graphite keeps one value per path and time: such containers overwrite each other there.
   * Containers of one name are one container recreated (an Engine never runs two of one name at
   * once), not a collision.
   */
  collisions(containers: Iterable<ContainerRef>): Map<string, ContainerRef[]> {
    const byPath = new Map<string, ContainerRef[]>();
    for (const c of containers) {
      const path = this.container(c).path;
      const list = byPath.get(path);
      if (list) list.push(c);
      else byPath.set(path, [c]);
    }
    for (const [path, list] of byPath) if (new Set(list.map((c) => c.name)).size < 2) byPath.delete(path);
    return byPath;
  }
}

/**
 * A metric's path below its subject: its name, with the per value (sanitised) before the name's
 * last segment, or after a name of one segment: `network.rx_bytes` of `eth0` →
 * `network.eth0.rx_bytes`, `swarm.services.running` of `web` → `swarm.services.web.running`,
 * `containers` of `total` → `containers.total`.
 */
export function relativePath(m: Pick<Metric, 'name' | 'per'>): string {
  if (m.per === undefined) return m.name;
  const segment = sanitizeSegment(m.per.value) || 'unnamed';
  const dot = m.name.lastIndexOf('.');
  return dot === -1 ? `${m.name}.${segment}` : `${m.name.slice(0, dot)}.${segment}${m.name.slice(dot)}`;
}

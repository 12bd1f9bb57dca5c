import type { Metric } from '../../reduce/metric.js';
import type { Tick } from '../sink.js';

/** One Prometheus sample: a family (name, type), its labels and value. */
export interface Series {
  readonly family: string;
  readonly type: 'gauge' | 'counter';
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A Prometheus label name from a container label key (`com.example.team` → `label_com_example_team`). */
export function labelName(key: string): string {
  return `label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The help text of a family: where to read what it means. */
export function familyHelp(family: string): string {
  if (family === 'docker_containers') return 'containers with metrics in the latest batch, in all (category "total") and per rule category';
  if (family.startsWith('docker_stats_to_backstop_')) return "the daemon's own metric (see the README's self-metrics table)";
  if (family.startsWith('docker_swarm_service_tasks_')) {
    return "a swarm service's tasks, as a manager counts them (see the README's per-host table)";
  }
  return "a container's metric (see the README's metric table)";
}

/**
 * Pure: one structured metric → its Prometheus series, never through a carbon path:
 *
 *   container  docker_container_<group>[_interface|_device]_<name>{name,id,image,label_…[,interface|device]}
 *   host       docker_containers{category}, docker_swarm_service_tasks_{running,desired}{service}
 *   daemon     docker_stats_to_backstop_<name>
 *
 * Counters get the `_total` suffix (once: `cpu.total` is `docker_container_cpu_total`). Label values are the facts as the metric carries them (the
 * container as of its tick); prom-client escapes them.
 */
export function toSeries(m: Metric, containerLabels: readonly string[]): Series {
  const type = m.kind;
  const total = type === 'counter' ? '_total' : '';
  const s = m.subject;
  if (s.kind === 'host') {
    return { family: hostFamily(m.name), type, labels: m.per ? { [m.per.key]: m.per.value } : {}, value: m.value };
  }
  if (s.kind === 'daemon') return { family: `docker_stats_to_backstop_${m.name}${total}`, type, labels: {}, value: m.value };
  const c = s.container;
  const labels: Record<string, string> = { name: c.name, id: c.id, image: c.image };
  for (const key of containerLabels) labels[labelName(key)] = c.labels[key] ?? '';
  const segments = m.name.split('.');
  if (m.per) {
    labels[m.per.key] = m.per.value;
    segments.splice(1, 0, m.per.key);
  }
  const family = `docker_container_${segments.join('_')}`;
  // `cpu.total` is already a total.
  return { family: family.endsWith('_total') ? family : `${family}${total}`, type, labels, value: m.value };
}

/** Host metrics whose Prometheus name says more than their carbon path does. */
const HOST_FAMILIES: Readonly<Record<string, string>> = {
  'swarm.services.running': 'docker_swarm_service_tasks_running',
  'swarm.services.desired': 'docker_swarm_service_tasks_desired',
};

function hostFamily(name: string): string {
  return HOST_FAMILIES[name] ?? `docker_${name.replaceAll('.', '_')}`;
}

/**
 * The latest value of every series, across ticks: a tick replaces the host and daemon series and
 * the series of each container it holds; a container the tick lacks keeps its last values while
 * it is still followed (a stream may skip one short interval) and disappears once it is
 * not (it died or was removed). Containers are told apart by id, so two containers the naming
 * rules give one carbon path are two sets of series here. The group `disk` is measured less often
 * than every tick: a container's disk series are kept until measured again.
 */
export class LatestSeries {
  readonly #labels: readonly string[];
  #other: Series[] = [];
  readonly #containers = new Map<string, Series[]>();
  /** Containers whose kept series hold disk series. */
  readonly #withDisk = new Set<string>();

  constructor(containerLabels: readonly string[]) {
    this.#labels = containerLabels;
  }

  update(tick: Tick): Series[] {
    const other: Series[] = [];
    const fresh = new Map<string, Series[]>();
    const freshDisk = new Set<string>();
    for (const m of tick.metrics) {
      const series = toSeries(m, this.#labels);
      if (m.subject.kind !== 'container') other.push(series);
      else {
        const id = m.subject.container.id;
        if (m.name.startsWith(DISK)) freshDisk.add(id);
        const list = fresh.get(id);
        if (list) list.push(series);
        else fresh.set(id, [series]);
      }
    }
    if (other.length > 0) this.#other = other;
    const followed = new Set(tick.followed.map((c) => c.id));
    for (const id of this.#containers.keys()) {
      if (fresh.has(id) || followed.has(id)) continue;
      this.#containers.delete(id);
      this.#withDisk.delete(id);
    }
    for (const [id, series] of fresh) {
      const previous = this.#containers.get(id);
      const keepDisk = previous && (freshDisk.has(id) || this.#withDisk.has(id));
      const merged = keepDisk ? withDiskKept(series, previous) : series;
      this.#containers.set(id, merged);
      if (freshDisk.has(id) || merged !== series) this.#withDisk.add(id);
      else this.#withDisk.delete(id);
    }
    return [...this.#other, ...[...this.#containers.values()].flat()];
  }
}

const DISK = 'disk.';
const DISK_FAMILY = 'docker_container_disk_';

/**
 * A container's series of this tick, plus the disk series of the previous ones that this tick
 * lacks; a tick that holds only disk series (the container sent no sample in it) keeps the rest.
 */
function withDiskKept(fresh: Series[], previous: readonly Series[]): Series[] {
  const have = new Set(fresh.map((s) => s.family));
  const onlyDisk = fresh.every((s) => s.family.startsWith(DISK_FAMILY));
  const kept = previous.filter((s) => !have.has(s.family) && (onlyDisk || s.family.startsWith(DISK_FAMILY)));
  return kept.length === 0 ? fresh : [...fresh, ...kept];
}

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
  return "a container's metric (see the README's metric table)";
}

/**
 * Pure: one structured metric → its Prometheus series, never through a carbon path:
 *
 *   container  docker_container_<group>[_interface|_device]_<name>{name,id,image,label_…[,interface|device]}
 *   host       docker_containers{category}
 *   daemon     docker_stats_to_backstop_<name>
 *
 * Counters get the `_total` suffix (once: `cpu.total` is `docker_container_cpu_total`). Label values are the facts as the metric carries them (the
 * container as of its tick); prom-client escapes them.
 */
export function toSeries(m: Metric, containerLabels: readonly string[]): Series {
  const type = m.kind;
  const total = type === 'counter' ? '_total' : '';
  const s = m.subject;
  if (s.kind === 'host') return { family: `docker_${m.name}`, type, labels: m.per ? { [m.per.key]: m.per.value } : {}, value: m.value };
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

/**
 * The latest value of every series, across ticks: a tick replaces the host and daemon series and
 * the series of each container it holds; a container the tick lacks keeps its last values while
 * it is still followed (a stats stream may skip one short interval) and disappears once it is
 * not (it died or was removed). Containers are told apart by id, so two containers the naming
 * rules give one carbon path are two sets of series here.
 */
export class LatestSeries {
  readonly #labels: readonly string[];
  #other: Series[] = [];
  readonly #containers = new Map<string, Series[]>();

  constructor(containerLabels: readonly string[]) {
    this.#labels = containerLabels;
  }

  update(tick: Tick): Series[] {
    const other: Series[] = [];
    const fresh = new Map<string, Series[]>();
    for (const m of tick.metrics) {
      const series = toSeries(m, this.#labels);
      if (m.subject.kind !== 'container') other.push(series);
      else {
        const list = fresh.get(m.subject.container.id);
        if (list) list.push(series);
        else fresh.set(m.subject.container.id, [series]);
      }
    }
    if (other.length > 0) this.#other = other;
    const followed = new Set(tick.followed.map((c) => c.id));
    for (const id of this.#containers.keys()) if (!fresh.has(id) && !followed.has(id)) this.#containers.delete(id);
    for (const [id, series] of fresh) this.#containers.set(id, series);
    return [...this.#other, ...[...this.#containers.values()].flat()];
  }
}

import type { Metric } from '../../model/metric.js';
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

/** What the families of the lifecycle, limit and kernel metrics mean; the rest point to the README's tables. */
const HELP: Readonly<Record<string, string>> = {
  docker_containers: 'containers with metrics in the latest batch, in all (category "total") and per rule category',
  docker_containers_state:
    'containers matching the filters in each state (running, paused, restarting, exited, created, dead)',
  docker_containers_health: 'containers matching the filters in each health state (healthy, unhealthy, starting)',
  docker_swarm_service_tasks_running:
    "the swarm service's tasks running now, as the managers count them (GET /services?status=true)",
  docker_swarm_service_tasks_desired: "the swarm service's tasks it should run (its desired count)",
  docker_container_oom_kills_total: "processes in the container the kernel's OOM killer killed since it started",
  docker_container_exit_code: 'the exit code of a stopped container, exposed until it starts again (at most an hour)',
  docker_container_oom_killed:
    '1 if the stopped container was OOM-killed (State.OOMKilled), else 0; exposed like exit_code',
  docker_container_cpu_limit:
    'the CPUs the container may use (NanoCpus, else quota/period, else its cpuset); absent when unlimited',
  docker_container_cpu_percent_of_limit: "the container's CPU use as a percentage of its CPU limit",
  docker_container_memory_failcnt_total: 'times the cgroup v1 memory usage hit its limit',
  docker_container_memory_reservation: "the container's memory soft limit (MemoryReservation) in bytes",
  docker_container_disk_rw_bytes: "bytes in the container's writable layer (SizeRw), measured every --disk-interval",
  docker_container_disk_root_bytes: "bytes of the container's root file system, image layers included (SizeRootFs)",
};

/** The help text of a family: what it means, or where to read it. */
export function familyHelp(family: string): string {
  const known = HELP[family];
  if (known) return known;
  const event = /^docker_container_memory_events_(\w+)_total$/.exec(family);
  if (event) return `cgroup v2 memory.events ${event[1]}: times the kernel counted it since the container started`;
  const stall = /^docker_container_pressure_(cpu|memory|io)_(some|full)_seconds_total$/.exec(family);
  if (stall) {
    const who = stall[2] === 'some' ? 'some' : 'all';
    return `seconds ${who} of the container's tasks stalled on ${stall[1]} (cgroup v2 ${stall[1]}.pressure)`;
  }
  const percent = /^docker_container_pressure_(cpu|memory|io)_some_percent$/.exec(family);
  if (percent) return `percentage of the interval some of the container's tasks stalled on ${percent[1]} (cgroup v2)`;
  if (family.startsWith('docker_stats_to_backstop_'))
    return "the daemon's own metric (see the README's self-metrics table)";
  if (family.startsWith('docker_swarm_service_tasks_')) {
    return "a swarm service's tasks, as a manager counts them (see the README's per-host table)";
  }
  return "a container's metric (see the README's metric table)";
}

/**
 * Pure: one structured metric → its Prometheus series, never through a carbon path:
 *
 *   container  docker_container_<group>[_interface|_device]_<name>{name,id,image,label_…[,interface|device]}
 *   host       docker_<name with _>{category|state|health}: `containers_state` → docker_containers_state{state};
 *              swarm.services.running{service} → docker_swarm_service_tasks_running{service} (and desired)
 *   daemon     docker_stats_to_backstop_<name>
 *
 * Counters get the `_total` suffix (once: `cpu.total` is `docker_container_cpu_total`). Label values are
 * the facts as the metric carries them (the container as of its tick); prom-client escapes them.
 */
export function toSeries(m: Metric, containerLabels: readonly string[]): Series {
  const type = m.kind;
  const total = type === 'counter' ? '_total' : '';
  const s = m.subject;
  if (s.kind === 'host') {
    return { family: hostFamily(m.name), type, labels: m.per ? { [m.per.key]: m.per.value } : {}, value: m.value };
  }
  if (s.kind === 'daemon')
    return { family: `docker_stats_to_backstop_${m.name}${total}`, type, labels: {}, value: m.value };
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

/** Metrics sent once when a container stops, which must outlive its other series for an alert to see them. */
const EXIT_NAMES: ReadonlySet<string> = new Set(['exit_code', 'oom_killed']);

/** How long, and for how many stopped containers at most, exit series stay exposed. */
export const EXIT_RETENTION = { seconds: 3600, containers: 1000 } as const;

/**
 * The latest value of every series, across ticks: a tick replaces the host and daemon series and
 * the series of each container it holds; a container the tick lacks keeps its last values while
 * it is still followed (a stream may skip one short interval) and disappears once it is
 * not (it died or was removed). Containers are told apart by id, so two containers the naming
 * rules give one carbon path are two sets of series here. The group `disk` is measured less often
 * than every tick: a container's disk series are kept until measured again.
 *
 * A stopped container's `exit_code` and `oom_killed`, sent in one tick only, stay until that
 * container reports again (it started again), for at most `EXIT_RETENTION.seconds` of tick time,
 * and for at most `EXIT_RETENTION.containers` stopped containers (the oldest go first): a removed
 * container looks like a stopped one here, so time and number bound them.
 */
export class LatestSeries {
  readonly #labels: readonly string[];
  readonly #retention: { readonly seconds: number; readonly containers: number };
  #other: Series[] = [];
  readonly #containers = new Map<string, Series[]>();
  /** Containers whose kept series hold disk series. */
  readonly #withDisk = new Set<string>();
  /** By id, in the order they stopped: the exit series and the tick time they came in. */
  readonly #exits = new Map<string, { readonly series: Series[]; readonly time: number }>();

  constructor(
    containerLabels: readonly string[],
    retention: { readonly seconds: number; readonly containers: number } = EXIT_RETENTION,
  ) {
    this.#labels = containerLabels;
    this.#retention = retention;
  }

  update(tick: Tick): Series[] {
    const other: Series[] = [];
    const fresh = new Map<string, Series[]>();
    const freshDisk = new Set<string>();
    const exits = new Map<string, Series[]>();
    for (const m of tick.metrics) {
      const series = toSeries(m, this.#labels);
      if (m.subject.kind !== 'container') other.push(series);
      else {
        const id = m.subject.container.id;
        if (m.name.startsWith(DISK)) freshDisk.add(id);
        const into = EXIT_NAMES.has(m.name) ? exits : fresh;
        const list = into.get(id);
        if (list) list.push(series);
        else into.set(id, [series]);
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
    this.#keepExits(exits, fresh, tick);
    const exited = [...this.#exits.values()].flatMap((e) => e.series);
    return [...this.#other, ...[...this.#containers.values()].flat(), ...exited];
  }

  #keepExits(exits: ReadonlyMap<string, Series[]>, fresh: ReadonlyMap<string, Series[]>, tick: Tick): void {
    const { time, existing } = tick;
    // A disk measurement, made in the background, does not say the container runs again.
    const running = (series: readonly Series[]) => series.some((x) => !x.family.startsWith(DISK_FAMILY));
    for (const [id, series] of fresh) if (!exits.has(id) && running(series)) this.#exits.delete(id);
    for (const [id, series] of exits) {
      this.#exits.delete(id);
      this.#exits.set(id, { series, time });
    }
    for (const [id, e] of this.#exits) {
      // The tick that brings an exit shows it, even of a container already removed (`--rm`).
      const removed = existing !== undefined && !existing.has(id) && !exits.has(id);
      if (time - e.time >= this.#retention.seconds || removed) this.#exits.delete(id);
    }
    for (const id of this.#exits.keys()) {
      if (this.#exits.size <= this.#retention.containers) break;
      this.#exits.delete(id);
    }
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

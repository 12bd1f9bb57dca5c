import { containerPath, type Rule } from '../../naming/rules.js';
import type { Metric } from '../../reduce/metric.js';

/** A followed container as the Prometheus sinks label it (the watcher's inspect info). */
export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One Prometheus sample: a family (name, type, help), its labels and value. */
export interface Series {
  readonly family: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The container path, for container series; undefined for host and self series. */
  readonly container?: string;
}

export interface SeriesOptions {
  readonly rules: readonly Rule[];
  /** Sanitised; '' for none. */
  readonly pathPrefix: string;
  readonly hostPath: string;
  /** Container label keys exposed as Prometheus labels (`label_<key>`). */
  readonly containerLabels: readonly string[];
}

/** Metric leaves (after the group) that count up; everything else is a gauge. */
const COUNTERS = new Set([
  'cpu.system', 'cpu.total', 'cpu.kernel', 'cpu.user', 'cpu.throttled_periods', 'cpu.throttled_time',
  'memory.pgfault', 'memory.pgmajfault', 'blkio.read_bytes', 'blkio.write_bytes',
  'network.rx_bytes', 'network.tx_bytes', 'network.rx_packets', 'network.tx_packets',
  'network.rx_errors', 'network.tx_errors', 'network.rx_dropped', 'network.tx_dropped',
]);
const SELF_COUNTERS = new Set(['samples', 'metrics_sent', 'send_failures', 'dropped', 'stream_restarts', 'bad_samples']);
const GROUPS = new Set(['cpu', 'memory', 'network', 'blkio', 'pids', 'health']);
const PER_INTERFACE = /^(rx|tx)_(bytes|packets|errors|dropped)$/;
const PER_DEVICE = /^(read|write)_bytes$/;

/** A Prometheus label name from a container label key (`com.example.team` → `label_com_example_team`). */
export function labelName(key: string): string {
  return `label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * Turns the carbon batch the daemon builds into Prometheus series. Pure apart from `containers`,
 * which is read once per call. A container metric's path is `[prefix.]<container path>.<metric>`:
 * the metric part is recognised from the end (`cpu.total`, `network.eth0.rx_bytes`, `uptime`), the
 * container path is looked up among the followed containers (and those of the previous call, so a
 * container that went away between ticks still gets its last labels); unknown ones are labelled by
 * their path alone. Host and self metrics (under the host path) become `docker_containers` and
 * `docker_stats_to_backstop_*`. Later items win over earlier ones for the same series.
 */
export class SeriesMapper {
  readonly #o: SeriesOptions;
  #known = new Map<string, ContainerInfo>();

  constructor(opts: SeriesOptions) {
    this.#o = opts;
  }

  /** The container paths of these containers. */
  paths(containers: readonly ContainerInfo[]): Map<string, ContainerInfo> {
    const byPath = new Map<string, ContainerInfo>();
    for (const c of containers) byPath.set(containerPath(this.#o.rules, c.name, c.id.slice(0, 12)).path, c);
    return byPath;
  }

  map(items: readonly Metric[], containers: readonly ContainerInfo[]): Series[] {
    const byPath = this.paths(containers);
    const used = new Map<string, ContainerInfo>();
    const out = new Map<string, Series>();
    const prefix = this.#o.pathPrefix === '' ? '' : `${this.#o.pathPrefix}.`;
    const host = `${this.#o.hostPath}.`;
    for (const m of items) {
      if (!m.path.startsWith(prefix)) continue;
      const path = m.path.slice(prefix.length);
      let s: Series | undefined;
      if (path.startsWith(`${host}containers.`)) {
        const category = path.slice(host.length + 'containers.'.length);
        s = {
          family: 'docker_containers',
          type: 'gauge',
          help: 'containers with metrics in the latest batch, in all (category "total") and per rule category',
          labels: { category },
          value: m.value,
        };
      } else if (path.startsWith(`${host}docker_stats_to_backstop.`)) {
        const name = path.slice(host.length + 'docker_stats_to_backstop.'.length);
        const counter = SELF_COUNTERS.has(name);
        s = {
          family: `docker_stats_to_backstop_${name}${counter ? '_total' : ''}`,
          type: counter ? 'counter' : 'gauge',
          help: `the daemon's own ${name} (see the README's self-metrics table)`,
          labels: {},
          value: m.value,
        };
      } else {
        s = this.#containerSeries(path, m.value, byPath, used);
      }
      if (s) out.set(`${s.family}${JSON.stringify(s.labels)}`, s);
    }
    this.#known = used;
    return [...out.values()];
  }

  #containerSeries(path: string, value: number, byPath: Map<string, ContainerInfo>, used: Map<string, ContainerInfo>): Series | undefined {
    const seg = path.split('.');
    const n = seg.length;
    let metric: string[];
    let extra: Record<string, string> = {};
    if (n >= 4 && seg[n - 3] === 'network' && PER_INTERFACE.test(seg[n - 1]!)) {
      metric = ['network', 'interface', seg[n - 1]!];
      extra = { interface: seg[n - 2]! };
    } else if (n >= 4 && seg[n - 3] === 'blkio' && PER_DEVICE.test(seg[n - 1]!)) {
      metric = ['blkio', 'device', seg[n - 1]!];
      extra = { device: seg[n - 2]! };
    } else if (n >= 3 && GROUPS.has(seg[n - 2]!)) {
      metric = [seg[n - 2]!, seg[n - 1]!];
    } else if (n >= 2 && (seg[n - 1] === 'uptime' || seg[n - 1] === 'restarts')) {
      metric = [seg[n - 1]!];
    } else return undefined;
    const cpath = seg.slice(0, n - metric.length).join('.');
    const info = byPath.get(cpath) ?? this.#known.get(cpath);
    if (info) used.set(cpath, info);
    const labels: Record<string, string> = {
      name: info?.name ?? cpath,
      id: info?.id ?? '',
      image: info?.image ?? '',
    };
    for (const key of this.#o.containerLabels) labels[labelName(key)] = info?.labels[key] ?? '';
    Object.assign(labels, extra);
    const leaf = `${metric[0]}.${metric.at(-1)}`;
    const counter = COUNTERS.has(leaf) || metric[0] === 'restarts';
    const base = `docker_container_${metric.join('_')}`;
    return {
      family: counter && !base.endsWith('_total') ? `${base}_total` : base,
      type: counter ? 'counter' : 'gauge',
      help: `the container's ${metric.join('.')} (see the README's metric table)`,
      labels,
      value,
      container: cpath,
    };
  }
}

/**
 * The latest value of every series, across batches: a batch replaces the host and self series
 * and the series of each container it holds; a container the batch lacks keeps its last values
 * while it is still followed (a stats stream may skip one short interval) and disappears once it
 * is not (it died or was removed).
 */
export class LatestSeries {
  readonly #mapper: SeriesMapper;
  #host: Series[] = [];
  readonly #containers = new Map<string, Series[]>();

  constructor(opts: SeriesOptions) {
    this.#mapper = new SeriesMapper(opts);
  }

  update(items: readonly Metric[], containers: readonly ContainerInfo[]): Series[] {
    const fresh = this.#mapper.map(items, containers);
    const host: Series[] = [];
    const byContainer = new Map<string, Series[]>();
    for (const s of fresh) {
      if (s.container === undefined) host.push(s);
      else byContainer.set(s.container, [...(byContainer.get(s.container) ?? []), s]);
    }
    if (host.length > 0) this.#host = host;
    const followed = this.#mapper.paths(containers);
    for (const path of this.#containers.keys()) if (!byContainer.has(path) && !followed.has(path)) this.#containers.delete(path);
    for (const [path, series] of byContainer) this.#containers.set(path, series);
    return [...this.#host, ...[...this.#containers.values()].flat()];
  }
}

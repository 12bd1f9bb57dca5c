import type { BackstopReceiver, StoredPoint } from './backstop-receiver.js';

/**
 * Counting a run's ticks at the receiver. Every tick's batch holds the daemon's own metrics and
 * the host's `containers.total`, all stamped with the tick's second: those paths are the tick's
 * markers, so a tick "arrived whole" when each of its markers did. A container's metrics are
 * stamped with its sample's second instead (the tick's or the one before), so they are checked per
 * path. A tick that did not arrive must be counted in the daemon's `dropped`.
 */

const SELF = 'docker_stats_to_backstop';

/** The daemon's own metric `name` as the receiver stores it (without Backstop's prefix). */
export const selfPath = (hostPath: string, name: string): string => `${hostPath}.${SELF}.${name}`;

/** The highest value of one of the daemon's own counters the receiver got (counters restart with the daemon). */
export function selfCounter(points: readonly StoredPoint[], hostPath: string, name: string): number | undefined {
  const path = selfPath(hostPath, name);
  let max: number | undefined;
  for (const p of points) if (p.metric === path && (max === undefined || p.value > max)) max = p.value;
  return max;
}

/** What one tick looked like: its second, its items, its markers and each container's paths. */
export interface ReferenceTick {
  readonly second: number;
  readonly items: number;
  readonly markers: string[];
  readonly containers: Record<string, string[]>;
}

/**
 * The last tick a healthy receiver got on its own in one request, and only once (the daemon's first
 * ticks can differ: their interval started with it; a tick sent twice may differ the second time).
 */
export function referenceTick(r: BackstopReceiver, hostPath: string, names: readonly string[]): ReferenceTick {
  const marker = selfPath(hostPath, 'samples');
  const sent = new Map<number, number>();
  for (const p of r.points) if (p.metric === marker) sent.set(p.measure_time, (sent.get(p.measure_time) ?? 0) + 1);
  for (const q of [...r.requests].reverse()) {
    if (q.status !== 200) continue;
    const items = JSON.parse(q.body) as { metric: string; measure_time: number }[];
    const markers = items.filter((i) => i.metric === marker);
    if (markers.length !== 1 || sent.get(markers[0]!.measure_time) !== 1) continue;
    const second = markers[0]!.measure_time;
    const own = (m: string): boolean => m.startsWith(`${hostPath}.${SELF}.`) || m === `${hostPath}.containers.total`;
    const paths = (keep: (m: string) => boolean): string[] =>
      [...new Set(items.map((i) => i.metric).filter(keep))].sort();
    return {
      second,
      items: items.length,
      markers: paths((m) => own(m) && items.some((i) => i.metric === m && i.measure_time === second)),
      containers: Object.fromEntries(names.map((c) => [c, paths((m) => m.startsWith(`${c}.`))])),
    };
  }
  throw new Error(`no healthy single-tick request among ${r.requests.length}`);
}

/** What the daemon said about its totals in its `stopped` log line, when it says so. */
export function stopTotals(stderr: string): { produced: number; dropped: number } | undefined {
  const line = stderr.split('\n').find((l) => / stopped /.test(l) && /\bproduced=\d+/.test(l));
  if (line === undefined) return undefined;
  const field = (name: string): number => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? Number.NaN);
  return { produced: field('produced'), dropped: field('dropped') };
}

export interface TickAccount {
  /** Every tick second from `from` to `to`. */
  readonly ticks: number[];
  /** Those whose markers did not all arrive. */
  readonly lost: number[];
  /** Per container: the whole ticks at which one of its paths has no point of that second or the one before. */
  readonly containerHoles: Record<string, number[]>;
  /** Tick seconds whose markers arrived more than once (at-least-once allows it). */
  readonly duplicated: number;
  /** Items of the lost ticks (lost ticks times a healthy tick's items). */
  readonly lostItems: number;
  readonly dropped: number;
  readonly text: string;
}

export interface AccountOptions {
  readonly hostPath: string;
  /** First and last tick second of the run to account for. */
  readonly from: number;
  readonly to: number;
  readonly markers: readonly string[];
  /** Per container, the paths each whole tick must have (stamped with its second or the one before). */
  readonly containers: Record<string, readonly string[]>;
  /** A healthy tick's items. */
  readonly tickItems: number;
  /** The daemon's `dropped` count for the run. */
  readonly dropped: number;
}

/** Which ticks of the run arrived whole, and whether `dropped` covers the rest. */
export function accountTicks(points: readonly StoredPoint[], o: AccountOptions): TickAccount {
  const got = new Map<number, Map<string, number>>();
  const markers = new Set(o.markers);
  const seconds = new Map<string, Set<number>>();
  for (const p of points) {
    if (markers.has(p.metric)) {
      const at = got.get(p.measure_time) ?? new Map<string, number>();
      at.set(p.metric, (at.get(p.metric) ?? 0) + 1);
      got.set(p.measure_time, at);
    }
    const set = seconds.get(p.metric) ?? new Set<number>();
    set.add(p.measure_time);
    seconds.set(p.metric, set);
  }
  const ticks = Array.from({ length: o.to - o.from + 1 }, (_, i) => o.from + i);
  const lost = ticks.filter((t) => (got.get(t)?.size ?? 0) < markers.size);
  const duplicated = ticks.filter((t) => [...(got.get(t)?.values() ?? [])].some((n) => n > 1)).length;
  const containerHoles: Record<string, number[]> = {};
  const missingPaths = new Set<string>();
  for (const [c, paths] of Object.entries(o.containers)) {
    const has = (path: string, t: number): boolean =>
      seconds.get(path)?.has(t) === true || seconds.get(path)?.has(t - 1) === true;
    containerHoles[c] = ticks.filter((t) => !lost.includes(t) && !paths.every((path) => has(path, t)));
    const first = containerHoles[c][0];
    if (first !== undefined) for (const path of paths.filter((path) => !has(path, first))) missingPaths.add(path);
  }
  const lostItems = lost.length * o.tickItems;
  const holes = Object.entries(containerHoles).map(([c, h]) => `${c}: ${ranges(h) || 'none'}`);
  const text =
    `ticks ${o.from}..${o.to}: ${ticks.length}, lost ${lost.length} (${ranges(lost)}), ` +
    `${lostItems} items (${o.tickItems} a tick); dropped ${o.dropped}; duplicated ticks ${duplicated}; ` +
    `container holes ${holes.join(', ')}${missingPaths.size > 0 ? ` (missing ${[...missingPaths].join(' ')})` : ''}`;
  return { ticks, lost, containerHoles, duplicated, lostItems, dropped: o.dropped, text };
}

/** 1,2,3,7 → "1-3 7". */
export function ranges(seconds: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < seconds.length; ) {
    let j = i;
    while (j + 1 < seconds.length && seconds[j + 1] === seconds[j]! + 1) j += 1;
    out.push(i === j ? `${seconds[i]}` : `${seconds[i]}-${seconds[j]}`);
    i = j + 1;
  }
  return out.join(' ');
}

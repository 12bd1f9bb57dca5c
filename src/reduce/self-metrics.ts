import { DAEMON, type Metric, type MetricKind } from '../model/metric.js';

/** The daemon's report on itself, as of one tick (summed over the sinks where it applies). */
export interface DaemonStats {
  /** Real stats samples received since start. */
  readonly samples: number;
  /** Metrics the sinks delivered since start. */
  readonly metricsSent: number;
  /** Failed send attempts since start (each retry counts). */
  readonly sendFailures: number;
  /** Metrics waiting in memory now. */
  readonly buffered: number;
  /** Bytes waiting in the spools now. */
  readonly spooledBytes: number;
  /** Metrics lost to a full buffer (no spool) or a full spool since start. */
  readonly dropped: number;
  /** Stats streams open now. */
  readonly streamsOpen: number;
  /** Streams reopened since start (ended on their own, stalled, or broken). */
  readonly streamRestarts: number;
  /**
   * Stats lines and events that were not JSON objects, and samples stamped too far ahead of the
   * daemon's clock (dropped), since start.
   */
  readonly badSamples: number;
  /** How long the previous tick took to build its batch and hand it to the sinks, in seconds. */
  readonly tickSeconds: number;
  /** Carbon paths that more than one container of this tick was named to. */
  readonly pathCollisions: number;
  /** Ticks not built since start (the clock jumped forward, a collection overran); their samples went to the next. */
  readonly ticksSkipped: number;
  /** Spool writes, reads and syncs that failed since start (the sink then goes on from memory). */
  readonly spoolErrors: number;
}

/** Each figure's metric name and kind: the one table of the daemon's own metrics. */
const SELF: readonly (readonly [keyof DaemonStats, string, MetricKind])[] = [
  ['samples', 'samples', 'counter'],
  ['metricsSent', 'metrics_sent', 'counter'],
  ['sendFailures', 'send_failures', 'counter'],
  ['buffered', 'buffered', 'gauge'],
  ['spooledBytes', 'spooled_bytes', 'gauge'],
  ['dropped', 'dropped', 'counter'],
  ['streamsOpen', 'streams_open', 'gauge'],
  ['streamRestarts', 'stream_restarts', 'counter'],
  ['badSamples', 'bad_samples', 'counter'],
  ['tickSeconds', 'tick_seconds', 'gauge'],
  ['pathCollisions', 'path_collisions', 'gauge'],
  ['ticksSkipped', 'ticks_skipped', 'counter'],
  ['spoolErrors', 'spool_errors', 'counter'],
];

/** Pure: the daemon's figures → its metrics, stamped with the tick. */
export function selfMetrics(stats: DaemonStats, tickSeconds: number): Metric[] {
  return SELF.map(([key, name, kind]) => ({
    subject: DAEMON,
    name,
    per: undefined,
    kind,
    value: stats[key],
    time: tickSeconds,
  }));
}

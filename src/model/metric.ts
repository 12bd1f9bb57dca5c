import type { ContainerRef } from './container.js';

/**
 * The metric model every sink encodes from (docs/architecture.md §1). A metric stays structured
 * from the reducer to the sink: whom it is about, its own name, its kind, its value and time.
 * Sinks build what their wire format needs from that (a carbon path, a Prometheus family and
 * labels) and never parse one back.
 */

/** Whom a metric is about. */
export type Subject =
  /** One container, with its name, image and labels as of the tick. */
  | { readonly kind: 'container'; readonly container: ContainerRef }
  /** The Docker host (`containers.total`, `containers.<category>`). */
  | { readonly kind: 'host' }
  /** The daemon itself (`samples`, `metrics_sent`, …). */
  | { readonly kind: 'daemon' };

export const HOST: Subject = Object.freeze({ kind: 'host' });
export const DAEMON: Subject = Object.freeze({ kind: 'daemon' });

/** A counter only goes up (it may start again from 0 after a restart); a gauge is a reading. */
export type MetricKind = 'counter' | 'gauge';

/**
 * What a per-interface, per-device or per-category metric is per: `network.rx_bytes` of
 * interface `eth0`, `blkio.read_bytes` of device `8_0`, `containers` of category `total`,
 * `swarm.services.running` of service `web`. The value is as the source gave it (an interface or
 * service name is untrusted input); sinks sanitise or escape it.
 */
export interface Per {
  readonly key: 'interface' | 'device' | 'category' | 'state' | 'health' | 'service';
  readonly value: string;
}

export interface Metric {
  readonly subject: Subject;
  /** Dotted, relative to the subject: `cpu.total`, `network.rx_bytes`, `uptime`, `containers`. */
  readonly name: string;
  readonly per?: Per | undefined;
  readonly kind: MetricKind;
  /** A finite number. */
  readonly value: number;
  /** Unix seconds. */
  readonly time: number;
}

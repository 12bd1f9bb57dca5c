import type { ContainerExit, ContainerRef } from './container.js';
import type { SampleValues } from './sample-values.js';

/**
 * Called for every sample a collector gets, in order per container: the container as of the
 * sample, and the sample's values (undefined for a stopped container's placeholder sample).
 */
export type SampleHandler = (container: ContainerRef, values: SampleValues | undefined) => void;

/** Told which containers to follow; called in order for any one container. */
export interface ContainerListener {
  /** A running container that passes the filter: new, or with new facts (a rename, a health change). */
  follow(container: ContainerRef): void;
  /** It stopped, was removed, or no longer passes the filter. */
  unfollow(id: string): void;
}

/** Called once per `die` of a followed (or filter-passing) container, in every mode (docker/tracker.ts). */
export type ExitHandler = (exit: ContainerExit) => void;

/** What a collector says about itself (the daemon's own metrics, /healthz, --once). */
export interface CollectorStatus {
  /** Whether the Engine answered the last list or event subscription. */
  readonly engineReachable: boolean;
  /** The containers followed now. */
  readonly followed: readonly ContainerRef[];
  readonly streamsOpen: number;
  /** Streams reopened since start (ended on their own, stalled, or broken). */
  readonly streamRestarts: number;
  /** Stats lines, one-shot answers and events that were not JSON objects, since start. */
  readonly badSamples: number;
}

/**
 * Where samples come from: one collector per `--mode`, picked once. Every collector follows the
 * Engine's containers through the container tracker (docker/tracker.ts) and hands each sample to its
 * SampleHandler. Lifecycle: start() once; collect() before each tick's batch (and not again
 * before it resolves); stop() once.
 */
export interface Collector {
  /**
   * 'continuous': samples arrive on their own, about once a second per container, so an interval
   * holds several. 'per-tick': collect() takes one per container, so a rate needs the previous
   * tick's sample.
   */
  readonly sampling: 'continuous' | 'per-tick';
  /** Resolves once the running containers have been listed (or on stop). */
  readonly ready: Promise<void>;
  /** Resolves with a message if the collector cannot work with this Engine at all. */
  readonly failed: Promise<string>;
  start(): void;
  /** What the tick needs before its batch is built: nothing for streams, one sample each for one-shot. */
  collect(): Promise<void>;
  stop(): Promise<void>;
  status(): CollectorStatus;
}

/**
 * The Engine's side of a collector that reads samples itself (cgroup mode), made by docker/ and
 * handed over by the daemon: which containers to follow, told to the listener it was made with,
 * and a stats stream for each container handed to `streams` (one the collector cannot read).
 * Lifecycle as a Collector's: start() once, stop() once.
 */
export interface FollowedContainers {
  /** Resolves once the running containers have been listed (or on stop). */
  readonly ready: Promise<void>;
  readonly streams: ContainerListener & {
    /** Resolves once what the Engine sent until the call has reached the SampleHandler. */
    flush(): Promise<void>;
  };
  start(): void;
  stop(): Promise<void>;
  status(): CollectorStatus;
}

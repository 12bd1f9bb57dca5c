import type { CollectorStatus } from '../model/collector.js';
import type { ContainerRef } from '../model/container.js';

/** What the status needs of a container tracker (tracker.ts) and of stats streams (stream-collector.ts). */
interface StatusSources {
  readonly tracker: { readonly connected: boolean; followed(): ContainerRef[]; readonly badEvents: number };
  readonly streams?: { readonly streamsOpen: number; readonly streamRestarts: number; readonly badLines: number };
  /** Answers other than stats lines that were not stats objects (one-shot). */
  readonly badAnswers?: number;
}

/** A collector's status, from its tracker and its streams. */
export function collectorStatus({ tracker, streams, badAnswers = 0 }: StatusSources): CollectorStatus {
  return {
    engineReachable: tracker.connected,
    followed: tracker.followed(),
    streamsOpen: streams?.streamsOpen ?? 0,
    streamRestarts: streams?.streamRestarts ?? 0,
    badSamples: (streams?.badLines ?? 0) + badAnswers + tracker.badEvents,
  };
}

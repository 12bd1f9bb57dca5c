import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Collector, SampleHandler } from './collector.js';
import type { EngineClient } from './engine.js';
import type { ContainerFilter } from './filter.js';
import { OneShotCollector } from './oneshot-collector.js';
import { StreamCollector } from './stream-collector.js';

export interface CollectorDeps {
  readonly mode: 'stream' | 'oneshot';
  readonly engine: EngineClient;
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly stallTimeoutMs: number;
  readonly concurrency: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onSample: SampleHandler;
  readonly random?: () => number;
}

/** The collector of a mode. */
export function createCollector(deps: CollectorDeps): Collector {
  switch (deps.mode) {
    case 'stream':
      return new StreamCollector(deps);
    case 'oneshot':
      return new OneShotCollector(deps);
  }
}

import pLimit from 'p-limit';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { collectorStatus } from './collector-status.js';
import type { Collector, CollectorStatus, ExitHandler, SampleHandler } from '../model/collector.js';
import type { ContainerRef } from '../model/container.js';
import { apiBelow, withTimeout } from './engine-calls.js';
import type { EngineClient } from './engine.js';
import type { ContainerFilter } from './filter.js';
import { sampleValues } from './sample-values.js';
import type { DockerStats } from './stats-types.js';
import { ContainerTracker } from './tracker.js';

export interface OneShotCollectorOptions {
  readonly engine: EngineClient;
  /** Where the Engine is, for messages (never holds a password). */
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Stats requests to the Engine at once. */
  readonly concurrency: number;
  readonly onSample: SampleHandler;
  readonly onExit?: ExitHandler | undefined;
  readonly random?: () => number;
}

/**
 * `--mode oneshot`: no streams; before each tick, one sample of every followed container
 * (`stats?stream=false&one-shot=true`, API 1.41+), at most `concurrency` requests at once. The
 * Engine answers at once with empty precpu_stats, so an interval holds one sample per container
 * and its rates start from the previous tick's sample (`sampling: 'per-tick'`: the store carries
 * it). A container that cannot be sampled is skipped, logged once per tick with the others.
 */
export class OneShotCollector implements Collector {
  readonly sampling = 'per-tick';
  readonly failed: Promise<string>;
  readonly #o: OneShotCollectorOptions;
  readonly #tracker: ContainerTracker;
  #fail!: (message: string) => void;
  #badSamples = 0;

  constructor(opts: OneShotCollectorOptions) {
    this.#o = opts;
    this.failed = new Promise((resolve) => (this.#fail = resolve));
    this.#tracker = new ContainerTracker({
      ...opts,
      listener: { follow: () => {}, unfollow: () => {} },
      onConnected: (version) => {
        if (!apiBelow(version.ApiVersion, 1, 41)) return;
        const message =
          '--mode oneshot needs Docker Engine API 1.41 or later; ' +
          `${opts.where} speaks API ${version.ApiVersion}: use --mode stream`;
        opts.logger.error(message);
        this.#fail(message);
      },
    });
  }

  get ready(): Promise<void> {
    return this.#tracker.ready;
  }

  status(): CollectorStatus {
    return collectorStatus({ tracker: this.#tracker, badAnswers: this.#badSamples });
  }

  start(): void {
    this.#tracker.start();
  }

  async collect(): Promise<void> {
    const limit = pLimit(this.#o.concurrency);
    const failed: string[] = [];
    await Promise.all(
      this.#tracker.followed().map((container) =>
        limit(async () => {
          try {
            this.#o.onSample(container, sampleValues(await this.#sample(container)));
          } catch (err) {
            failed.push(`${container.name}: ${describeError(err)}`);
          }
        }),
      ),
    );
    if (failed.length > 0)
      this.#o.logger.warn('could not sample some containers', { count: failed.length, first: failed[0] });
  }

  async stop(): Promise<void> {
    await this.#tracker.stop();
  }

  async #sample(container: ContainerRef): Promise<DockerStats> {
    const sample = await withTimeout(
      this.#o.clock,
      (signal) => this.#o.engine.statsOneShot(container.id, signal),
      `GET /containers/${container.id.slice(0, 12)}/stats`,
    );
    if (sample === null || typeof sample !== 'object' || Array.isArray(sample)) {
      this.#badSamples += 1;
      throw new Error('the Engine answered something that is not a stats object');
    }
    return sample as DockerStats;
  }
}

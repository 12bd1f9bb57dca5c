import { sleep, type Clock } from './clock.js';
import type { Config } from './config.js';
import { CgroupCollector } from './cgroup/collector.js';
import type { Collector, SampleHandler } from './docker/collector.js';
import type { ContainerRef } from './docker/container.js';
import { OneShotCollector } from './docker/oneshot-collector.js';
import { StreamCollector } from './docker/stream-collector.js';
import type { EngineClient } from './docker/engine.js';
import type { Logger } from './log.js';
import type { CarbonPaths } from './naming/carbon-path.js';
import type { TickRunner } from './pipeline/sink-runner.js';
import { SampleStore } from './reduce/sample-store.js';
import { selfMetrics, type DaemonStats } from './reduce/self-metrics.js';
import { tickMetrics } from './reduce/tick.js';
import type { DaemonStatus } from './sinks/sink.js';

/** How long --once waits past its interval for containers that have not sent a sample yet. */
const SINGLE_INTERVAL_GRACE_MS = 5_000;
/** Ticks in a row without a collision after which it is forgotten (said again if it comes back). */
const COLLISION_TICKS = 3;

export interface DaemonDeps {
  readonly config: Config;
  readonly engine: EngineClient;
  /** One runner per sink, with its spool (main builds them). */
  readonly runners: readonly TickRunner[];
  /** The carbon naming: rule categories for the host metrics, and path collisions. */
  readonly paths: CarbonPaths;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Composes and runs: the collector of the configured mode → sample store → (every aligned tick)
 * reducer → one runner per sink. Start: the sinks (a server listens), then the collector, then
 * the ticks. Stop: the ticks, then the collector (streams closed), then the last partial interval
 * is queued and every sink flushed within the shutdown timeout, then the sinks are closed.
 */
export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #store: SampleStore;
  readonly #collector: Collector;
  #cancelTick: (() => void) | undefined;
  #stopping: Promise<number> | undefined;
  #samples = 0;
  #emptySamples = 0;
  #ticks = 0;
  #lastTickSeconds = 0;
  #pathCollisions = 0;
  /** Collisions said (path and the containers sharing it), with how many ticks in a row have not seen each since. */
  #collisions = new Map<string, number>();
  #collecting: Promise<void> | undefined;
  readonly #starting: Promise<void>[] = [];
  #fail!: (message: string) => void;
  /** Resolves with a message when the daemon cannot go on (main exits 1). */
  readonly failed: Promise<string>;

  constructor(deps: DaemonDeps) {
    this.#deps = deps;
    const { config, clock, logger } = deps;
    this.failed = new Promise((resolve) => (this.#fail = resolve));
    this.#collector = collectorFor(config, {
      engine: deps.engine,
      where: config.docker.display,
      filter: config.filter,
      stallTimeoutMs: config.stallTimeoutMs,
      clock,
      logger,
      onSample: (container, values) => {
        if (this.#store.record(container, values) === 'empty') this.#emptySamples += 1;
        else this.#samples += 1;
      },
    });
    this.#store = new SampleStore({ carryBaseline: this.#collector.sampling === 'per-tick' });
    void this.#collector.failed.then((message) => this.#fail(message));
  }

  /** What the sinks may see of the daemon (/healthz). */
  get status(): DaemonStatus {
    return {
      engineReachable: () => this.#collector.status().engineReachable,
      sinks: () => this.#deps.runners.map((r) => r.health()),
    };
  }

  /** Starts the sinks, following Docker, and a batch on every tick. */
  start(): void {
    const { config, logger } = this.#deps;
    logger.info('starting', {
      sinks: this.#deps.runners.map((r) => r.description).join(', '),
      docker: config.docker.display,
      mode: config.mode,
      host: config.hostPath,
      pollMs: config.pollMs,
    });
    const status = this.status;
    for (const runner of this.#deps.runners) {
      this.#starting.push(
        runner.start(status).catch((err: unknown) => {
          logger.error('cannot start a sink', { sink: runner.description, error: (err as Error).message });
          this.#fail(`cannot start ${runner.description}: ${(err as { code?: string }).code ?? (err as Error).message}`);
        }),
      );
    }
    this.#collector.start();
    this.#scheduleTick();
  }

  /**
   * `--once`: collect for one poll interval from the moment the running containers are listed
   * (waiting a little longer for containers that have not sent a sample yet), send that batch,
   * stop. Resolves with the number of metrics that could not be delivered (Infinity when Docker
   * could not be reached at all).
   */
  async runSingleInterval(): Promise<number> {
    const { config, clock, logger } = this.#deps;
    logger.info('collecting for one interval', { docker: config.docker.display, mode: config.mode, pollMs: config.pollMs });
    this.#collector.start();
    const listed = await Promise.race([this.#collector.ready.then(() => true), sleep(clock, config.pollMs).then(() => false)]);
    if (!listed) {
      logger.error('Docker could not be reached within the collection interval', { docker: config.docker.display });
      await this.#collector.stop();
      await Promise.all(this.#deps.runners.map((r) => r.close()));
      return Number.POSITIVE_INFINITY;
    }
    // The interval's first samples (for a collector that takes them per tick), then its last.
    await this.#collector.collect();
    await sleep(clock, config.pollMs);
    await this.#collector.collect();
    const graceUntil = clock.now() + SINGLE_INTERVAL_GRACE_MS;
    while (this.#store.size < this.#collector.status().followed.length && clock.now() < graceUntil) await sleep(clock, 100);
    await this.#collector.stop();
    this.#emit(clock.now());
    return this.#flushAndClose();
  }

  /** Graceful stop; safe to call more than once. Resolves with the number of undelivered metrics. */
  stop(): Promise<number> {
    this.#stopping ??= (async () => {
      this.#cancelTick?.();
      await this.#collecting;
      await this.#collector.stop();
      if (this.#store.size > 0) this.#emit(this.#deps.clock.now());
      return this.#flushAndClose();
    })();
    return this.#stopping;
  }

  async #flushAndClose(): Promise<number> {
    const { config, logger } = this.#deps;
    const runners = this.#deps.runners;
    const left = await Promise.all(runners.map((r) => r.flush(config.shutdownTimeoutMs)));
    await Promise.all(this.#starting);
    await Promise.all(runners.map((r) => r.close()));
    const undelivered = left.reduce((a, b) => a + b, 0);
    runners.forEach((r, i) => {
      if (left[i]! > 0) logger.error('stopped with metrics undelivered', { sink: r.description, undelivered: left[i] });
    });
    logger.info('stopped', { ticks: this.#ticks, samples: this.#samples, undelivered });
    return undelivered;
  }

  /** Ticks land on multiples of the interval since the epoch (60s → on the minute). */
  #scheduleTick(): void {
    const { clock, config, logger } = this.#deps;
    const now = clock.now();
    const next = (Math.floor(now / config.pollMs) + 1) * config.pollMs;
    this.#cancelTick = clock.setTimer(() => {
      this.#scheduleTick();
      if (this.#collecting) {
        logger.warn('the previous collection is still running; skipping this tick', { tick: next });
        return;
      }
      this.#collecting = this.#collector
        .collect()
        .then(() => this.#emit(next))
        .finally(() => (this.#collecting = undefined));
    }, next - now);
  }

  /** The tick's batch: the interval's container metrics, the host's, the daemon's own; to every sink. */
  #emit(tickMs: number): void {
    const { config, logger, clock, paths } = this.#deps;
    const started = clock.now();
    const readings = this.#store.take();
    const tickSeconds = Math.floor(tickMs / 1000);
    this.#checkCollisions(readings.map((r) => r.container));
    const collector = this.#collector.status();
    const metrics = tickMetrics(
      readings,
      { tickSeconds, metrics: config.metrics, categoryOf: (c) => paths.container(c).category },
      selfMetrics(this.#stats(collector), tickSeconds),
    );
    const tick = { time: tickSeconds, metrics, followed: collector.followed };
    this.#ticks += 1;
    for (const runner of this.#deps.runners) {
      runner.enqueue(tick);
      runner.reportDrops();
    }
    this.#lastTickSeconds = (clock.now() - started) / 1000;
    logger.debug('tick', {
      tickSeconds: this.#lastTickSeconds,
      containers: readings.length,
      samples: this.#samples,
      emptySamples: this.#emptySamples,
      streamsOpen: collector.streamsOpen,
      pending: this.#deps.runners.map((r) => r.pending).join(','),
    });
  }

  /**
   * Graphite keeps one value per path and time: containers the naming rules give one carbon path
   * overwrite each other there. Said once per new collision (naming the containers and the path),
   * and counted at every tick. A tick holds the containers that sent a sample since the previous
   * one, so at short intervals one of two colliding containers can miss a tick: a collision is
   * remembered (said once, still counted) until COLLISION_TICKS ticks in a row have not seen it.
   */
  #checkCollisions(containers: readonly ContainerRef[]): void {
    const seen = new Set<string>();
    for (const [path, shared] of this.#deps.paths.collisions(containers)) {
      const names = shared.map((c) => c.name).sort();
      const key = `${path}\n${names.join('\n')}`;
      seen.add(key);
      if (!this.#collisions.has(key)) {
        this.#deps.logger.warn('containers share one carbon path: Graphite keeps only one of their values per point; change the rules to keep them apart', {
          path,
          containers: names.join(', '),
        });
      }
      this.#collisions.set(key, 0);
    }
    for (const [key, missed] of this.#collisions) {
      if (seen.has(key)) continue;
      if (missed + 1 >= COLLISION_TICKS) this.#collisions.delete(key);
      else this.#collisions.set(key, missed + 1);
    }
    this.#pathCollisions = this.#collisions.size;
  }

  /** The daemon's figures for its own metrics, summed over the sinks where that applies. */
  #stats(collector: ReturnType<Collector['status']>): DaemonStats {
    const runners = this.#deps.runners;
    const sum = (pick: (s: TickRunner['stats']) => number): number => runners.reduce((n, r) => n + pick(r.stats), 0);
    return {
      samples: this.#samples,
      metricsSent: sum((s) => s.delivered),
      sendFailures: sum((s) => s.failures),
      buffered: sum((s) => s.buffered),
      spooledBytes: sum((s) => s.spooledBytes),
      dropped: sum((s) => s.dropped),
      streamsOpen: collector.streamsOpen,
      streamRestarts: collector.streamRestarts,
      badSamples: collector.badSamples,
      tickSeconds: this.#lastTickSeconds,
      pathCollisions: this.#pathCollisions,
    };
  }
}

/** The collector of the configured mode: picked once, when the daemon is made. */
function collectorFor(
  config: Config,
  common: {
    engine: EngineClient;
    where: string;
    filter: Config['filter'];
    stallTimeoutMs: number;
    clock: Clock;
    logger: Logger;
    onSample: SampleHandler;
  },
): Collector {
  switch (config.mode) {
    case 'stream':
      return new StreamCollector(common);
    case 'oneshot':
      return new OneShotCollector({ ...common, concurrency: config.concurrency });
    case 'cgroup':
      return new CgroupCollector({ ...common, hostProc: config.hostProc, cgroupRoot: config.cgroupRoot });
  }
}

import { join } from 'node:path';
import pLimit from 'p-limit';
import { sleep, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { EngineClient } from './docker/engine.js';
import { DockerWatcher } from './docker/watcher.js';
import type { Logger } from './log.js';
import { SampleStore } from './pipeline/sample-store.js';
import { SinkRunner, type SinkStats } from './pipeline/sink-runner.js';
import { Spool } from './pipeline/spool.js';
import { buildBatch } from './reduce/batch.js';
import type { Metric } from './reduce/metric.js';
import type { DaemonServer } from './sinks/prometheus/exposition.js';
import type { DaemonView } from './sinks/prometheus/view.js';
import type { Sink } from './sinks/sink.js';

/** Pause between two backlog sends: Backstop handles 1,000 items in about 10 ms. */
const BACKLOG_GAP_MS = 10;

export interface DaemonDeps {
  readonly config: Config;
  readonly docker: EngineClient;
  readonly sinks: readonly Sink[];
  /** Servers (Prometheus /metrics): started after the sinks, before the watcher; closed after the final flush. */
  readonly servers?: readonly DaemonServer[];
  /** Shown the watcher's containers and Engine state (for the Prometheus sinks). */
  readonly view?: DaemonView;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Wires the Docker watcher → sample store → (every aligned tick) reducer → one runner per sink.
 * Start order: sinks, then the watcher. Stop: ticks, then the watcher (streams closed), then the
 * last partial interval is queued and every sink flushed within the shutdown timeout.
 */
export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #store: SampleStore;
  readonly #runners: SinkRunner[];
  readonly #watcher: DockerWatcher;
  #cancelTick: (() => void) | undefined;
  #stopping: Promise<number> | undefined;
  #samples = 0;
  #emptySamples = 0;
  #ticks = 0;
  #lastTickSeconds = 0;
  #collecting: Promise<void> | undefined;
  /** The servers' start()s, awaited before they are closed. */
  readonly #serving: Promise<void>[] = [];
  #failOnce!: (message: string) => void;
  /** Resolves with a message when the daemon cannot go on (main exits 1). */
  readonly failed: Promise<string>;

  constructor(deps: DaemonDeps) {
    this.#deps = deps;
    const { clock, logger } = deps;
    const { config } = deps;
    this.#store = new SampleStore({ carryBaseline: config.mode === 'oneshot' });
    this.failed = new Promise((resolve) => (this.#failOnce = resolve));
    this.#runners = deps.sinks.map(
      (sink) =>
        new SinkRunner(sink, {
          maxItems: config.bufferMaxItems,
          maxBytes: config.bufferMaxBytes,
          clock,
          logger,
          backlogGapMs: BACKLOG_GAP_MS,
          spool:
            config.spoolDir && sink.spoolKey
              ? new Spool({ dir: join(config.spoolDir, sink.spoolKey), maxBytes: config.spoolMaxBytes, logger, sink: sink.description })
              : undefined,
        }),
    );
    this.#watcher = new DockerWatcher({
      docker: deps.docker,
      where: deps.config.docker.display,
      filter: deps.config.filter,
      clock,
      logger,
      stallTimeoutMs: config.stallTimeoutMs,
      mode: config.mode,
      onFatal: (message) => this.#failOnce(message),
      onSample: (ref, sample) => {
        if (this.#store.record(ref, sample) === 'empty') this.#emptySamples += 1;
        else this.#samples += 1;
      },
    });
    const watcher = this.#watcher;
    deps.view?.attach({ containers: () => watcher.described(), engineReachable: () => watcher.connected });
  }

  /** Starts following Docker and sending a batch on every tick. */
  start(): void {
    const { config, logger } = this.#deps;
    logger.info('starting', {
      sinks: this.#runners.map((r) => r.description).join(', '),
      docker: config.docker.display,
      host: config.hostPath,
      pollMs: config.pollMs,
    });
    for (const server of this.#deps.servers ?? []) {
      this.#serving.push(
        server.start().catch((err: unknown) => {
          logger.error('cannot start the server', { listen: server.description, error: (err as Error).message });
          this.#failOnce(`cannot serve on ${server.description}: ${(err as { code?: string }).code ?? (err as Error).message}`);
        }),
      );
    }
    this.#watcher.start();
    this.#scheduleTick();
  }

  /**
   * `--once`: collect for one poll interval from the moment the running containers are listed
   * (waiting a little longer for streams that have not delivered yet), send that batch, stop.
   * Resolves with the number of metrics that could not be delivered (Infinity when Docker could
   * not be reached at all).
   */
  async runOnce(): Promise<number> {
    const { config, clock, logger } = this.#deps;
    logger.info('collecting once', { docker: config.docker.display, pollMs: config.pollMs });
    this.#watcher.start();
    const listed = await Promise.race([
      this.#watcher.ready.then(() => true),
      sleep(clock, config.pollMs).then(() => false),
    ]);
    if (!listed) {
      logger.error('Docker could not be reached within the collection interval', { docker: config.docker.display });
      await this.#watcher.stop();
      await Promise.all(this.#runners.map((r) => r.close()));
      return Number.POSITIVE_INFINITY;
    }
    if (config.mode === 'oneshot') await this.#collectOnce();
    await sleep(clock, config.pollMs);
    if (config.mode === 'oneshot') await this.#collectOnce();
    const graceUntil = clock.now() + 5_000;
    while (this.#store.size < this.#watcher.streamsOpen && clock.now() < graceUntil) await sleep(clock, 100);
    await this.#watcher.stop();
    this.#emitBatch(clock.now());
    return this.#flushAndClose();
  }

  /** Graceful stop; safe to call more than once. Resolves with the number of undelivered metrics. */
  stop(): Promise<number> {
    this.#stopping ??= (async () => {
      this.#cancelTick?.();
      await this.#collecting;
      await this.#watcher.stop();
      if (this.#store.size > 0) this.#emitBatch(this.#deps.clock.now());
      return this.#flushAndClose();
    })();
    return this.#stopping;
  }

  async #flushAndClose(): Promise<number> {
    const { config, logger } = this.#deps;
    const left = await Promise.all(this.#runners.map((r) => r.flush(config.shutdownTimeoutMs)));
    await Promise.all(this.#runners.map((r) => r.close()));
    await Promise.all(this.#serving);
    await Promise.all((this.#deps.servers ?? []).map((s) => s.close()));
    const undelivered = left.reduce((a, b) => a + b, 0);
    this.#runners.forEach((r, i) => {
      if (left[i]! > 0) logger.error('stopped with metrics undelivered', { sink: r.description, undelivered: left[i] });
    });
    logger.info('stopped', { ticks: this.#ticks, samples: this.#samples, undelivered });
    return undelivered;
  }

  /** Ticks land on multiples of the interval since the epoch (60s → on the minute). */
  #scheduleTick(): void {
    const { clock, config } = this.#deps;
    const now = clock.now();
    const next = (Math.floor(now / config.pollMs) + 1) * config.pollMs;
    this.#cancelTick = clock.setTimer(() => {
      this.#scheduleTick();
      if (config.mode === 'stream') {
        this.#emitBatch(next);
        return;
      }
      if (this.#collecting) {
        this.#deps.logger.warn('the previous one-shot collection is still running; skipping this one', { tick: next });
        return;
      }
      void this.#collectOnce().then(() => this.#emitBatch(next));
    }, next - now);
  }

  /**
   * One-shot mode: one sample of every followed container, at most `--concurrency` requests at
   * once. A container that cannot be sampled is logged (once per tick, all together) and skipped.
   */
  #collectOnce(): Promise<void> {
    const { config, logger } = this.#deps;
    const limit = pLimit(config.concurrency);
    const failed: string[] = [];
    this.#collecting = Promise.all(
      this.#watcher.containers().map((ref) =>
        limit(async () => {
          try {
            const sample = await this.#watcher.sampleOnce(ref);
            if (this.#store.record(ref, sample) === 'empty') this.#emptySamples += 1;
            else this.#samples += 1;
          } catch (err) {
            failed.push(`${ref.name}: ${(err as Error).message}`);
          }
        }),
      ),
    ).then(() => {
      this.#collecting = undefined;
      if (failed.length > 0) logger.warn('could not sample some containers', { count: failed.length, first: failed[0] });
    });
    return this.#collecting;
  }

  #emitBatch(tickMs: number): void {
    const { config, logger, clock } = this.#deps;
    const started = clock.now();
    const readings = this.#store.take();
    const tickSeconds = Math.floor(tickMs / 1000);
    const batch = buildBatch(readings, {
      rules: config.rules,
      pathPrefix: config.pathPrefix,
      hostPath: config.hostPath,
      tickSeconds,
      metrics: config.metrics,
    });
    batch.push(...this.#selfMetrics(tickSeconds));
    this.#ticks += 1;
    for (const runner of this.#runners) {
      runner.enqueue(batch);
      runner.reportDrops();
    }
    this.#lastTickSeconds = (clock.now() - started) / 1000;
    logger.debug('tick', {
      tickSeconds: this.#lastTickSeconds,
      containers: readings.length,
      metrics: batch.length,
      samples: this.#samples,
      emptySamples: this.#emptySamples,
      streamsOpen: this.#watcher.streamsOpen,
      pending: this.#runners.map((r) => r.pending).join(','),
    });
  }

  /**
   * The daemon's report on itself, under `<host>.docker_stats_to_backstop.`: counters since start
   * (samples, metrics_sent, send_failures, dropped, stream_restarts, bad_samples) and gauges
   * (buffered, spooled_bytes, streams_open, tick_seconds: the previous tick's build and hand-over).
   */
  #selfMetrics(tickSeconds: number): Metric[] {
    const { config } = this.#deps;
    const sum = (pick: (s: SinkStats) => number): number => this.#runners.reduce((n, r) => n + pick(r.stats), 0);
    const values: [string, number][] = [
      ['samples', this.#samples],
      ['metrics_sent', sum((s) => s.delivered)],
      ['send_failures', sum((s) => s.failures)],
      ['buffered', sum((s) => s.buffered)],
      ['spooled_bytes', sum((s) => s.spooledBytes)],
      ['dropped', sum((s) => s.dropped)],
      ['streams_open', this.#watcher.streamsOpen],
      ['stream_restarts', this.#watcher.streamRestarts],
      ['bad_samples', this.#watcher.badLines],
      ['tick_seconds', this.#lastTickSeconds],
    ];
    const base = `${config.pathPrefix === '' ? '' : `${config.pathPrefix}.`}${config.hostPath}.docker_stats_to_backstop`;
    return values.map(([name, value]) => ({ path: `${base}.${name}`, value, time: tickSeconds }));
  }
}

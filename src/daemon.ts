import { sleep, type Clock } from './clock.js';
import type { Config } from './config.js';
import { CgroupCollector } from './cgroup/collector.js';
import { openTickCounters, type TickCounters } from './cgroup/tick-counters.js';
import type {
  Collector,
  ContainerListener,
  ExitHandler,
  FollowedContainers,
  SampleHandler,
} from './model/collector.js';
import type { ContainerExit, ContainerRef } from './model/container.js';
import { OneShotCollector } from './docker/oneshot-collector.js';
import { fallbackStreams, StreamCollector } from './docker/stream-collector.js';
import type { EngineClient } from './docker/engine.js';
import type { KernelCounters } from './model/kernel-counters.js';
import { listStates } from './docker/states.js';
import type { HostStates } from './model/host-states.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import type { BackgroundProbe } from './docker/background-probe.js';
import { diskProbe } from './docker/disk-probe.js';
import { swarmProbe } from './docker/swarm-probe.js';
import type { ContainerSize, ServiceTasks } from './model/opt-in.js';
import type { CarbonPaths } from './naming/carbon-path.js';
import type { TickRunner } from './pipeline/sink-runner.js';
import { exitMetrics, stateMetrics } from './reduce/lifecycle.js';
import { diskMetrics, swarmMetrics } from './reduce/opt-in-metrics.js';
import { SampleStore } from './reduce/sample-store.js';
import { selfMetrics, type DaemonStats } from './reduce/self-metrics.js';
import type { Metric } from './model/metric.js';
import { tickMetrics, type ContainerReading } from './reduce/tick.js';
import type { DaemonStatus } from './sinks/sink.js';

/** How long --once waits past its interval for containers that have not sent a sample yet. */
const SINGLE_INTERVAL_GRACE_MS = 5_000;
/** Ticks in a row without a collision after which it is forgotten (said again if it comes back). */
const COLLISION_TICKS = 3;
/** How far past one interval ahead of the daemon's clock a sample may be stamped (another host's clock). */
const FUTURE_MARGIN_MS = 60_000;
/** Exits waiting for the next tick, at most (many containers in a crash loop while no tick runs): the oldest go. */
const MAX_PENDING_EXITS = 10_000;

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
  readonly #optIn: OptInGroups;
  #cancelTick: (() => void) | undefined;
  #stopping: Promise<number> | undefined;
  #samples = 0;
  #emptySamples = 0;
  #ticks = 0;
  #lastTickSeconds = 0;
  /** The time of the last tick built (ms); every tick after it is later. */
  #lastTickMs = Number.NEGATIVE_INFINITY;
  /** Whether the clock has been seen behind the last tick since that tick (said once). */
  #clockBehind = false;
  #ticksSkipped = 0;
  /** Samples stamped too far ahead of the daemon's clock, dropped. */
  #futureSamples = 0;
  #pathCollisions = 0;
  /** Collisions said (path and the containers sharing it), with how many ticks in a row have not seen each since. */
  #collisions = new Map<string, number>();
  #collecting: Promise<void> | undefined;
  /** The reader of the kernel's counters: undefined until the first tick, null where there is none. */
  #kernel: TickCounters | null | undefined;
  /** Exits since the last tick (sent once, in the next). */
  #exits: ContainerExit[] = [];
  /** The states listed for the tick being built (undefined when the list failed). */
  #states: HostStates | undefined;
  /** Whether the last list of every container failed (said once per outage). */
  #statesFailing = false;
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
        const aheadMs = values ? values.readMs - clock.now() : 0;
        if (aheadMs > config.pollMs + FUTURE_MARGIN_MS) this.#futureSample(container, aheadMs);
        else if (this.#store.record(container, values) === 'empty') this.#emptySamples += 1;
        else this.#samples += 1;
      },
      onExit: (exit) => this.#exited(exit),
    });
    this.#store = new SampleStore({ carryBaseline: this.#collector.sampling === 'per-tick' });
    this.#optIn = new OptInGroups(config, { engine: deps.engine, clock, logger });
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
          logger.error('cannot start a sink', { sink: runner.description, error: describeError(err) });
          this.#fail(`cannot start ${runner.description}: ${describeError(err)}`);
        }),
      );
    }
    this.#collector.start();
    // Once the containers are known: a disk measurement is sent for the containers followed.
    void this.#collector.ready.then(() => {
      if (!this.#stopping) this.#optIn.kick();
    });
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
    logger.info('collecting for one interval', {
      docker: config.docker.display,
      mode: config.mode,
      pollMs: config.pollMs,
    });
    this.#collector.start();
    const listed = await Promise.race([
      this.#collector.ready.then(() => true),
      sleep(clock, config.pollMs).then(() => false),
    ]);
    if (!listed) {
      logger.error('Docker could not be reached within the collection interval', { docker: config.docker.display });
      await this.#collector.stop();
      await Promise.all(this.#deps.runners.map((r) => r.close()));
      return Number.POSITIVE_INFINITY;
    }
    this.#optIn.kick();
    // The interval's first samples (for a collector that takes them per tick), then its last.
    await this.#collector.collect();
    await sleep(clock, config.pollMs);
    await this.#collector.collect();
    await this.#optIn.settle();
    const graceUntil = clock.now() + SINGLE_INTERVAL_GRACE_MS;
    while (this.#store.size < this.#collector.status().followed.length && clock.now() < graceUntil)
      await sleep(clock, 100);
    await this.#collector.stop();
    await this.#readStates();
    this.#emit(clock.now());
    return this.#flushAndClose();
  }

  /** Graceful stop; safe to call more than once. Resolves with the number of undelivered metrics. */
  stop(): Promise<number> {
    this.#stopping ??= (async () => {
      this.#cancelTick?.();
      this.#optIn.stop();
      await this.#collecting;
      await this.#collector.stop();
      if (this.#store.size > 0 || this.#exits.length > 0) this.#emit(this.#partialTickMs());
      return this.#flushAndClose();
    })();
    return this.#stopping;
  }

  async #flushAndClose(): Promise<number> {
    const { config, logger } = this.#deps;
    this.#kernel?.close();
    const runners = this.#deps.runners;
    const left = await Promise.all(runners.map((r) => r.flush(config.shutdownTimeoutMs)));
    await Promise.all(this.#starting);
    await Promise.all(runners.map((r) => r.close()));
    const undelivered = left.reduce((a, b) => a + b, 0);
    runners.forEach((r, i) => {
      if (left[i]! > 0) logger.error('stopped with metrics undelivered', { sink: r.description, undelivered: left[i] });
    });
    // Every counter of the runners, summed: the last word on what was delivered, dropped and kept.
    const totals: Record<string, number> = {};
    for (const r of runners) {
      for (const [key, value] of Object.entries(r.stats)) totals[key] = (totals[key] ?? 0) + value;
    }
    const ticks = { ticks: this.#ticks, ticksSkipped: this.#ticksSkipped };
    logger.info('stopped', { ...ticks, samples: this.#samples, undelivered, ...totals });
    return undelivered;
  }

  /**
   * Arms the timer for the next tick: the first multiple of the interval since the epoch (60s → on
   * the minute) strictly after both the last tick and the clock's time rounded down to a multiple.
   */
  #scheduleTick(): void {
    const { clock, config } = this.#deps;
    const now = clock.now();
    const aligned = Math.floor(now / config.pollMs) * config.pollMs;
    const due = Math.max(aligned, this.#lastTickMs) + config.pollMs;
    this.#cancelTick = clock.setTimer(() => this.#onTimer(due), due - now);
  }

  /**
   * The timer of the tick due at `due` went off. Timers run on a monotonic clock and may fire a
   * little early against the wall clock, which NTP may also step: too early (or after a step back)
   * waits for the rest, so a tick time is never built twice; after a step forward the missed
   * ticks are skipped and counted rather than sent in a burst, and the next is the first multiple
   * after the new time.
   */
  #onTimer(due: number): void {
    const { clock, config, logger } = this.#deps;
    const now = clock.now();
    if (now < due) {
      if (now < this.#lastTickMs && !this.#clockBehind) {
        this.#clockBehind = true;
        logger.warn('the clock went back before the last tick; waiting for it to pass that tick', {
          lastTick: new Date(this.#lastTickMs).toISOString(),
          behindMs: this.#lastTickMs - now,
        });
      }
      // Looked at again at least every interval: a clock stepped far back must not overflow the timer.
      this.#cancelTick = clock.setTimer(() => this.#onTimer(due), Math.min(due - now, config.pollMs));
      return;
    }
    this.#clockBehind = false;
    const passed = Math.floor(now / config.pollMs) * config.pollMs;
    if (passed > due) {
      // Building the newest passed tick now could put the next one a moment after it, nearly empty.
      this.#skipTicks((passed - due) / config.pollMs + 1, 'the clock jumped forward', due);
      this.#scheduleTick();
      return;
    }
    this.#lastTickMs = due;
    this.#scheduleTick();
    if (this.#collecting) {
      this.#skipTicks(1, 'the previous collection is still running', due);
      return;
    }
    // The opt-in measurements start once the tick is built: what finished before it is in it, whatever
    // the tick waited for, and the next goes in the next tick.
    this.#collecting = Promise.all([this.#collector.collect(), this.#readStates()])
      .then(() => this.#emit(due))
      .finally(() => {
        this.#collecting = undefined;
        this.#optIn.kick();
      });
  }

  /** Ticks not built (their samples go to the next one): logged once per occasion, counted. */
  #skipTicks(count: number, why: string, from: number): void {
    this.#ticksSkipped += count;
    this.#deps.logger.warn(`${why}; skipping ticks (their samples go to the next)`, {
      from: new Date(from).toISOString(),
      skipped: count,
    });
  }

  /**
   * The time of the tick the samples held now were collected for (the next one due), for the
   * last partial interval at stop: never a time already sent, nor within the last tick's interval.
   */
  #partialTickMs(): number {
    const { clock, config } = this.#deps;
    return Math.max(Math.floor(clock.now() / config.pollMs) * config.pollMs, this.#lastTickMs) + config.pollMs;
  }

  /**
   * A sample stamped further ahead than another host's clock can explain: held, it would hide the
   * real samples after it (older than it) and stamp its metrics in the future. Dropped and counted
   * in `bad_samples`; said the first time only.
   */
  #futureSample(container: ContainerRef, aheadMs: number): void {
    this.#futureSamples += 1;
    if (this.#futureSamples > 1) return;
    this.#deps.logger.warn(
      'a sample is stamped ahead of the clock; dropping such samples (counted in bad_samples): ' +
        "check the clocks of this host and the Engine's",
      { container: container.name, aheadMs },
    );
  }

  /** The tick's batch: the interval's container metrics, the host's, the daemon's own; to every sink. */
  #emit(tickMs: number): void {
    const { config, logger, clock, paths } = this.#deps;
    const started = clock.now();
    const readings = this.#store.take();
    const tickSeconds = Math.floor(tickMs / 1000);
    const collector = this.#collector.status();
    // A container that died or was removed in the interval still reports, but shares no point in
    // time with one that replaced it (a container recreated under its name, a Swarm task).
    const alive = new Set(collector.followed.map((c) => c.id));
    this.#checkCollisions(readings.flatMap((r) => (alive.has(r.container.id) ? [r.container] : [])));
    const kernel = this.#kernelCounters(readings, collector.followed);
    // Read before #lifecycleMetrics takes the states: the sinks tell a removed container by it.
    const existing = this.#states?.ids;
    const metrics = tickMetrics(
      readings,
      { tickSeconds, metrics: config.metrics, categoryOf: (c) => paths.container(c).category, kernel },
      [
        ...this.#lifecycleMetrics(tickSeconds),
        ...this.#optIn.take(collector.followed),
        ...selfMetrics(this.#stats(collector), tickSeconds),
      ],
    );
    const tick = { time: tickSeconds, metrics, followed: collector.followed, existing };
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

  /** A container stopped: its exit goes in the next tick. */
  #exited(exit: ContainerExit): void {
    if (this.#exits.length >= MAX_PENDING_EXITS) this.#exits.shift();
    this.#exits.push(exit);
  }

  /**
   * Every container's state and health for the tick (one list per tick). While the Engine does not
   * answer, the tick has none: said when it starts failing, and when it answers again. The tick
   * waits for the list at most half an interval, so that a hung Engine does not hold the batch back.
   */
  async #readStates(): Promise<void> {
    const { engine, config, clock, logger } = this.#deps;
    try {
      this.#states = await listStates(engine, config.filter, clock, config.pollMs / 2);
      if (this.#statesFailing) logger.info('listing every container works again', { docker: config.docker.display });
      this.#statesFailing = false;
    } catch (err) {
      this.#states = undefined;
      if (!this.#statesFailing) {
        logger.warn('cannot list every container; no containers_state metrics until it works', {
          docker: config.docker.display,
          error: describeError(err),
        });
      }
      this.#statesFailing = true;
    }
  }

  /** The tick's exits and host states, each sent once. */
  #lifecycleMetrics(tickSeconds: number): Metric[] {
    const metrics = [...exitMetrics(this.#exits), ...(this.#states ? stateMetrics(this.#states, tickSeconds) : [])];
    this.#exits = [];
    this.#states = undefined;
    return metrics;
  }

  /**
   * The kernel's counters of the tick's containers and of those followed, read now, once a tick in
   * every mode. The first tick decides whether they can be read at all, and says why not once.
   */
  #kernelCounters(
    readings: readonly ContainerReading[],
    followed: readonly ContainerRef[],
  ): ReadonlyMap<string, KernelCounters> | undefined {
    if (this.#kernel === undefined) this.#kernel = this.#openKernel();
    return this.#kernel?.read([...followed, ...readings.map((r) => r.container)]);
  }

  /** Only an Engine on this host: another host's PIDs mean nothing in this host's /proc. */
  #openKernel(): TickCounters | null {
    const { config, clock, logger } = this.#deps;
    const what = "the kernel's counters (oom_kills, memory.failcnt, memory.events, pressure) are not read";
    if (config.docker.kind !== 'unix') {
      logger.info(`${what}: the Engine is on another host`, { docker: config.docker.display });
      return null;
    }
    const { hostProc, cgroupRoot } = config;
    const opened = openTickCounters({ hostProc, cgroupRoot, now: () => clock.now(), logger });
    if (opened.kind === 'ready') return opened.counters;
    logger.info(`${what}: ${opened.why}`, { hostProc, cgroupRoot });
    return null;
  }

  /**
   * Graphite keeps one value per path and time: containers followed at the same time that the
   * naming rules give one carbon path overwrite each other there. Said once per new collision
   * (naming the containers and the path), and counted at every tick. A tick holds the containers
   * that sent a sample since the previous one, so at short intervals one of two colliding
   * containers can miss a tick: a collision is remembered (said once, still counted) until
   * COLLISION_TICKS ticks in a row have not seen it.
   */
  #checkCollisions(containers: readonly ContainerRef[]): void {
    const seen = new Set<string>();
    for (const [path, shared] of this.#deps.paths.collisions(containers)) {
      const names = shared.map((c) => c.name).sort();
      const key = `${path}\n${names.join('\n')}`;
      seen.add(key);
      if (!this.#collisions.has(key)) {
        this.#deps.logger.warn(
          'containers share one carbon path: Graphite keeps only one of their values per point; ' +
            'change the rules to keep them apart',
          {
            path,
            containers: names.join(', '),
          },
        );
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
      badSamples: collector.badSamples + this.#futureSamples,
      tickSeconds: this.#lastTickSeconds,
      pathCollisions: this.#pathCollisions,
      ticksSkipped: this.#ticksSkipped,
      spoolErrors: sum((s) => s.spoolErrors),
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
    onExit: ExitHandler;
  },
): Collector {
  switch (config.mode) {
    case 'stream':
      return new StreamCollector(common);
    case 'oneshot':
      return new OneShotCollector({ ...common, concurrency: config.concurrency });
    case 'cgroup': {
      const { clock, logger, onSample } = common;
      const { hostProc, cgroupRoot } = config;
      // cgroup/ knows no Engine: containers are found through docker/, and fall back to its streams.
      const engineSide = (listener: ContainerListener): FollowedContainers => fallbackStreams(common, listener);
      return new CgroupCollector({ hostProc, cgroupRoot, clock, logger, onSample, engineSide });
    }
  }
}

/**
 * The opt-in groups measured in the background (`swarm`, `disk`; BackgroundProbe says how): kicked
 * at start and at every tick, each measurement sent once, in the tick after it, with its own time.
 */
class OptInGroups {
  readonly #swarm: BackgroundProbe<ServiceTasks[]> | undefined;
  readonly #disk: BackgroundProbe<ContainerSize[]> | undefined;

  constructor(config: Config, deps: { engine: EngineClient; clock: Clock; logger: Logger }) {
    const groups = config.metrics.groups;
    this.#swarm = groups.has('swarm') ? swarmProbe(deps) : undefined;
    this.#disk = groups.has('disk')
      ? diskProbe({ ...deps, filter: config.filter, intervalMs: config.diskIntervalMs })
      : undefined;
  }

  kick(): void {
    this.#swarm?.kick();
    this.#disk?.kick();
  }

  /** The metrics of the measurements finished since the last take. */
  take(followed: readonly ContainerRef[]): Metric[] {
    const swarm = this.#swarm?.take();
    const disk = this.#disk?.take();
    return [
      ...(swarm ? swarmMetrics(swarm.value, swarm.timeMs) : []),
      ...(disk ? diskMetrics(disk.value, disk.timeMs, followed) : []),
    ];
  }

  async settle(): Promise<void> {
    await Promise.all([this.#swarm?.settle(), this.#disk?.settle()]);
  }

  stop(): void {
    this.#swarm?.stop();
    this.#disk?.stop();
  }
}

import { backoffMs, type Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { collectorStatus } from './collector-status.js';
import type {
  Collector,
  CollectorStatus,
  ContainerListener,
  ExitHandler,
  FollowedContainers,
  SampleHandler,
} from '../model/collector.js';
import type { ContainerRef } from '../model/container.js';
import type { EngineClient, EngineStream } from './engine.js';
import type { ContainerFilter } from './filter.js';
import { JsonLines } from './json-lines.js';
import { sampleValues } from './sample-values.js';
import type { DockerStats } from './stats-types.js';
import { ContainerTracker } from './tracker.js';

/** A line longer than this without a newline is not a stats sample: the stream is reopened. */
const MAX_LINE_BYTES = 1 << 20;
/** Held streams are read once a round (shorter when the stall timeout is short: a quarter of it). */
const ROUND_MS = 1_000;

export interface StatsStreamsOptions {
  readonly engine: EngineClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A stream that delivers nothing for this long while its container runs is closed and reopened. */
  readonly stallTimeoutMs: number;
  readonly onSample: SampleHandler;
  /** Asks whether a container whose stream ended still runs (it is followed again if so). */
  readonly recheck: (id: string) => void;
  /** Whether the Engine answers now (a stream that ends while it does not is left to the reconnect). */
  readonly connected: () => boolean;
  readonly random?: () => number;
}

export interface StreamCollectorOptions extends Omit<StatsStreamsOptions, 'recheck' | 'connected'> {
  /** Where the Engine is, for messages (never holds a password). */
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly onExit?: ExitHandler | undefined;
}

interface Followed {
  container: ContainerRef;
  stream: EngineStream | undefined;
  /** Reopenings since the stream last delivered a sample, for backoff. */
  reopenAttempts: number;
  cancelReopen: (() => void) | undefined;
  /** When the open stream last delivered bytes (clock ms). */
  lastDataAt: number;
  /** Closes the open stream and schedules a reopen (set while a stream is open). */
  restart: ((why: string) => void) | undefined;
  /** Aborts a stats request still waiting for its answer (set while opening). */
  opening: AbortController | undefined;
}

/**
 * One stats stream per container it is told to follow (`GET /containers/{id}/stats?stream=true`),
 * split into lines, each parsed and handed on as the sample's values, about once a second per
 * container. A stream that ends while its container runs is reopened after a pause (once
 * `recheck` finds it still running); one that sends nothing for the stall timeout is closed and
 * reopened; a line that is not a JSON object is counted and skipped (logged once per stream); a
 * line past 1 MiB reopens the stream.
 *
 * Streams are read in rounds: between rounds each stream is held (EngineStream.hold: what the
 * Engine sends waits in the kernel), and once a second every stream is read for one turn of the
 * event loop, so the samples of all containers cost one wake-up instead of one each
 * (docs/architecture.md §7 has the figures). Nothing is lost or changed by it: a sample carries
 * the time the Engine read it, the tick reads every stream first (flush()), and the stall check
 * runs four rounds or more apart. A stream that cannot be held (TLS, SSH) is read as data comes.
 *
 * Lifecycle: start() once, stop() once; stop closes every stream and cancels every timer.
 */
export class StatsStreams {
  readonly #o: StatsStreamsOptions;
  readonly #followed = new Map<string, Followed>();
  #stopped = false;
  #streamRestarts = 0;
  #badLines = 0;
  #cancelStallCheck: (() => void) | undefined;
  #cancelRound: (() => void) | undefined;
  /** Read rounds under way (the timer's and flush()'s may overlap): streams are held again at 0. */
  #reading = 0;

  constructor(opts: StatsStreamsOptions) {
    this.#o = opts;
  }

  get streamsOpen(): number {
    let n = 0;
    for (const f of this.#followed.values()) if (f.stream) n += 1;
    return n;
  }

  get streamRestarts(): number {
    return this.#streamRestarts;
  }

  /** Stats lines that were not JSON objects. */
  get badLines(): number {
    return this.#badLines;
  }

  start(): void {
    this.#scheduleStallCheck();
    this.#scheduleRound();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelStallCheck?.();
    this.#cancelRound?.();
    for (const id of [...this.#followed.keys()]) this.unfollow(id);
  }

  /**
   * Reads every stream now: what the Engine sent until this call has reached onSample when the
   * promise resolves. The collector calls it before each tick.
   */
  flush(): Promise<void> {
    return this.#readRound();
  }

  #scheduleRound(): void {
    this.#cancelRound = this.#o.clock.setTimer(
      () => {
        if (this.#stopped) return;
        void this.#readRound();
        this.#scheduleRound();
      },
      Math.min(ROUND_MS, this.#o.stallTimeoutMs / 4),
    );
  }

  /**
   * Releases every stream, lets the event loop turn until it has polled them (two setImmediate
   * turns: whatever phase this is called from, a poll phase lies between), then holds them again.
   */
  #readRound(): Promise<void> {
    if (this.#reading++ === 0) for (const f of this.#followed.values()) f.stream?.release();
    return new Promise((resolve) => {
      setImmediate(() =>
        setImmediate(() => {
          if (--this.#reading === 0 && !this.#stopped) for (const f of this.#followed.values()) f.stream?.hold();
          resolve();
        }),
      );
    });
  }

  /** Every quarter of the stall timeout, reopen the streams that have gone quiet. */
  #scheduleStallCheck(): void {
    const { clock, stallTimeoutMs, logger } = this.#o;
    this.#cancelStallCheck = clock.setTimer(
      () => {
        if (this.#stopped) return;
        const now = clock.now();
        for (const f of this.#followed.values()) {
          if (f.stream && f.restart && now - f.lastDataAt > stallTimeoutMs) {
            logger.warn('stats stream stalled; reopening it', {
              container: f.container.name,
              silentMs: now - f.lastDataAt,
            });
            f.restart('stalled');
          }
        }
        this.#scheduleStallCheck();
      },
      Math.max(250, stallTimeoutMs / 4),
    );
  }

  /** Streams this container (or, when already streamed, takes its newer facts). */
  follow(container: ContainerRef): void {
    if (this.#stopped) return;
    const known = this.#followed.get(container.id);
    if (known) {
      known.container = container;
      if (!known.stream && !known.cancelReopen && !known.opening) void this.#open(known);
      return;
    }
    const fresh: Followed = {
      container,
      stream: undefined,
      reopenAttempts: 0,
      cancelReopen: undefined,
      lastDataAt: 0,
      restart: undefined,
      opening: undefined,
    };
    this.#followed.set(container.id, fresh);
    void this.#open(fresh);
  }

  /**
   * Opens the container's stats stream. The Engine answers a stats request only with its first
   * sample, and never for a stuck container: a request unanswered after the stall timeout is
   * aborted and tried again later, and stop() aborts any still waiting. Runs outside the
   * tracker's inspect limit, so that stuck requests cannot hold up the other containers.
   */
  async #open(f: Followed): Promise<void> {
    const { id } = f.container;
    const opening = new AbortController();
    f.opening = opening;
    const cancelTimer = this.#o.clock.setTimer(() => opening.abort(), this.#o.stallTimeoutMs);
    let stream: EngineStream;
    try {
      stream = await this.#o.engine.statsStream(id, opening.signal);
    } catch (err) {
      if (this.#stopped || this.#followed.get(id) !== f) return;
      const why = opening.signal.aborted ? `no answer within ${this.#o.stallTimeoutMs} ms` : describeError(err);
      this.#o.logger.warn('cannot open stats stream', { container: f.container.name, error: why });
      this.#scheduleReopen(f);
      return;
    } finally {
      cancelTimer();
      if (f.opening === opening) f.opening = undefined;
    }
    if (this.#stopped || this.#followed.get(id) !== f) {
      stream.close();
      return;
    }
    f.stream = stream;
    f.lastDataAt = this.#o.clock.now();
    this.#o.logger.debug('stats stream open', { container: f.container.name, id: id.slice(0, 12) });
    let first = true;
    const onSample = (sample: DockerStats): void => {
      if (first) {
        first = false;
        this.#o.logger.debug('first stats sample', { container: f.container.name });
      }
      f.reopenAttempts = 0;
      this.#o.onSample(f.container, sampleValues(sample));
    };
    const reader = new JsonLines(
      MAX_LINE_BYTES,
      (sample) => onSample(sample as DockerStats),
      (line, firstSkip) => {
        this.#badLines += 1;
        if (!firstSkip) return;
        const where = { container: f.container.name, line: line.slice(0, 120) };
        this.#o.logger.warn('skipped a stats line that is not a JSON object', where);
      },
    );
    const ended = (why: string): void => {
      if (f.stream !== stream) return;
      stream.close();
      f.stream = undefined;
      f.restart = undefined;
      if (this.#stopped || this.#followed.get(id) !== f) return;
      // The container may have stopped (its die event is on its way) or the Engine may be going
      // away (the tracker's reconnect will re-list). Otherwise look again after a pause.
      this.#o.logger.debug('stats stream ended', { container: f.container.name, why });
      if (this.#o.connected()) this.#scheduleReopen(f);
    };
    f.restart = ended;
    stream.start(
      (chunk) => {
        f.lastDataAt = this.#o.clock.now();
        if (!reader.push(chunk)) {
          this.#o.logger.warn('stats line too long; reopening the stream', { container: f.container.name });
          ended('line too long');
        }
      },
      (err) => ended(err ? describeError(err) : 'end'),
    );
  }

  /** After a backoff, asks the tracker whether the container still runs; it follows it again if so. */
  #scheduleReopen(f: Followed): void {
    if (f.cancelReopen || this.#stopped) return;
    const wait = backoffMs(f.reopenAttempts, 1_000, 30_000, this.#o.random);
    f.reopenAttempts += 1;
    f.cancelReopen = this.#o.clock.setTimer(() => {
      f.cancelReopen = undefined;
      if (this.#followed.get(f.container.id) !== f || this.#stopped) return;
      this.#streamRestarts += 1;
      this.#o.recheck(f.container.id);
    }, wait);
  }

  /** Closes the container's stream (or stops opening it). */
  unfollow(id: string): void {
    const f = this.#followed.get(id);
    if (!f) return;
    this.#followed.delete(id);
    f.opening?.abort();
    f.opening = undefined;
    f.cancelReopen?.();
    f.cancelReopen = undefined;
    const stream = f.stream;
    f.stream = undefined;
    stream?.close();
  }
}

/**
 * A container tracker and stats streams wired together: a stream that ends has the tracker look at
 * its container again. `listener` says which containers the tracker's news go to (all of them to
 * the streams in stream mode; only the ones that fall back in cgroup mode, fallbackStreams).
 */
function trackedStreams(
  opts: StreamCollectorOptions,
  listener: (streams: StatsStreams) => ContainerListener,
): { tracker: ContainerTracker; streams: StatsStreams } {
  const streams: StatsStreams = new StatsStreams({
    ...opts,
    recheck: (id) => void tracker.recheck(id),
    connected: () => tracker.connected,
  });
  const tracker: ContainerTracker = new ContainerTracker({ ...opts, listener: listener(streams) });
  return { tracker, streams };
}

/**
 * The tracker and stats streams of a collector that reads samples elsewhere (cgroup mode): the
 * tracker's news go to `listener`, and only the containers handed to `streams` get a stream.
 */
export function fallbackStreams(opts: StreamCollectorOptions, listener: ContainerListener): FollowedContainers {
  const { tracker, streams } = trackedStreams(opts, () => listener);
  return {
    ready: tracker.ready,
    streams,
    start: () => {
      streams.start();
      tracker.start();
    },
    stop: async () => {
      streams.stop();
      await tracker.stop();
    },
    status: () => collectorStatus({ tracker, streams }),
  };
}

/**
 * `--mode stream`: the container tracker (tracker.ts) says which containers run; each gets a stats
 * stream (StatsStreams).
 */
export class StreamCollector implements Collector {
  readonly sampling = 'continuous';
  readonly failed: Promise<string> = new Promise(() => {});
  readonly #tracker: ContainerTracker;
  readonly #streams: StatsStreams;

  constructor(opts: StreamCollectorOptions) {
    ({ tracker: this.#tracker, streams: this.#streams } = trackedStreams(opts, (streams) => ({
      follow: (c) => streams.follow(c),
      unfollow: (id) => streams.unfollow(id),
    })));
  }

  get ready(): Promise<void> {
    return this.#tracker.ready;
  }

  status(): CollectorStatus {
    return collectorStatus({ tracker: this.#tracker, streams: this.#streams });
  }

  start(): void {
    this.#tracker.start();
    this.#streams.start();
  }

  /** Samples arrive on their own; before a tick, what waits in the held streams is read. */
  collect(): Promise<void> {
    return this.#streams.flush();
  }

  async stop(): Promise<void> {
    // Streams first (nothing is opened after this), then the tracker's calls and timers.
    this.#streams.stop();
    await this.#tracker.stop();
  }
}

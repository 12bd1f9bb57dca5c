import pLimit from 'p-limit';
import { backoffMs, sleep, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ContainerRef } from '../pipeline/sample-store.js';
import type { ContainerFacts } from '../reduce/container-metrics.js';
import type { ContainerInspect, EngineClient, EngineStream } from './engine.js';
import { engineLabelFilter, passesFilter, type ContainerFilter } from './filter.js';
import { LineSplitter } from './line-splitter.js';
import type { DockerStats } from './stats-types.js';

/** A line longer than this without a newline is not a stats sample: the stream is reopened. */
const MAX_LINE_BYTES = 1 << 20;
/** Calls that should answer at once (version, list, inspect) give up after this long. */
const CALL_TIMEOUT_MS = 15_000;
/** At most this many inspects at once when many containers show up together. */
const INSPECT_CONCURRENCY = 8;

/** A followed container as the Prometheus sinks label it. */
export interface ContainerDescription {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface WatcherOptions {
  readonly docker: EngineClient;
  /** Where the Engine is, for messages (never holds a password). */
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called for every parsed stats line, real or empty; the store decides what counts. */
  readonly onSample: (ref: ContainerRef, sample: DockerStats) => void;
  /** A stream that delivers nothing for this long while its container runs is closed and reopened. */
  readonly stallTimeoutMs: number;
  /**
   * 'stream': one stats stream per container (samples arrive through onSample). 'oneshot': no
   * streams; the owner asks for one sample per container with sampleOnce().
   */
  readonly mode: 'stream' | 'oneshot';
  /** Called once if the Engine cannot serve this mode (one-shot stats need API 1.41). */
  readonly onFatal?: (message: string) => void;
  readonly random?: () => number;
}

interface Tracked {
  ref: ContainerRef;
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
 * Follows the Engine: subscribes to container events first, then lists the running containers,
 * and keeps one stats stream open per running container that passes the filter. Opens a stream for
 * each container that starts later, closes it when the container dies or is removed, follows
 * renames. If the Engine cannot be reached, or goes away, it says where it tried and why, and
 * reconnects with capped backoff, then re-lists and reconciles. Uses GET endpoints only.
 *
 * Lifecycle: start() once, stop() once; stop closes every stream and cancels every timer.
 */
export class DockerWatcher {
  readonly #o: WatcherOptions;
  readonly #tracked = new Map<string, Tracked>();
  /** Image and labels of each tracked container, from its inspect (for the Prometheus sinks). */
  readonly #described = new Map<string, { image: string; labels: Readonly<Record<string, string>> }>();
  readonly #pending = new Map<string, Promise<void>>();
  readonly #inspectLimit = pLimit(INSPECT_CONCURRENCY);
  /** Containers whose inspect failed (not a 404), waiting to be looked at again. */
  readonly #retries = new Map<string, { attempts: number; cancel: (() => void) | undefined }>();
  #badEvents = 0;
  readonly #stop = new AbortController();
  #events: EngineStream | undefined;
  /** Ends the current event subscription (its promise in the connect loop resolves). */
  #endEvents: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #connected = false;
  #streamRestarts = 0;
  #badLines = 0;
  #cancelStallCheck: (() => void) | undefined;
  #firstList!: Promise<void>;
  #resolveFirstList!: () => void;

  constructor(opts: WatcherOptions) {
    this.#o = opts;
    this.#firstList = new Promise((resolve) => (this.#resolveFirstList = resolve));
  }

  /** Resolves once the running containers have been listed and their streams opened (or stop). */
  get ready(): Promise<void> {
    return this.#firstList;
  }

  get streamsOpen(): number {
    let n = 0;
    for (const t of this.#tracked.values()) if (t.stream) n += 1;
    return n;
  }

  /** Whether the Engine answered the last list or event subscription (false while reconnecting). */
  get connected(): boolean {
    return this.#connected;
  }

  /** The tracked containers with their image and labels, as known now. */
  described(): ContainerDescription[] {
    return [...this.#tracked.values()].map((t) => ({
      id: t.ref.id,
      name: t.ref.name,
      image: this.#described.get(t.ref.id)?.image ?? '',
      labels: this.#described.get(t.ref.id)?.labels ?? {},
    }));
  }

  get streamRestarts(): number {
    return this.#streamRestarts;
  }

  /** Stats lines and events that were not JSON objects. */
  get badLines(): number {
    return this.#badLines + this.#badEvents;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#connectLoop();
    this.#scheduleStallCheck();
  }

  /** Every quarter of the stall timeout, reopen the streams that have gone quiet. */
  #scheduleStallCheck(): void {
    const { clock, stallTimeoutMs, logger } = this.#o;
    this.#cancelStallCheck = clock.setTimer(() => {
      if (this.#stopped) return;
      const now = clock.now();
      for (const t of this.#tracked.values()) {
        if (t.stream && t.restart && now - t.lastDataAt > stallTimeoutMs) {
          logger.warn('stats stream stalled; reopening it', { container: t.ref.name, silentMs: now - t.lastDataAt });
          t.restart('stalled');
        }
      }
      this.#scheduleStallCheck();
    }, Math.max(250, stallTimeoutMs / 4));
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#cancelStallCheck?.();
    this.#endEvents?.();
    for (const id of [...this.#tracked.keys()]) this.#forget(id);
    for (const id of [...this.#retries.keys()]) this.#cancelRetry(id);
    this.#resolveFirstList();
    await this.#loop;
    await Promise.allSettled(this.#pending.values());
    for (const id of [...this.#tracked.keys()]) this.#forget(id);
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  async #connectLoop(): Promise<void> {
    const { docker, logger, clock, where } = this.#o;
    let attempt = 0;
    const labels = engineLabelFilter(this.#o.filter);
    while (!this.#stopped) {
      try {
        const version = await withTimeout(clock, (signal) => docker.version(signal), 'GET /version');
        if (this.#stopped) break;
        if (this.#o.mode === 'oneshot' && apiBelow(version.ApiVersion, 1, 41)) {
          const message = `--mode oneshot needs Docker Engine API 1.41 or later; ${where} speaks API ${version.ApiVersion}: use --mode stream`;
          logger.error(message);
          this.#o.onFatal?.(message);
          break;
        }
        const events = await withTimeout(
          clock,
          (signal) => docker.events({ type: ['container'], ...(labels.length ? { label: labels } : {}) }, signal),
          'GET /events',
        );
        if (this.#stopped) {
          events.close();
          break;
        }
        this.#events = events;
        const ended = this.#followEvents(events);
        const list = await withTimeout(
          clock,
          (signal) => docker.listContainers({ status: ['running'], ...(labels.length ? { label: labels } : {}) }, signal),
          'GET /containers/json',
        );
        this.#connected = true;
        logger.info('connected to Docker', {
          docker: where,
          engine: version.Version,
          api: version.ApiVersion,
          running: list.length,
        });
        attempt = 0;
        const running = new Set(list.map((c) => c.Id));
        for (const id of [...this.#tracked.keys()]) if (!running.has(id)) this.#forget(id);
        await Promise.allSettled(list.map((c) => this.#consider(c.Id)));
        this.#resolveFirstList();
        await ended;
        this.#connected = false;
        if (this.#stopped) break;
        logger.warn('lost the Docker event stream; reconnecting', { docker: where });
      } catch (err) {
        this.#connected = false;
        this.#events?.close();
        if (this.#stopped) break;
        // Capped low: every stream should be back within a few seconds of the Engine answering again.
        const wait = backoffMs(attempt, 500, 4_000, this.#o.random);
        attempt += 1;
        logger[attempt === 1 ? 'error' : 'warn']('cannot reach Docker; retrying', {
          docker: where,
          error: describe(err),
          attempt,
          retryInMs: wait,
        });
        await sleep(clock, wait, this.#stop.signal);
      }
    }
  }

  /** Feeds container events to #onEvent; resolves when the event stream ends for any reason. */
  #followEvents(events: EngineStream): Promise<void> {
    let badLogged = false;
    const splitter = new LineSplitter(MAX_LINE_BYTES, (line) => {
      let event: DockerEvent;
      try {
        event = JSON.parse(line) as DockerEvent;
      } catch {
        this.#badEvents += 1;
        if (!badLogged) {
          badLogged = true;
          this.#o.logger.warn('skipped a Docker event that is not JSON', { line: line.slice(0, 200) });
        }
        return;
      }
      this.#onEvent(event);
    });
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.#endEvents === done) this.#endEvents = undefined;
        events.close();
        resolve();
      };
      this.#endEvents = done;
      events.start(
        (chunk) => {
          if (!splitter.push(chunk)) done();
        },
        () => done(),
      );
    });
  }

  #onEvent(event: DockerEvent): void {
    const action = event.Action ?? event.status ?? '';
    const id = event.Actor?.ID ?? event.id;
    if (!id || (event.Type !== undefined && event.Type !== 'container')) return;
    switch (action) {
      case 'start':
      case 'unpause':
        void this.#consider(id);
        break;
      case 'die':
      case 'destroy':
        this.#o.logger.debug('container stopped; closing its stats stream', { id: id.slice(0, 12), action });
        this.#forget(id);
        break;
      case 'rename': {
        const tracked = this.#tracked.get(id);
        const name = event.Actor?.Attributes?.['name'];
        if (tracked && name) {
          this.#o.logger.info('container renamed', { id: id.slice(0, 12), from: tracked.ref.name, to: name });
        }
        // Filters may now include or exclude it: decide again from a fresh inspect.
        void this.#consider(id);
        break;
      }
      default:
        // `health_status: healthy` and friends: one inspect per change of health, not per tick.
        if (action.startsWith('health_status')) void this.#consider(id);
        break;
    }
  }

  /**
   * Inspects the container and makes its stream match what it is now: open when running and passing
   * the filter, closed otherwise. Calls for one container run one after another.
   */
  #consider(id: string): Promise<void> {
    const previous = this.#pending.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#inspectLimit(() => this.#reconcile(id)));
    const tracked = next.finally(() => {
      if (this.#pending.get(id) === tracked) this.#pending.delete(id);
    });
    this.#pending.set(id, tracked);
    return tracked;
  }

  async #reconcile(id: string): Promise<void> {
    if (this.#stopped) return;
    let info: ContainerInspect;
    try {
      info = await withTimeout(this.#o.clock, (signal) => this.#o.docker.inspect(id, signal), `GET /containers/${id.slice(0, 12)}/json`);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        this.#forget(id);
      } else {
        this.#retryInspect(id, describe(err));
      }
      return;
    }
    this.#cancelRetry(id);
    if (this.#stopped) return;
    const name = info.Name.replace(/^\//, '');
    const labels = info.Config?.Labels ?? {};
    if (!info.State?.Running || !passesFilter(this.#o.filter, name, labels)) {
      this.#forget(id);
      return;
    }
    const ref: ContainerRef = { id, name, facts: containerFacts(info) };
    this.#described.set(id, { image: info.Config?.Image ?? '', labels });
    const tracked = this.#tracked.get(id);
    if (tracked) {
      tracked.ref = ref;
      if (tracked.stream || tracked.cancelReopen) return;
      if (this.#o.mode === 'stream' && !tracked.opening) void this.#open(tracked);
      return;
    }
    const fresh: Tracked = {
      ref,
      stream: undefined,
      reopenAttempts: 0,
      cancelReopen: undefined,
      lastDataAt: 0,
      restart: undefined,
      opening: undefined,
    };
    this.#tracked.set(id, fresh);
    if (this.#o.mode === 'stream') void this.#open(fresh);
  }

  /** The running containers that pass the filter, as known now. */
  containers(): ContainerRef[] {
    return [...this.#tracked.values()].map((t) => t.ref);
  }

  /**
   * One-shot mode: one sample of one container (`stats?stream=false&one-shot=true`, API 1.41+),
   * answered at once with empty precpu_stats; rates come from the previous tick's sample.
   */
  async sampleOnce(ref: ContainerRef): Promise<DockerStats> {
    const sample = await withTimeout(
      this.#o.clock,
      (signal) => this.#o.docker.statsOnce(ref.id, signal),
      `GET /containers/${ref.id.slice(0, 12)}/stats`,
    );
    if (sample === null || typeof sample !== 'object') {
      this.#badLines += 1;
      throw new Error('the Engine answered something that is not a stats object');
    }
    return sample as DockerStats;
  }

  /**
   * Opens the container's stats stream. The Engine answers a stats request only with its first
   * sample, and never for a stuck container: a request unanswered after the stall timeout is
   * aborted and tried again later, and stop() aborts any still waiting. Runs outside the inspect
   * limit, so that stuck requests cannot hold up the other containers.
   */
  async #open(tracked: Tracked): Promise<void> {
    const { id } = tracked.ref;
    const opening = new AbortController();
    tracked.opening = opening;
    const cancelTimer = this.#o.clock.setTimer(() => opening.abort(), this.#o.stallTimeoutMs);
    let stream: EngineStream;
    try {
      stream = await this.#o.docker.statsStream(id, opening.signal);
    } catch (err) {
      if (this.#stopped || this.#tracked.get(id) !== tracked) return;
      const why = opening.signal.aborted ? `no answer within ${this.#o.stallTimeoutMs} ms` : describe(err);
      this.#o.logger.warn('cannot open stats stream', { container: tracked.ref.name, error: why });
      this.#scheduleReopen(tracked);
      return;
    } finally {
      cancelTimer();
      if (tracked.opening === opening) tracked.opening = undefined;
    }
    if (this.#stopped || this.#tracked.get(id) !== tracked) {
      stream.close();
      return;
    }
    tracked.stream = stream;
    tracked.lastDataAt = this.#o.clock.now();
    this.#o.logger.debug('stats stream open', { container: tracked.ref.name, id: id.slice(0, 12) });
    let badLogged = false;
    let first = true;
    const splitter = new LineSplitter(MAX_LINE_BYTES, (line) => {
      let sample: DockerStats;
      try {
        sample = JSON.parse(line) as DockerStats;
        if (sample === null || typeof sample !== 'object' || Array.isArray(sample)) throw new Error('not an object');
      } catch {
        this.#badLines += 1;
        if (!badLogged) {
          badLogged = true;
          this.#o.logger.warn('skipped a stats line that is not a JSON object', {
            container: tracked.ref.name,
            line: line.slice(0, 120),
          });
        }
        return;
      }
      if (first) {
        first = false;
        this.#o.logger.debug('first stats sample', { container: tracked.ref.name });
      }
      tracked.reopenAttempts = 0;
      this.#o.onSample(tracked.ref, sample);
    });
    const ended = (why: string): void => {
      if (tracked.stream !== stream) return;
      stream.close();
      tracked.stream = undefined;
      tracked.restart = undefined;
      if (this.#stopped || this.#tracked.get(id) !== tracked) return;
      // The container may have stopped (its die event is on its way) or the Engine may be going
      // away (the reconnect will re-list). Otherwise look again after a pause.
      this.#o.logger.debug('stats stream ended', { container: tracked.ref.name, why });
      if (this.#connected) this.#scheduleReopen(tracked);
    };
    tracked.restart = ended;
    stream.start(
      (chunk) => {
        tracked.lastDataAt = this.#o.clock.now();
        if (!splitter.push(chunk)) {
          this.#o.logger.warn('stats line too long; reopening the stream', { container: tracked.ref.name });
          ended('line too long');
        }
      },
      (err) => ended(err ? describe(err) : 'end'),
    );
  }

  #scheduleReopen(tracked: Tracked): void {
    if (tracked.cancelReopen || this.#stopped) return;
    const wait = backoffMs(tracked.reopenAttempts, 1_000, 30_000, this.#o.random);
    tracked.reopenAttempts += 1;
    tracked.cancelReopen = this.#o.clock.setTimer(() => {
      tracked.cancelReopen = undefined;
      if (this.#tracked.get(tracked.ref.id) !== tracked || this.#stopped) return;
      this.#streamRestarts += 1;
      void this.#consider(tracked.ref.id);
    }, wait);
  }

  /** A failed inspect (not a 404) is tried again with backoff while the container may still run. */
  #retryInspect(id: string, error: string): void {
    if (this.#stopped) return;
    const entry = this.#retries.get(id) ?? { attempts: 0, cancel: undefined };
    if (entry.cancel) return;
    const wait = backoffMs(entry.attempts, 1_000, 30_000, this.#o.random);
    entry.attempts += 1;
    this.#o.logger.warn('cannot inspect container; will try again', { id: id.slice(0, 12), error, retryInMs: wait });
    entry.cancel = this.#o.clock.setTimer(() => {
      entry.cancel = undefined;
      if (!this.#stopped) void this.#consider(id);
    }, wait);
    this.#retries.set(id, entry);
  }

  #cancelRetry(id: string): void {
    this.#retries.get(id)?.cancel?.();
    this.#retries.delete(id);
  }

  #forget(id: string): void {
    this.#cancelRetry(id);
    this.#described.delete(id);
    const tracked = this.#tracked.get(id);
    if (!tracked) return;
    tracked.opening?.abort();
    tracked.opening = undefined;
    this.#tracked.delete(id);
    tracked.cancelReopen?.();
    tracked.cancelReopen = undefined;
    const stream = tracked.stream;
    tracked.stream = undefined;
    stream?.close();
  }
}

/** Start time, restart count and health, as the reducer wants them. */
function containerFacts(info: ContainerInspect): ContainerFacts {
  const started = Date.parse(info.State?.StartedAt ?? '');
  const health = info.State?.Health;
  const status = health?.Status;
  return {
    startedAtMs: Number.isFinite(started) && started > 0 ? started : undefined,
    restartCount: typeof info.RestartCount === 'number' ? info.RestartCount : undefined,
    health:
      status === 'healthy' || status === 'unhealthy' || status === 'starting'
        ? { status, failingStreak: health?.FailingStreak ?? 0 }
        : undefined,
  };
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  /** API < 1.22. */
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** Is an API version such as "1.40" below major.minor? */
function apiBelow(version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return true;
  return Number(m[1]) < major || (Number(m[1]) === major && Number(m[2]) < minor);
}

/** Runs an Engine call that must answer within CALL_TIMEOUT_MS; past that it is aborted (its socket closed). */
function withTimeout<T>(clock: Clock, call: (signal: AbortSignal) => Promise<T>, what: string): Promise<T> {
  const abort = new AbortController();
  let cancel = (): void => {};
  const timeout = new Promise<never>((_, reject) => {
    cancel = clock.setTimer(() => {
      reject(new Error(`${what} did not answer within ${CALL_TIMEOUT_MS / 1000} s`));
      abort.abort();
    }, CALL_TIMEOUT_MS);
  });
  return Promise.race([call(abort.signal), timeout]).finally(cancel);
}

/** An error for a log line: the Engine's message plus the system error code when there is one. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  const status = (err as { statusCode?: number }).statusCode;
  let text = err.message.replace(/\s+/g, ' ').trim();
  if (code && !text.includes(code)) text = `${code}: ${text}`;
  if (status && !text.includes(String(status))) text = `HTTP ${status}: ${text}`;
  return text;
}

import pLimit from 'p-limit';
import { backoffMs, sleep, type Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ContainerListener } from '../model/collector.js';
import { containerRef, withOomEvents } from './container.js';
import type { ContainerExit, ContainerRef } from '../model/container.js';
import { withTimeout } from './engine-calls.js';
import type { ContainerInspect, EngineClient, EngineStream, EngineVersion } from './engine.js';
import { engineLabelFilter, passesFilter, type ContainerFilter } from './filter.js';
import { JsonLines } from './json-lines.js';

/** An event line longer than this without a newline is not an event: the subscription is renewed. */
const MAX_LINE_BYTES = 1 << 20;
/** At most this many inspects at once when many containers show up together. */
const INSPECT_CONCURRENCY = 8;
/**
 * The Engine sends a burst of `oom` events per kill (one per time the group hits its limit): an
 * event this soon after the last one counted for the container is taken as part of the same kill.
 */
export const OOM_REPEAT_MS = 1_000;

export interface TrackerOptions {
  readonly engine: EngineClient;
  /** Where the Engine is, for messages (never holds a password). */
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly listener: ContainerListener;
  /** Called once per `die` event of a container that passes the filter, after an inspect says what it can. */
  readonly onExit?: ((exit: ContainerExit) => void) | undefined;
  /** Called each time the Engine answers after a (re)connect, before the containers are listed. */
  readonly onConnected?: (version: EngineVersion) => void;
  readonly random?: () => number;
}

/**
 * Container tracking: subscribes to container events first, then lists the running containers,
 * inspects each and tells the listener which to follow; follows starts, deaths, removals, renames,
 * updates (limits) and health changes; says how each container exited (onExit) and counts its
 * OOM kills from the Engine's `oom` events (ContainerFacts.oomEvents).
 * If the Engine cannot be reached, or goes away, it says where it tried and
 * why, and reconnects with capped backoff, then re-lists and reconciles. Uses GET endpoints only.
 *
 * Lifecycle: start() once, stop() once; stop cancels every timer and call.
 */
export class ContainerTracker {
  readonly #o: TrackerOptions;
  readonly #followed = new Map<string, ContainerRef>();
  readonly #pending = new Map<string, Promise<void>>();
  /** Per container, OOM kills counted from `oom` events since its last start, and when the last was counted. */
  readonly #oom = new Map<string, { kills: number; lastMs: number }>();
  readonly #inspectLimit = pLimit(INSPECT_CONCURRENCY);
  /** Containers whose inspect failed (not a 404), waiting to be looked at again. */
  readonly #retries = new Map<string, { attempts: number; cancel: (() => void) | undefined }>();
  readonly #stop = new AbortController();
  #events: EngineStream | undefined;
  /** Ends the current event subscription (its promise in the connect loop resolves). */
  #endEvents: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #connected = false;
  #badEvents = 0;
  readonly #firstList: Promise<void>;
  #resolveFirstList!: () => void;

  constructor(opts: TrackerOptions) {
    this.#o = opts;
    this.#firstList = new Promise((resolve) => (this.#resolveFirstList = resolve));
  }

  /** Resolves once the running containers have been listed and inspected (or on stop). */
  get ready(): Promise<void> {
    return this.#firstList;
  }

  /** Whether the Engine answered the last list or event subscription (false while reconnecting). */
  get connected(): boolean {
    return this.#connected;
  }

  /** Event lines that were not JSON. */
  get badEvents(): number {
    return this.#badEvents;
  }

  /** The followed containers, as of their latest inspect. */
  followed(): ContainerRef[] {
    return [...this.#followed.values()];
  }

  start(): void {
    this.#loop ??= this.#connectLoop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#endEvents?.();
    for (const id of [...this.#retries.keys()]) this.#cancelRetry(id);
    this.#resolveFirstList();
    await this.#loop;
    await Promise.allSettled(this.#pending.values());
  }

  /**
   * Inspects the container again and tells the listener what it is now (a stream that ended asks
   * whether its container still runs). Calls for one container run one after another.
   */
  recheck(id: string): Promise<void> {
    return this.#queue(id, () => this.#reconcile(id));
  }

  /** Runs an inspect-based task after the container's earlier ones, within the inspect concurrency. */
  #queue(id: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#pending.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#inspectLimit(task));
    const tracked = next.finally(() => {
      if (this.#pending.get(id) === tracked) this.#pending.delete(id);
    });
    this.#pending.set(id, tracked);
    return tracked;
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  async #connectLoop(): Promise<void> {
    const { engine, logger, clock, where } = this.#o;
    let attempt = 0;
    const labels = engineLabelFilter(this.#o.filter);
    while (!this.#stopped) {
      try {
        const version = await withTimeout(clock, (signal) => engine.version(signal), 'GET /version');
        if (this.#stopped) break;
        this.#o.onConnected?.(version);
        const events = await withTimeout(
          clock,
          (signal) => engine.events({ type: ['container'], ...(labels.length ? { label: labels } : {}) }, signal),
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
          (signal) =>
            engine.listContainers({ status: ['running'], ...(labels.length ? { label: labels } : {}) }, signal),
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
        for (const id of [...this.#followed.keys()]) if (!running.has(id)) this.#forget(id);
        await Promise.allSettled(list.map((c) => this.recheck(c.Id)));
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
          error: describeError(err),
          attempt,
          retryInMs: wait,
        });
        await sleep(clock, wait, this.#stop.signal);
      }
    }
  }

  /** Feeds container events to #onEvent; resolves when the event stream ends for any reason. */
  #followEvents(events: EngineStream): Promise<void> {
    const reader = new JsonLines(
      MAX_LINE_BYTES,
      (event) => this.#onEvent(event as DockerEvent),
      (line, first) => {
        this.#badEvents += 1;
        if (!first) return;
        this.#o.logger.warn('skipped a Docker event that is not a JSON object', { line: line.slice(0, 200) });
      },
    );
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.#endEvents === done) this.#endEvents = undefined;
        events.close();
        resolve();
      };
      this.#endEvents = done;
      events.start(
        (chunk) => {
          if (!reader.push(chunk)) done();
        },
        () => done(),
      );
    });
  }

  #onEvent(event: DockerEvent): void {
    const action = event.Action ?? event.status ?? '';
    const id = event.Actor?.ID ?? event.id;
    if (
      !id ||
      typeof id !== 'string' ||
      typeof action !== 'string' ||
      (event.Type !== undefined && event.Type !== 'container')
    )
      return;
    switch (action) {
      case 'start':
        // A new run: the kernel's count starts again from 0 in its new group, and so does this one.
        this.#oom.delete(id);
        void this.recheck(id);
        break;
      case 'unpause':
      case 'update':
        void this.recheck(id);
        break;
      case 'die': {
        const last = this.#followed.get(id);
        this.#o.logger.debug('container stopped; no longer following it', { id: id.slice(0, 12), action });
        this.#forget(id);
        this.#exited(id, event, last);
        break;
      }
      case 'destroy':
        this.#o.logger.debug('container removed; no longer following it', { id: id.slice(0, 12), action });
        this.#forget(id);
        this.#oom.delete(id);
        break;
      case 'oom':
        this.#countOom(id, eventTimeMs(event) ?? this.#o.clock.now());
        break;
      case 'rename': {
        const followed = this.#followed.get(id);
        const name = event.Actor?.Attributes?.['name'];
        if (followed && name)
          this.#o.logger.info('container renamed', { id: id.slice(0, 12), from: followed.name, to: name });
        // Filters may now include or exclude it: decide again from a fresh inspect.
        void this.recheck(id);
        break;
      }
      default:
        // `health_status: healthy` and friends: one inspect per change of health, not per tick.
        if (action.startsWith('health_status')) void this.recheck(id);
        break;
    }
  }

  async #reconcile(id: string): Promise<void> {
    if (this.#stopped) return;
    let container: ContainerRef;
    try {
      const info = await withTimeout(
        this.#o.clock,
        (signal) => this.#o.engine.inspect(id, signal),
        `GET /containers/${id.slice(0, 12)}/json`,
      );
      if (this.#stopped) return;
      this.#cancelRetry(id);
      if (!info.State?.Running) {
        this.#forget(id);
        return;
      }
      container = containerRef(id, info);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) this.#forget(id);
      else this.#retryInspect(id, describeError(err));
      return;
    }
    if (!passesFilter(this.#o.filter, container.name, container.labels)) {
      this.#forget(id);
      return;
    }
    container = withOomEvents(container, this.#oom.get(id)?.kills ?? 0);
    this.#followed.set(id, container);
    this.#o.listener.follow(container);
  }

  /** One more OOM kill unless the event repeats the last one counted (OOM_REPEAT_MS). */
  #countOom(id: string, atMs: number): void {
    const entry = this.#oom.get(id);
    if (entry && atMs - entry.lastMs < OOM_REPEAT_MS) return;
    const kills = (entry?.kills ?? 0) + 1;
    this.#oom.set(id, { kills, lastMs: atMs });
    const followed = this.#followed.get(id);
    if (!followed) return;
    const container = withOomEvents(followed, kills);
    this.#followed.set(id, container);
    this.#o.listener.follow(container);
  }

  /**
   * A `die` event: the exit code is the event's; whether it was OOM-killed, an inspect's (only while
   * the inspect still describes the run that ended: not running, or waiting to restart). A container
   * removed before the inspect (`--rm`) gives its exit code alone.
   */
  #exited(id: string, event: DockerEvent, last: ContainerRef | undefined): void {
    const onExit = this.#o.onExit;
    if (!onExit || this.#stopped) return;
    const atMs = eventTimeMs(event) ?? this.#o.clock.now();
    const eventCode = exitCodeOf(event.Actor?.Attributes?.['exitCode']);
    void this.#queue(id, async () => {
      if (this.#stopped) return;
      let info: ContainerInspect | undefined;
      try {
        const what = `GET /containers/${id.slice(0, 12)}/json`;
        info = await withTimeout(this.#o.clock, (signal) => this.#o.engine.inspect(id, signal), what);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) {
          const error = describeError(err);
          this.#o.logger.debug('cannot inspect a container that stopped', { id: id.slice(0, 12), error });
        }
      }
      if (this.#stopped) return;
      const state = info?.State;
      const ended = state !== undefined && (state.Running !== true || state.Restarting === true);
      let container = last;
      if (!container && info) {
        const fresh = containerRef(id, info);
        if (passesFilter(this.#o.filter, fresh.name, fresh.labels)) container = fresh;
      }
      const exitCode = eventCode ?? (ended ? exitCodeOf(state?.ExitCode) : undefined);
      if (!container || exitCode === undefined) return;
      const oomKilled = ended && typeof state?.OOMKilled === 'boolean' ? state.OOMKilled : undefined;
      onExit({ container, exitCode, oomKilled, atMs });
    });
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
      if (!this.#stopped) void this.recheck(id);
    }, wait);
    this.#retries.set(id, entry);
  }

  #cancelRetry(id: string): void {
    this.#retries.get(id)?.cancel?.();
    this.#retries.delete(id);
  }

  #forget(id: string): void {
    this.#cancelRetry(id);
    if (!this.#followed.delete(id)) return;
    this.#o.listener.unfollow(id);
  }
}

/** The event's time (`timeNano`, else `time`) in epoch ms, or undefined when it has none that makes sense. */
function eventTimeMs(event: DockerEvent): number | undefined {
  const nano = event.timeNano;
  if (typeof nano === 'number' && Number.isFinite(nano) && nano > 0) return Math.floor(nano / 1e6);
  const seconds = event.time;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return undefined;
}

/** An exit code as the Engine gives it (a string in events, a number in inspect), or undefined. */
function exitCodeOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^-?\d{1,10}$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

interface DockerEvent {
  Type?: string;
  time?: number;
  timeNano?: number;
  Action?: string;
  /** API < 1.22. */
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

import pLimit from 'p-limit';
import { backoffMs, sleep, type Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { containerRef, type ContainerRef } from './container.js';
import { withTimeout } from './engine-calls.js';
import type { EngineClient, EngineStream, EngineVersion } from './engine.js';
import { engineLabelFilter, passesFilter, type ContainerFilter } from './filter.js';
import { JsonLines } from './json-lines.js';

/** An event line longer than this without a newline is not an event: the subscription is renewed. */
const MAX_LINE_BYTES = 1 << 20;
/** At most this many inspects at once when many containers show up together. */
const INSPECT_CONCURRENCY = 8;

/** Told which containers to follow; called in order for any one container. */
export interface TrackerListener {
  /** A running container that passes the filter: new, or with new facts (a rename, a health change). */
  follow(container: ContainerRef): void;
  /** It stopped, was removed, or no longer passes the filter. */
  unfollow(id: string): void;
}

export interface TrackerOptions {
  readonly engine: EngineClient;
  /** Where the Engine is, for messages (never holds a password). */
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly listener: TrackerListener;
  /** Called each time the Engine answers after a (re)connect, before the containers are listed. */
  readonly onConnected?: (version: EngineVersion) => void;
  readonly random?: () => number;
}

/**
 * Container tracking: subscribes to container events first, then lists the running containers,
 * inspects each and tells the listener which to follow; follows starts, deaths, removals, renames
 * and health changes. If the Engine cannot be reached, or goes away, it says where it tried and
 * why, and reconnects with capped backoff, then re-lists and reconciles. Uses GET endpoints only.
 *
 * Lifecycle: start() once, stop() once; stop cancels every timer and call.
 */
export class ContainerTracker {
  readonly #o: TrackerOptions;
  readonly #followed = new Map<string, ContainerRef>();
  readonly #pending = new Map<string, Promise<void>>();
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
    const previous = this.#pending.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#inspectLimit(() => this.#reconcile(id)));
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
          (signal) => engine.listContainers({ status: ['running'], ...(labels.length ? { label: labels } : {}) }, signal),
          'GET /containers/json',
        );
        this.#connected = true;
        logger.info('connected to Docker', { docker: where, engine: version.Version, api: version.ApiVersion, running: list.length });
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
        logger[attempt === 1 ? 'error' : 'warn']('cannot reach Docker; retrying', { docker: where, error: describeError(err), attempt, retryInMs: wait });
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
    if (!id || typeof id !== 'string' || typeof action !== 'string' || (event.Type !== undefined && event.Type !== 'container')) return;
    switch (action) {
      case 'start':
      case 'unpause':
        void this.recheck(id);
        break;
      case 'die':
      case 'destroy':
        this.#o.logger.debug('container stopped; no longer following it', { id: id.slice(0, 12), action });
        this.#forget(id);
        break;
      case 'rename': {
        const followed = this.#followed.get(id);
        const name = event.Actor?.Attributes?.['name'];
        if (followed && name) this.#o.logger.info('container renamed', { id: id.slice(0, 12), from: followed.name, to: name });
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
      const info = await withTimeout(this.#o.clock, (signal) => this.#o.engine.inspect(id, signal), `GET /containers/${id.slice(0, 12)}/json`);
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
    this.#followed.set(id, container);
    this.#o.listener.follow(container);
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

interface DockerEvent {
  Type?: string;
  Action?: string;
  /** API < 1.22. */
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

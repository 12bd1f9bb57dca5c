import type { Clock } from '../clock.js';
import { collectorStatus, type Collector, type CollectorStatus, type SampleHandler } from '../docker/collector.js';
import type { ContainerRef } from '../docker/container.js';
import type { EngineClient } from '../docker/engine.js';
import type { ContainerFilter } from '../docker/filter.js';
import { trackedStreams, type StatsStreams } from '../docker/stream-collector.js';
import type { ContainerTracker } from '../docker/tracker.js';
import type { Logger } from '../log.js';
import type { CgroupPaths, CgroupTarget } from './locate.js';
import type { CgroupFailure } from './outcome.js';
import { openCgroupReader, type CgroupReader } from './reader.js';

/** Each container is read once a second, as often as the Engine's stats stream sends a sample. */
const SAMPLE_EVERY_MS = 1_000;
/** The read loop wakes this often and reads the containers that are due: reads spread over the second. */
const SLICE_MS = 100;

export interface CgroupCollectorOptions extends CgroupPaths {
  readonly engine: EngineClient;
  /** Where the Engine is, for messages (never holds a password). */
  readonly where: string;
  readonly filter: ContainerFilter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** For the containers that fall back to the Engine's stats stream. */
  readonly stallTimeoutMs: number;
  readonly onSample: SampleHandler;
  readonly random?: () => number;
}

interface Followed {
  container: ContainerRef;
  /** Where its kernel files are; undefined until located (or while its process is gone). */
  target: CgroupTarget | undefined;
  /** The PID the target was located from. */
  pid: number | undefined;
  /** Read from the kernel, or from the Engine's stream since a file could not be read. */
  source: 'kernel' | 'stream';
  /** Clock ms of its next read. */
  dueAt: number;
}

/**
 * `--mode cgroup`: containers are discovered and named through the Engine (the container tracker:
 * events, list, inspect, with `State.Pid`), but their samples are read from the kernel, once a
 * second each: the cgroup files of the container's group, found from `/proc/<pid>/cgroup`, and the
 * network counters of its namespace, `/proc/<pid>/net/dev` (src/cgroup/reader.ts computes them as
 * the Engine does). So the stream mode's guarantees hold (short-lived containers reported, exact
 * interval rates) without the Engine producing a stats stream per container.
 *
 * A container whose files cannot be read (permissions, a kernel without a controller, a cgroup
 * namespace hiding the group) falls back to the Engine's stats stream, and the reason is logged
 * once for it; when the kernel trees cannot be read at all, every container does, said once. A
 * container that exits between two reads is not an error: it is read again once a new inspect
 * (its start event) gives a new PID.
 *
 * Reads are synchronous (about a dozen small files of kernfs and procfs, kept open between reads
 * and let go when the container is: reader.ts has the figures): the loop wakes every 100 ms and
 * reads the containers that are due, so that the reads of many containers are spread over each
 * second instead of done in one block.
 */
export class CgroupCollector implements Collector {
  readonly sampling = 'continuous';
  readonly failed: Promise<string> = new Promise(() => {});
  readonly #o: CgroupCollectorOptions;
  readonly #tracker: ContainerTracker;
  readonly #streams: StatsStreams;
  readonly #followed = new Map<string, Followed>();
  #reader: CgroupReader | undefined;
  #stopped = false;
  #cancelLoop: (() => void) | undefined;
  #kernelSamples = 0;

  constructor(opts: CgroupCollectorOptions) {
    this.#o = opts;
    // Every container's news come here; only the ones that fall back go on to the streams.
    ({ tracker: this.#tracker, streams: this.#streams } = trackedStreams(opts, () => ({
      follow: (c) => this.#follow(c),
      unfollow: (id) => this.#unfollow(id),
    })));
  }

  get ready(): Promise<void> {
    return this.#tracker.ready;
  }

  /** Samples read from the kernel since start (the Engine's streams' are not counted here). */
  get kernelSamples(): number {
    return this.#kernelSamples;
  }

  status(): CollectorStatus {
    return collectorStatus({ tracker: this.#tracker, streams: this.#streams });
  }

  start(): void {
    const { hostProc, cgroupRoot, clock, logger } = this.#o;
    const opened = openCgroupReader({ hostProc, cgroupRoot, now: () => clock.now() });
    if (opened.kind === 'ready') {
      this.#reader = opened.reader;
      logger.info('reading samples from the kernel', { hostProc, cgroupRoot, cgroup: `v${opened.reader.version}` });
    } else {
      logger.error('cannot read the kernel\'s cgroup and /proc trees; every container falls back to the Engine\'s stats stream', {
        hostProc,
        cgroupRoot,
        error: describeFailure(opened),
      });
    }
    this.#streams.start();
    this.#tracker.start();
    this.#scheduleLoop();
  }

  /**
   * Samples are read on their own, once a second; before a tick, what waits in the held streams of
   * the containers that fell back is read.
   */
  collect(): Promise<void> {
    return this.#streams.flush();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelLoop?.();
    this.#streams.stop();
    await this.#tracker.stop();
    this.#reader?.close();
  }

  #follow(container: ContainerRef): void {
    if (this.#stopped) return;
    const known = this.#followed.get(container.id);
    if (known) {
      known.container = container;
      if (known.source === 'stream') this.#streams.follow(container);
      // Started again (a new init process): find its group anew.
      else if (container.facts.pid !== known.pid) this.#locate(known);
      return;
    }
    const fresh: Followed = { container, target: undefined, pid: undefined, source: 'kernel', dueAt: this.#o.clock.now() };
    this.#followed.set(container.id, fresh);
    if (!this.#reader) this.#fallBack(fresh, undefined);
    else this.#locate(fresh);
  }

  #unfollow(id: string): void {
    const f = this.#followed.get(id);
    if (!f) return;
    this.#followed.delete(id);
    this.#drop(f);
    if (f.source === 'stream') this.#streams.unfollow(id);
  }

  /** Lets go of the container's kernel files (the reader keeps them open between reads). */
  #drop(f: Followed): void {
    if (f.target) this.#reader?.release(f.target);
    f.target = undefined;
  }

  #locate(f: Followed): void {
    const pid = f.container.facts.pid;
    f.pid = pid;
    this.#drop(f);
    if (pid === undefined) {
      this.#fallBack(f, 'the Engine gave no PID for its init process');
      return;
    }
    const located = this.#reader!.locate(f.container.id, pid);
    if (located.kind === 'located') {
      f.target = located.target;
      f.dueAt = this.#o.clock.now();
    } else if (located.kind === 'unreadable') this.#fallBack(f, describeFailure(located));
    // 'gone': it exited already; its next start event brings a new PID.
  }

  /** From now on the container's samples come from the Engine's stats stream; said once, with why. */
  #fallBack(f: Followed, why: string | undefined): void {
    f.source = 'stream';
    this.#drop(f);
    if (why !== undefined) {
      this.#o.logger.warn('cannot read a container\'s samples from the kernel; using the Engine\'s stats stream for it', {
        container: f.container.name,
        error: why,
      });
    }
    this.#streams.follow(f.container);
  }

  #scheduleLoop(): void {
    this.#cancelLoop = this.#o.clock.setTimer(() => {
      if (this.#stopped) return;
      this.#readDue();
      this.#scheduleLoop();
    }, SLICE_MS);
  }

  /** Reads every container whose second has come. */
  #readDue(): void {
    const reader = this.#reader;
    if (!reader) return;
    const now = this.#o.clock.now();
    reader.round(() => this.#readEach(now));
  }

  #readEach(now: number): void {
    // Nothing below adds or removes followed containers: the map is walked as it is.
    for (const f of this.#followed.values()) {
      if (f.source !== 'kernel' || f.target === undefined || f.dueAt > now) continue;
      // Keep each container on its own beat, but never run behind by more than one read.
      f.dueAt = Math.max(f.dueAt + SAMPLE_EVERY_MS, now);
      const outcome = this.#reader!.read(f.target);
      if (outcome.kind === 'sample') {
        this.#kernelSamples += 1;
        this.#o.onSample(f.container, outcome.values);
      } else if (outcome.kind === 'gone') {
        // Exited between two reads: not an error. A restart brings a new PID (and a new target).
        // The reader has let go of the target's files already.
        f.target = undefined;
        this.#o.logger.debug('container gone between two reads', { container: f.container.name, detail: outcome.detail });
      } else this.#fallBack(f, describeFailure(outcome));
    }
  }
}

function describeFailure(f: CgroupFailure): string {
  return f.kind === 'unreadable' ? `${f.file}: ${f.reason}` : f.detail;
}

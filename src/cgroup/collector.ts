import type { Clock } from '../clock.js';
import type {
  Collector,
  CollectorStatus,
  ContainerListener,
  FollowedContainers,
  SampleHandler,
} from '../model/collector.js';
import type { ContainerRef } from '../model/container.js';
import type { Logger } from '../log.js';
import type { CgroupPaths, CgroupTarget } from './locate.js';
import type { CgroupFailure } from './outcome.js';
import { openCgroupReader, type CgroupReader } from './reader.js';

/** Each container is read once a second, as often as the Engine's stats stream sends a sample. */
const SAMPLE_EVERY_MS = 1_000;
/**
 * The read loop wakes this long after the first container is due, and reads every container due
 * by then (so up to this late, as when it woke every 100 ms): containers whose seconds begin close
 * together are read in one wake-up (docs/architecture.md §7).
 */
const GATHER_MS = 100;
/** A container's second read, the first on the collector's beat, comes at least this long after its first. */
const FIRST_GAP_MS = 500;

export interface CgroupCollectorOptions extends CgroupPaths {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onSample: SampleHandler;
  /**
   * The Engine's side, made once with the collector's listener: the containers to follow, and a
   * stats stream for each one whose files cannot be read (the daemon makes it from docker/).
   */
  readonly engineSide: (listener: ContainerListener) => FollowedContainers;
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
 * and let go when the container is: docs/cgroup.md has the figures). A container is read as soon as it
 * is located (within GATHER_MS), then on the collector's beat, once a second, with every other
 * container (nextDue): one wake-up a second however the containers' starts are spread, as the
 * stream collector's rounds. Each wake-up that runs JavaScript costs about as much as reading a
 * container (docs/architecture.md §7). The loop wakes GATHER_MS after the first is due and reads
 * every container due by then; ten wake-ups a second at most.
 */
export class CgroupCollector implements Collector {
  readonly sampling = 'continuous';
  readonly failed: Promise<string> = new Promise(() => {});
  readonly #o: CgroupCollectorOptions;
  readonly #engine: FollowedContainers;
  readonly #followed = new Map<string, Followed>();
  #reader: CgroupReader | undefined;
  #stopped = false;
  #cancelLoop: (() => void) | undefined;
  /** Clock ms the loop's timer is set for. */
  #wakeAt = Number.POSITIVE_INFINITY;
  /** Clock ms of the beat (the start, plus whole seconds) that each container's later reads keep to (nextDue). */
  #beat = 0;

  constructor(opts: CgroupCollectorOptions) {
    this.#o = opts;
    // Every container's news come here; only the ones that fall back go on to the streams.
    this.#engine = opts.engineSide({ follow: (c) => this.#follow(c), unfollow: (id) => this.#unfollow(id) });
  }

  get ready(): Promise<void> {
    return this.#engine.ready;
  }

  status(): CollectorStatus {
    return this.#engine.status();
  }

  start(): void {
    const { hostProc, cgroupRoot, clock, logger } = this.#o;
    this.#beat = clock.now();
    const opened = openCgroupReader({ hostProc, cgroupRoot, now: () => clock.now() });
    if (opened.kind === 'ready') {
      this.#reader = opened.reader;
      logger.info('reading samples from the kernel', { hostProc, cgroupRoot, cgroup: `v${opened.reader.version}` });
    } else {
      logger.error(
        "cannot read the kernel's cgroup and /proc trees; every container falls back to the Engine's stats stream",
        {
          hostProc,
          cgroupRoot,
          error: describeFailure(opened),
        },
      );
    }
    this.#engine.start();
    this.#scheduleLoop();
  }

  /**
   * Samples are read on their own, once a second; before a tick, what waits in the held streams of
   * the containers that fell back is read.
   */
  collect(): Promise<void> {
    return this.#engine.streams.flush();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelLoop?.();
    await this.#engine.stop();
    this.#reader?.close();
  }

  #follow(container: ContainerRef): void {
    if (this.#stopped) return;
    const known = this.#followed.get(container.id);
    if (known) {
      known.container = container;
      if (known.source === 'stream') this.#engine.streams.follow(container);
      // Started again (a new init process): find its group anew.
      else if (container.facts.pid !== known.pid) this.#locate(known);
      return;
    }
    const fresh: Followed = {
      container,
      target: undefined,
      pid: undefined,
      source: 'kernel',
      dueAt: this.#o.clock.now(),
    };
    this.#followed.set(container.id, fresh);
    if (!this.#reader) this.#fallBack(fresh, undefined);
    else this.#locate(fresh);
  }

  #unfollow(id: string): void {
    const f = this.#followed.get(id);
    if (!f) return;
    this.#followed.delete(id);
    this.#drop(f);
    if (f.source === 'stream') this.#engine.streams.unfollow(id);
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
      // Read it at the loop's next wake-up, or GATHER_MS from now if that is sooner (nextWake).
      if (!this.#stopped && f.dueAt + GATHER_MS < this.#wakeAt) this.#scheduleLoop();
    } else if (located.kind === 'unreadable') this.#fallBack(f, describeFailure(located));
    // 'gone': it exited already; its next start event brings a new PID.
  }

  /** From now on the container's samples come from the Engine's stats stream; said once, with why. */
  #fallBack(f: Followed, why: string | undefined): void {
    f.source = 'stream';
    this.#drop(f);
    if (why !== undefined) {
      this.#o.logger.warn("cannot read a container's samples from the kernel; using the Engine's stats stream for it", {
        container: f.container.name,
        error: why,
      });
    }
    this.#engine.streams.follow(f.container);
  }

  /** Sets the loop's timer for when the next container is due (nextWake). */
  #scheduleLoop(): void {
    const now = this.#o.clock.now();
    const next = nextWake(now, this.#kernelDues());
    this.#cancelLoop?.();
    this.#wakeAt = next;
    this.#cancelLoop = this.#o.clock.setTimer(() => {
      if (this.#stopped) return;
      this.#readDue();
      this.#scheduleLoop();
    }, next - now);
  }

  *#kernelDues(): Iterable<number> {
    for (const f of this.#followed.values()) if (f.source === 'kernel' && f.target !== undefined) yield f.dueAt;
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
      f.dueAt = nextDue(f.dueAt, now, this.#beat);
      const outcome = this.#reader!.read(f.target);
      if (outcome.kind === 'sample') {
        this.#o.onSample(f.container, outcome.values);
      } else if (outcome.kind === 'gone') {
        // Exited between two reads: not an error. A restart brings a new PID (and a new target).
        // The reader has let go of the target's files already.
        f.target = undefined;
        this.#o.logger.debug('container gone between two reads', {
          container: f.container.name,
          detail: outcome.detail,
        });
      } else this.#fallBack(f, describeFailure(outcome));
    }
  }
}

/**
 * When the read loop wakes next (clock ms): GATHER_MS after the first of the containers read from
 * the kernel is due (`dues`), GATHER_MS after `now` at the soonest, and a second after it when
 * none is.
 */
export function nextWake(now: number, dues: Iterable<number>): number {
  let next = now + SAMPLE_EVERY_MS;
  for (const due of dues) if (due + GATHER_MS < next) next = due + GATHER_MS;
  return Math.max(next, now + GATHER_MS);
}

/**
 * A container's next due time after a read at `now` (it was due at `dueAt`): the collector's next
 * beat (`beat` plus whole seconds) that is at least FIRST_GAP_MS after `dueAt` and after `now`. A
 * container on the beat is read a second later; one just located, read at once, joins the beat
 * 0.5–1.5 s later. Never more than one read behind: after a stall, the next beat.
 */
export function nextDue(dueAt: number, now: number, beat: number): number {
  const earliest = Math.max(dueAt + FIRST_GAP_MS, now + 1);
  return beat + Math.ceil((earliest - beat) / SAMPLE_EVERY_MS) * SAMPLE_EVERY_MS;
}

function describeFailure(f: CgroupFailure): string {
  return f.kind === 'unreadable' ? `${f.file}: ${f.reason}` : f.detail;
}

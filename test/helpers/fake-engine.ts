import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadSamples } from './fixtures.js';

/**
 * A fake Docker Engine of the tests' own: a `node:http` server on a Unix socket that speaks the
 * subset of the Engine API the daemon uses (docs/architecture.md §2), with each container's stats stream
 * scripted by the test, so that faults a real Engine will not produce on demand can be injected.
 *
 * Routes (each also under a `/v1.xx` prefix):
 *   GET /version                           a version object
 *   GET /containers/json                   the running containers (all of them with `all=1`), list shape,
 *                                          with the `label` filter applied (`Status` text as the Engine's);
 *                                          with size=1 each also has SizeRw and SizeRootFs (`sizes`)
 *   GET /info                              `Swarm` as `swarm` says (inactive unless a test sets it)
 *   GET /services                          `services` with ServiceStatus (when status=true); 503 when
 *                                          `swarm` is not a manager, as the Engine answers
 *   GET /containers/{id}/json              inspect; 404 for an unknown container; 500 while a failure
 *                                          injected by failInspect() lasts
 *   GET /events                            kept open; `emit()` pushes container events to it
 *   GET /containers/{id}/stats             a stream scripted by the container's behaviour:
 *     normal   one valid sample line every `intervalMs`
 *     garbage  every `intervalMs`: non-JSON lines, JSON that is not an object, and a valid sample,
 *              written as one chunk cut at a random place (so lines also straddle chunks)
 *     endless  bytes without a newline, in 64 KiB chunks as fast as the client reads, until it
 *              closes the connection
 *     stall    one valid sample, then nothing, connection kept open
 *     hang     no answer at all (not even the headers), connection kept open
 *   A stream's behaviour is fixed when it opens: `setBehaviour` affects the next open, which is
 *   how a test makes the reopened stream deliver normally. A stopped container's stream sends the
 *   Engine's empty samples (`read` = 0001-01-01…); removing a container ends its streams.
 *   Anything else (any other method or path) → 404, recorded in `unknown`.
 *
 * Every request is recorded in `requests`. Client aborts never throw. `close()` destroys every
 * connection (so the daemon sees the Engine go away) and removes the socket file, so that a new
 * fake can listen on the same path.
 */

export type StatsBehaviour = 'normal' | 'garbage' | 'endless' | 'stall' | 'hang';

export interface FakeContainerSpec {
  readonly name: string;
  /** 64 hex characters; generated when absent. */
  readonly id?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly behaviour?: StatsBehaviour;
  /** Inspect's `HostConfig` (limits), as the Engine would give it. */
  readonly hostConfig?: Readonly<Record<string, unknown>>;
  /** A healthcheck's status; none when absent. */
  readonly health?: 'starting' | 'healthy' | 'unhealthy';
}

export interface FakeContainer {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  behaviour: StatsBehaviour;
  running: boolean;
  paused: boolean;
  startedAt: string;
  exitCode: number;
  oomKilled: boolean;
  hostConfig: Readonly<Record<string, unknown>>;
  health: 'starting' | 'healthy' | 'unhealthy' | undefined;
}

export interface RecordedRequest {
  readonly method: string;
  /** The path with its query, as sent. */
  readonly url: string;
  /** The route path, without `/v1.xx` and query. */
  readonly path: string;
  readonly at: number;
}

/** One stats stream the fake served. */
export interface StatsStreamRecord {
  readonly containerId: string;
  readonly behaviour: StatsBehaviour;
  readonly openedAt: number;
  closedAt: number | undefined;
  /** Bytes handed to the socket on this stream. */
  bytes: number;
  /** Lines written (for endless: 0). */
  lines: number;
}

/** The fake's swarm, as `GET /info` and `GET /services` show it. */
export interface FakeSwarm {
  manager: boolean;
  services: { name: string; running: number; desired: number }[];
}

export interface FakeEngineOptions {
  /**
   * Where to listen; default: `engine.sock` in a fresh temp dir. close() removes the folder when
   * this fake created it (so a fake restarted on the same path after close() works, and cleans up).
   */
  readonly socketPath?: string;
  readonly containers?: readonly FakeContainerSpec[];
  /** Sample period of `normal` and `garbage` streams. Default 200 ms. */
  readonly intervalMs?: number;
  /** The time samples are stamped with (a test's fake clock, or one ahead of it); default Date.now. */
  readonly now?: () => number;
}

const ENDLESS_CHUNK = Buffer.alloc(64 * 1024, 'x'.charCodeAt(0));
const ZERO_TIME = '0001-01-01T00:00:00Z';
/** A parsed sample, edited freely (the fixture's shape is known). */
// biome-ignore lint/suspicious/noExplicitAny: a recorded sample edited in place; a typed walk would cast at every step.
type Loose = Record<string, any>;
const TEMPLATES = loadSamples('busy-stream.jsonl') as unknown as Loose[];

export class FakeEngine {
  readonly socketPath: string;
  readonly requests: RecordedRequest[] = [];
  /** Requests answered 404 because no route matched (method or path). */
  readonly unknown: RecordedRequest[] = [];
  readonly streams: StatsStreamRecord[] = [];
  readonly containers = new Map<string, FakeContainer>();
  /** While true, lists of every container (`all=1`) get no answer at all (an Engine that hangs). */
  hangListAll = false;
  /** Undefined: not in a swarm. */
  swarm: FakeSwarm | undefined;
  /** Each container's SizeRw and SizeRootFs by id (absent: 0 and 0, as a fresh container). */
  readonly sizes = new Map<string, { rw: number; root: number }>();
  readonly #server: Server;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #tempDir: string | undefined;
  readonly #inspectFailures = new Map<string, number>();
  readonly #sockets = new Set<Socket>();
  readonly #events = new Set<ServerResponse>();
  /** Stops each open stats stream's timers/loop; keyed by the response. */
  readonly #statsStops = new Map<ServerResponse, { containerId: string; stop: () => void }>();
  #closed = false;

  private constructor(opts: FakeEngineOptions) {
    if (opts.socketPath) {
      this.socketPath = opts.socketPath;
      // A fake started again on the path of one that closed: recreate (and then own) its folder.
      this.#tempDir = mkdirSync(dirname(opts.socketPath), { recursive: true });
    } else {
      this.#tempDir = mkdtempSync(join(tmpdir(), 'dstb-fake-engine-'));
      this.socketPath = join(this.#tempDir, 'engine.sock');
    }
    this.#intervalMs = opts.intervalMs ?? 200;
    this.#now = opts.now ?? Date.now;
    for (const spec of opts.containers ?? []) this.#add(spec);
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('clientError', (_err, socket) => socket.destroy());
    // No timeouts: the event and stats streams stay open as long as the client wants.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
    this.#server.keepAliveTimeout = 5_000;
  }

  /** Starts a fake listening on `socketPath` (or a fresh temp socket). */
  static async start(opts: FakeEngineOptions = {}): Promise<FakeEngine> {
    const engine = new FakeEngine(opts);
    rmSync(engine.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      engine.#server.once('error', reject);
      engine.#server.listen(engine.socketPath, () => {
        engine.#server.off('error', reject);
        resolve();
      });
    });
    return engine;
  }

  /** `unix://` URL for `--docker`. */
  get url(): string {
    return `unix://${this.socketPath}`;
  }

  /** The container by id or name. */
  container(idOrName: string): FakeContainer {
    const c = this.#find(idOrName);
    if (!c) throw new Error(`fake engine: no container ${idOrName}`);
    return c;
  }

  /** How many times a stats stream was opened for the container. */
  statsOpens(idOrName: string): number {
    const { id } = this.container(idOrName);
    return this.streams.filter((s) => s.containerId === id).length;
  }

  /** Bytes sent on all stats streams of the container (or of every container). */
  bytesSent(idOrName?: string): number {
    const id = idOrName === undefined ? undefined : this.container(idOrName).id;
    return this.streams.filter((s) => id === undefined || s.containerId === id).reduce((n, s) => n + s.bytes, 0);
  }

  /** Stats streams currently open (for one container, or all). */
  openStreams(idOrName?: string): number {
    const id = idOrName === undefined ? undefined : this.container(idOrName).id;
    return [...this.#statsStops.values()].filter((s) => id === undefined || s.containerId === id).length;
  }

  /** How many event subscriptions are open now. */
  get eventSubscribers(): number {
    return this.#events.size;
  }

  /** Behaviour of the container's next stats stream (open streams keep theirs). */
  setBehaviour(idOrName: string, behaviour: StatsBehaviour): void {
    this.container(idOrName).behaviour = behaviour;
  }

  /** The next `times` inspects of the container answer 500 (an Engine under stress). */
  failInspect(idOrName: string, times = 1): void {
    this.#inspectFailures.set(this.container(idOrName).id, times);
  }

  /** Adds a running container and announces it with a `start` event. */
  startContainer(spec: FakeContainerSpec): FakeContainer {
    const c = this.#add(spec);
    this.emit('start', c);
    return c;
  }

  /**
   * Marks the container stopped (its streams now send empty samples) and sends `die` with its exit
   * code; `oomKilled` is what inspect says afterwards.
   */
  stopContainer(idOrName: string, exit: { exitCode?: number; oomKilled?: boolean } = {}): void {
    const c = this.container(idOrName);
    c.running = false;
    c.paused = false;
    c.exitCode = exit.exitCode ?? 0;
    c.oomKilled = exit.oomKilled ?? false;
    this.emit('die', c, { exitCode: String(c.exitCode) });
  }

  /** Starts a stopped container again (inspect shows a fresh run) and sends `start`. */
  restartContainer(idOrName: string): void {
    const c = this.container(idOrName);
    c.running = true;
    c.oomKilled = false;
    c.startedAt = new Date(this.#now()).toISOString();
    this.emit('start', c);
  }

  /** Pauses (or unpauses) the container and sends `pause` (`unpause`). */
  pauseContainer(idOrName: string, paused = true): void {
    const c = this.container(idOrName);
    c.paused = paused;
    this.emit(paused ? 'pause' : 'unpause', c);
  }

  /** New limits (`docker update`): inspect shows them, and `update` is sent. */
  updateContainer(idOrName: string, hostConfig: Readonly<Record<string, unknown>>): void {
    const c = this.container(idOrName);
    c.hostConfig = { ...c.hostConfig, ...hostConfig };
    this.emit('update', c);
  }

  /** Forgets the container, ends its stats streams and sends `destroy`. */
  removeContainer(idOrName: string): void {
    const c = this.container(idOrName);
    this.containers.delete(c.id);
    for (const [res, s] of this.#statsStops) {
      if (s.containerId === c.id) {
        s.stop();
        res.end();
      }
    }
    this.emit('destroy', c);
  }

  /** Pushes one container event to every open `/events` subscription. */
  emit(
    action: 'start' | 'die' | 'destroy' | 'rename' | 'oom' | 'update' | 'pause' | 'unpause',
    c: { id: string; name: string; labels?: Readonly<Record<string, string>> },
    attributes: Readonly<Record<string, string>> = {},
    atMs = this.#now(),
  ): void {
    const now = atMs;
    const line = `${JSON.stringify({
      status: action,
      id: c.id,
      from: 'dstb-busybox:latest',
      Type: 'container',
      Action: action,
      Actor: {
        ID: c.id,
        Attributes: { ...(c.labels ?? {}), image: 'dstb-busybox:latest', name: c.name, ...attributes },
      },
      scope: 'local',
      time: Math.floor(now / 1000),
      timeNano: now * 1_000_000,
    })}\n`;
    for (const res of this.#events) if (writable(res)) res.write(line);
  }

  /** Destroys every connection, stops listening, removes the socket file (and temp dir). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#statsStops.values()) s.stop();
    this.#statsStops.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await closed;
    const now = Date.now();
    for (const s of this.streams) s.closedAt ??= now;
    rmSync(this.socketPath, { force: true });
    if (this.#tempDir) rmSync(this.#tempDir, { recursive: true, force: true });
  }

  #add(spec: FakeContainerSpec): FakeContainer {
    const c: FakeContainer = {
      id: spec.id ?? randomBytes(32).toString('hex'),
      name: spec.name.replace(/^\//, ''),
      labels: { ...(spec.labels ?? {}) },
      behaviour: spec.behaviour ?? 'normal',
      running: true,
      paused: false,
      startedAt: new Date().toISOString(),
      exitCode: 0,
      oomKilled: false,
      hostConfig: { ...(spec.hostConfig ?? {}) },
      health: spec.health,
    };
    this.containers.set(c.id, c);
    return c;
  }

  #find(idOrName: string): FakeContainer | undefined {
    const key = idOrName.replace(/^\//, '');
    const exact = this.containers.get(key);
    if (exact) return exact;
    for (const c of this.containers.values()) if (c.name === key) return c;
    if (key.length >= 4) for (const c of this.containers.values()) if (c.id.startsWith(key)) return c;
    return undefined;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => {});
    res.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', path, at: Date.now() };
    this.requests.push(record);
    // Drain any body so the connection stays usable.
    req.resume();

    if (req.method === 'GET' && this.#get(path, url.searchParams, res)) return;
    this.unknown.push(record);
    json(res, 404, { message: `page not found: ${req.method} ${path}` });
  }

  /** Answers a GET the fake knows; false when it does not know the path. */
  #get(path: string, query: URLSearchParams, res: ServerResponse): boolean {
    const m = /^\/containers\/([^/]+)\/(json|stats)$/.exec(path);
    if (path === '/version') this.#version(res);
    else if (path === '/containers/json') this.#list(res, query);
    else if (path === '/info') this.#info(res);
    else if (path === '/services') this.#services(res, /^(1|true)$/.test(query.get('status') ?? ''));
    else if (path === '/events') this.#subscribe(res);
    else if (m) this.#container(res, m[1]!, m[2]!, query);
    else return false;
    return true;
  }

  #container(res: ServerResponse, key: string, what: string, query: URLSearchParams): void {
    const c = this.#find(decodeURIComponent(key));
    const failures = c ? (this.#inspectFailures.get(c.id) ?? 0) : 0;
    if (!c) json(res, 404, { message: `No such container: ${key}` });
    else if (what === 'stats') this.#stats(res, c, query.get('stream') !== 'false' && query.get('stream') !== '0');
    else if (failures > 0) {
      this.#inspectFailures.set(c.id, failures - 1);
      json(res, 500, { message: 'fake engine: injected inspect failure' });
    } else json(res, 200, inspect(c));
  }

  #version(res: ServerResponse): void {
    json(res, 200, {
      Platform: { Name: 'dstb fake engine' },
      Version: '20.10.99-fake',
      ApiVersion: '1.41',
      MinAPIVersion: '1.12',
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: '6.0.0',
    });
  }

  #info(res: ServerResponse): void {
    const s = this.swarm;
    json(res, 200, {
      Name: 'fake',
      Swarm: s
        ? { NodeID: 'fakenode', LocalNodeState: 'active', ControlAvailable: s.manager }
        : { NodeID: '', LocalNodeState: 'inactive', ControlAvailable: false },
    });
  }

  #services(res: ServerResponse, status: boolean): void {
    if (!this.swarm?.manager) {
      const message =
        'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node ' +
        'to swarm and try again.';
      json(res, 503, { message });
      return;
    }
    json(
      res,
      200,
      this.swarm.services.map((s, i) => ({
        ID: `svc${i}`,
        Spec: { Name: s.name, Mode: { Replicated: { Replicas: s.desired } } },
        ...(status ? { ServiceStatus: { RunningTasks: s.running, DesiredTasks: s.desired, CompletedTasks: 0 } } : {}),
      })),
    );
  }

  #list(res: ServerResponse, query: URLSearchParams): void {
    const all = !['', '0', 'false'].includes(query.get('all') ?? '');
    const size = /^(1|true)$/.test(query.get('size') ?? '');
    if (all && this.hangListAll) return;
    let labels: string[] = [];
    try {
      const filters = JSON.parse(query.get('filters') ?? '{}') as { label?: unknown };
      if (Array.isArray(filters.label)) labels = filters.label.map(String);
    } catch {
      json(res, 400, { message: 'fake engine: filters is not JSON' });
      return;
    }
    const hasLabels = (c: FakeContainer): boolean =>
      labels.every((l) => {
        const [key, ...value] = l.split('=');
        return key! in c.labels && (value.length === 0 || c.labels[key!] === value.join('='));
      });
    const list = [...this.containers.values()]
      .filter((c) => (all || c.running) && hasLabels(c))
      .map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: 'dstb-busybox:latest',
        Command: 'sleep 2147483647',
        Created: Math.floor(Date.parse(c.startedAt) / 1000),
        Labels: c.labels,
        State: stateOf(c),
        Status: statusText(c),
        ...(size ? { SizeRw: this.sizes.get(c.id)?.rw ?? 0, SizeRootFs: this.sizes.get(c.id)?.root ?? 0 } : {}),
      }));
    json(res, 200, list);
  }

  #subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    this.#events.add(res);
    res.once('close', () => this.#events.delete(res));
  }

  #stats(res: ServerResponse, c: FakeContainer, stream: boolean): void {
    if (!stream) {
      json(res, 200, sample(c, 0, this.#now()));
      return;
    }
    const record: StatsStreamRecord = {
      containerId: c.id,
      behaviour: c.behaviour,
      openedAt: Date.now(),
      closedAt: undefined,
      bytes: 0,
      lines: 0,
    };
    this.streams.push(record);
    if (record.behaviour !== 'hang') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    }
    const timers = new Set<NodeJS.Timeout>();
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers.clear();
      this.#statsStops.delete(res);
    };
    this.#statsStops.set(res, { containerId: c.id, stop });
    res.once('close', () => {
      stop();
      record.closedAt ??= Date.now();
    });
    const write = (text: string | Buffer, lines: number): boolean => {
      if (stopped || !writable(res)) return false;
      record.bytes += Buffer.byteLength(text);
      record.lines += lines;
      return res.write(text);
    };
    let k = 0;
    const next = (): string => `${JSON.stringify(c.running ? sample(c, k++, this.#now()) : emptySample(c))}\n`;
    switch (record.behaviour) {
      case 'normal':
        write(next(), 1);
        timers.add(setInterval(() => write(next(), 1), this.#intervalMs));
        break;
      case 'garbage': {
        const burst = (): void => {
          const text = [
            'this is not JSON at all\n',
            '{"read": "2026-11-22T07:24:14Z", "cpu_stats": {\n',
            '42\n',
            'null\n',
            '"a JSON string"\n',
            'true\n',
            '\u0000\u0001\u00ff binary-ish junk }{\n',
            next(),
          ].join('');
          const cut = Math.floor(Math.random() * text.length);
          write(text.slice(0, cut), 0);
          write(text.slice(cut), 8);
        };
        burst();
        timers.add(setInterval(burst, this.#intervalMs));
        break;
      }
      case 'endless': {
        // As fast as the client reads: write until the socket buffer is full, wait for drain.
        const pump = (): void => {
          while (!stopped && writable(res)) {
            if (!write(ENDLESS_CHUNK, 0)) {
              res.once('drain', pump);
              return;
            }
          }
        };
        pump();
        break;
      }
      case 'stall':
        write(next(), 1);
        break;
      case 'hang':
        break;
    }
  }
}

function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded && !res.socket?.destroyed;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (!writable(res)) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function inspect(c: FakeContainer): Record<string, unknown> {
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: c.startedAt,
    RestartCount: 0,
    State: {
      Status: stateOf(c),
      Running: c.running,
      Paused: c.paused,
      Restarting: false,
      OOMKilled: c.oomKilled,
      Pid: c.running ? 4242 : 0,
      ExitCode: c.exitCode,
      StartedAt: c.startedAt,
      FinishedAt: ZERO_TIME,
      ...(c.health ? { Health: { Status: c.health, FailingStreak: c.health === 'unhealthy' ? 3 : 0, Log: [] } } : {}),
    },
    HostConfig: { NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0, CpusetCpus: '', MemoryReservation: 0, ...c.hostConfig },
    Config: { Image: 'dstb-busybox:latest', Labels: c.labels, Cmd: ['sleep', '2147483647'] },
  };
}

function stateOf(c: FakeContainer): 'running' | 'paused' | 'exited' {
  return c.running ? (c.paused ? 'paused' : 'running') : 'exited';
}

/** The list's `Status` text as the Engine writes it. */
function statusText(c: FakeContainer): string {
  if (!c.running) return `Exited (${c.exitCode}) 1 second ago`;
  if (c.paused) return 'Up 1 minute (Paused)';
  if (!c.health) return 'Up 1 minute';
  return `Up 1 minute (${c.health === 'starting' ? 'health: starting' : c.health})`;
}

/**
 * The k-th sample of a stream: the busy-stream fixture's lines in turn, counters moved on by
 * whole fixture spans so they only grow, stamped `now` (so the daemon counts it as real) and
 * carrying the container's name and id.
 */
function sample(c: FakeContainer, k: number, now: number): Record<string, unknown> {
  const n = TEMPLATES.length;
  const s = structuredClone(TEMPLATES[k % n]!) as Loose;
  const round = Math.floor(k / n);
  const first = TEMPLATES[0] as Loose;
  const last = TEMPLATES[n - 1] as Loose;
  const span = (get: (x: Loose) => number): number => Math.max(0, get(last) - get(first)) + 1_000_000;
  const cpu = s['cpu_stats'];
  if (cpu && round > 0) {
    cpu.system_cpu_usage += round * span((x) => x['cpu_stats'].system_cpu_usage);
    cpu.cpu_usage.total_usage += round * span((x) => x['cpu_stats'].cpu_usage.total_usage);
    cpu.cpu_usage.usage_in_kernelmode += round * span((x) => x['cpu_stats'].cpu_usage.usage_in_kernelmode);
    cpu.cpu_usage.usage_in_usermode += round * span((x) => x['cpu_stats'].cpu_usage.usage_in_usermode);
  }
  s['read'] = new Date(now).toISOString();
  s['preread'] = new Date(now - 1000).toISOString();
  s['name'] = `/${c.name}`;
  s['id'] = c.id;
  return s;
}

/** What the Engine keeps sending for a stopped container (docs/architecture.md §2). */
function emptySample(c: FakeContainer): Record<string, unknown> {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: {},
    num_procs: 0,
    storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: {} },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: {} },
    memory_stats: {},
    name: `/${c.name}`,
    id: c.id,
  };
}

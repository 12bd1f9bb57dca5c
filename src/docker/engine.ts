import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { inspect } from 'node:util';
import Docker from 'dockerode';
import { checkHostKey, knownHostName } from './known-hosts.js';
import { socketHold, type SocketHold } from './socket-hold.js';

/** Where the Engine is, as validated by the config (`--docker`; docs/architecture.md §2). */
export type DockerTarget =
  | {
      readonly kind: 'unix';
      readonly socketPath: string;
      readonly display: string;
      /** Set when no `--docker`/`DOCKER_HOST` was given and none of these sockets existed at start. */
      readonly tried?: readonly string[];
    }
  | {
      readonly kind: 'tcp';
      readonly protocol: 'http' | 'https';
      readonly host: string;
      readonly port: number;
      readonly display: string;
      /** Client certificate and CA from DOCKER_CERT_PATH; the server's certificate is always verified. */
      readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
    }
  | {
      /** `ssh://[user@]host[:port]`: the remote `docker system dial-stdio`, through dockerode's SSH client. */
      readonly kind: 'ssh';
      readonly host: string;
      readonly port: number;
      readonly username: string | undefined;
      readonly display: string;
      /** The SSH agent's socket ($SSH_AUTH_SOCK), which holds the key. */
      readonly agentSocket: string | undefined;
      /** The known_hosts file the server's key must be listed in, and its text. */
      readonly knownHosts: { readonly path: string; readonly text: string };
    };

/** `GET /version`, the fields the daemon reads. */
export interface EngineVersion {
  readonly Version?: string;
  readonly ApiVersion?: string;
}

/** `GET /containers/json`, the fields the daemon reads. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names?: readonly string[] | null;
  readonly Labels?: Readonly<Record<string, string>> | null;
  /** `running`, `paused`, `restarting`, `exited`, `created`, `dead` (or `removing`). */
  readonly State?: string;
  /** `Up 5 minutes (healthy)`, `Exited (3) 2 seconds ago`, … */
  readonly Status?: string;
}

/** `GET /containers/{id}/json`, the fields the daemon reads. */
export interface ContainerInspect {
  readonly Name: string;
  readonly RestartCount?: number;
  readonly State?: {
    readonly Running?: boolean;
    readonly Restarting?: boolean;
    readonly OOMKilled?: boolean;
    readonly ExitCode?: number;
    readonly StartedAt?: string;
    readonly Pid?: number;
    readonly Health?: { readonly Status?: string; readonly FailingStreak?: number };
  };
  readonly Config?: { readonly Image?: string; readonly Labels?: Readonly<Record<string, string>> | null };
  readonly HostConfig?: {
    readonly NanoCpus?: number;
    readonly CpuQuota?: number;
    readonly CpuPeriod?: number;
    /** `0-2,4`. */
    readonly CpusetCpus?: string;
    readonly MemoryReservation?: number;
  } | null;
}

/** `GET /containers/json?size=1`, the fields the daemon reads (group `disk`). */
export interface ContainerSizeSummary {
  readonly Id: string;
  readonly SizeRw?: number;
  readonly SizeRootFs?: number;
}

/** `GET /info`, the fields the daemon reads (group `swarm`: is this node a manager?). */
export interface EngineInfo {
  readonly Swarm?: { readonly LocalNodeState?: string; readonly ControlAvailable?: boolean } | null;
}

/** `GET /services?status=true`, the fields the daemon reads; ServiceStatus needs API 1.41+. */
export interface ServiceSummary {
  readonly ID?: string;
  readonly Spec?: { readonly Name?: string } | null;
  readonly ServiceStatus?: { readonly RunningTasks?: number; readonly DesiredTasks?: number } | null;
}

/** Engine filters (`{"status":["running"],"label":["a=b"]}`). */
export type EngineFilters = Readonly<Record<string, readonly string[]>>;

/**
 * An open streaming answer (events, stats). Contract: `start` once; `onData` gets the body as it
 * arrives (chunks as sent, not lines), then `onEnd` runs once, with an error when the connection
 * failed before the Engine ended the body. Nothing runs after `close()`, which destroys the
 * response (its socket is closed) and may be called any number of times.
 *
 * `hold()` stops reading the connection: what the Engine sends waits in the kernel until
 * `release()`, and then comes to `onData` on the next turn of the event loop (socket-hold.ts says
 * why and how). It returns false when the connection cannot be held (TLS, SSH), which is then read
 * as data comes. Both may be called any number of times, before start() and after close() too.
 */
export interface EngineStream {
  start(onData: (chunk: Buffer) => void, onEnd: (err?: Error) => void): void;
  hold(): boolean;
  release(): void;
  close(): void;
}

/** The Engine answered with an HTTP error; the message is the call's and the Engine's own. */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/**
 * dockerode gives every Container handle its own `defaultOptions`: 21 empty objects, one per
 * method, which each call copies into a fresh options object and never writes to. A stats stream's
 * request keeps its handle alive for as long as the stream is open (dockerode's callback holds
 * it), so thousands of streams held a hundred thousand of those objects (docs/architecture.md §6).
 * Every handle the daemon makes shares the first handle's set, frozen. This reaches into dockerode's
 * private shape, so package.json pins dockerode and test/unit/dependency-patches.test.ts checks the shape.
 */
let sharedDefaults: object | undefined;

function leanContainer(docker: Docker, id: string): Docker.Container {
  const container = docker.getContainer(id);
  const handle = container as unknown as { defaultOptions: object };
  sharedDefaults ??= Object.freeze(
    Object.fromEntries(Object.entries(handle.defaultOptions).map(([k, v]) => [k, Object.freeze(v)])),
  );
  handle.defaultOptions = sharedDefaults;
  return container;
}

/**
 * The GET calls the daemon makes (docs/architecture.md §2; `/info` and `/services` only with the group
 * `swarm`), through dockerode on the Unix
 * socket, TCP (TLS when the target is https) or SSH. Every call takes an AbortSignal that closes
 * its connection; errors keep the Engine's own message. Streams come back undecoded into lines
 * (the caller splits them).
 *
 * The long-lived stats and event streams go through an agent of their own: no keep-alive (a
 * stream's socket is never reused), no idle timer per socket, no pool limit. The short calls use
 * Node's default agent, whose keep-alive saves a connection per inspect. docker-modem runs
 * `util.inspect(options, {showHidden: true, depth: null})` on every request, which walks every
 * socket an agent holds; the streams' agent is shown as one word instead.
 */
export class EngineClient {
  readonly #target: DockerTarget;
  readonly #calls: Docker;
  readonly #streams: Docker;

  constructor(target: DockerTarget) {
    this.#target = target;
    this.#calls = new Docker(modemOptions(target, undefined));
    this.#streams = new Docker(modemOptions(target, streamAgent(target)));
  }

  version(signal?: AbortSignal): Promise<EngineVersion> {
    // dockerode's version() takes no options: the same request through the modem, with the signal.
    return this.#call('GET /version', () =>
      dial<EngineVersion>(this.#calls, { path: '/version', abortSignal: signal, statusCodes: { 200: true } }),
    );
  }

  /** `all`: stopped containers too (`?all=1`). */
  listContainers(filters: EngineFilters, signal?: AbortSignal, all = false): Promise<ContainerSummary[]> {
    const options = { ...(all ? { all: 1 } : {}), filters: JSON.stringify(filters) };
    return this.#call('GET /containers/json', () =>
      this.#calls.listContainers(withSignal(options, signal) as Docker.ContainerListOptions),
    ) as Promise<ContainerSummary[]>;
  }

  /** `GET /containers/json?size=1`: each container's sizes, which the Engine computes on each call (slow). */
  containerSizes(filters: EngineFilters, signal?: AbortSignal): Promise<ContainerSizeSummary[]> {
    return this.#call('GET /containers/json?size=1', () =>
      this.#calls.listContainers(
        withSignal({ size: true, filters: JSON.stringify(filters) }, signal) as Docker.ContainerListOptions,
      ),
    ) as Promise<ContainerSizeSummary[]>;
  }

  info(signal?: AbortSignal): Promise<EngineInfo> {
    return this.#call('GET /info', () =>
      dial<EngineInfo>(this.#calls, { path: '/info', abortSignal: signal, statusCodes: { 200: true } }),
    );
  }

  /** `GET /services?status=true`: every service with its running and desired task counts (API 1.41+). */
  services(signal?: AbortSignal): Promise<ServiceSummary[]> {
    return this.#call('GET /services', () =>
      this.#calls.listServices(withSignal({ status: true }, signal) as Docker.ServiceListOptions),
    ) as Promise<ServiceSummary[]>;
  }

  inspect(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return this.#call(`GET /containers/${id}/json`, () =>
      leanContainer(this.#calls, id).inspect(withSignal({}, signal) as Docker.ContainerInspectOptions),
    ) as Promise<ContainerInspect>;
  }

  /** `GET /events`: resolves on the Engine's head (it sends nothing more until an event). */
  async events(filters: EngineFilters, signal?: AbortSignal): Promise<EngineStream> {
    const res = await this.#call('GET /events', () =>
      this.#streams.getEvents(withSignal({ filters: JSON.stringify(filters) }, signal) as Docker.GetEventsOptions),
    );
    return engineStream(res as IncomingMessage);
  }

  /** `GET /containers/{id}/stats?stream=true`: one JSON sample per line, about once a second. */
  async statsStream(id: string, signal?: AbortSignal): Promise<EngineStream> {
    const res = await this.#call(`GET /containers/${id}/stats`, () =>
      leanContainer(this.#streams, id).stats(withSignal({ stream: true }, signal) as { stream: true }),
    );
    return engineStream(res as unknown as IncomingMessage);
  }

  /** `GET /containers/{id}/stats?stream=false&one-shot=true` (API 1.41+): one sample, at once. */
  async statsOneShot(id: string, signal?: AbortSignal): Promise<unknown> {
    const answer: unknown = await this.#call(`GET /containers/${id}/stats`, () =>
      leanContainer(this.#calls, id).stats(
        withSignal({ stream: false, 'one-shot': true }, signal) as { stream: false },
      ),
    );
    // docker-modem hands back the raw bytes when the answer is not JSON.
    if (Buffer.isBuffer(answer)) throw new Error(`GET /containers/${id}/stats: the Engine's answer is not JSON`);
    return answer;
  }

  /**
   * Runs one call; an HTTP error becomes an EngineError naming the call and the Engine's message,
   * and ssh2's refusal of a host key says which key file to check.
   */
  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const target = this.#target;
      if (target.kind === 'ssh' && /Host denied/.test((err as Error).message)) {
        throw new Error(
          `the SSH host key of ${knownHostName(target.host, target.port)} ` +
            `is not in ${target.knownHosts.path} (or is revoked there): ` +
            `check the key and add it (ssh-keyscan -p ${target.port} ${target.host})`,
          { cause: err },
        );
      }
      const status = (err as { statusCode?: unknown }).statusCode;
      if (typeof status !== 'number') throw err;
      throw new EngineError(
        status,
        `${what}: HTTP ${status}${engineMessage(err as { json?: unknown; message: string })}`,
      );
    }
  }
}

/**
 * A fresh options object for one call, with the signal only when there is one: docker-modem deletes
 * `abortSignal` from the object it is given (so an object is never reused, retries included), and
 * an `abortSignal` key it does not delete (undefined) ends up in the query string.
 */
function withSignal<T extends object>(options: T, signal: AbortSignal | undefined): T & { abortSignal?: AbortSignal } {
  return signal ? { ...options, abortSignal: signal } : { ...options };
}

/** dockerode's (docker-modem's) connection options for a target. */
function modemOptions(target: DockerTarget, agent: HttpAgent | undefined): Docker.DockerOptions {
  const common = agent ? { agent } : {};
  switch (target.kind) {
    case 'unix':
      return { socketPath: target.socketPath, ...common };
    case 'tcp':
      return {
        protocol: target.protocol,
        host: target.host,
        port: target.port,
        ...(target.tls?.ca ? { ca: target.tls.ca } : {}),
        ...(target.tls?.cert ? { cert: target.tls.cert } : {}),
        ...(target.tls?.key ? { key: target.tls.key } : {}),
        ...common,
      };
    case 'ssh':
      return {
        protocol: 'ssh',
        host: target.host,
        port: target.port,
        ...(target.username ? { username: target.username } : {}),
        sshOptions: {
          ...(target.agentSocket ? { agent: target.agentSocket } : {}),
          hostVerifier: (key: Buffer) =>
            checkHostKey(target.knownHosts.text, target.host, target.port, key) === 'known',
        },
      };
  }
}

/** The agent of the long-lived streams (see EngineClient); SSH brings its own. */
function streamAgent(target: DockerTarget): HttpAgent | undefined {
  if (target.kind === 'ssh') return undefined;
  const options = { keepAlive: false, maxSockets: Infinity, maxFreeSockets: 0 };
  const agent = target.kind === 'tcp' && target.protocol === 'https' ? new HttpsAgent(options) : new HttpAgent(options);
  Object.defineProperty(agent, inspect.custom, { value: () => '[stats agent]' });
  return agent;
}

/** A request through the modem for a call dockerode offers without options (`version`) or without a signal (`info`). */
function dial<T>(
  docker: Docker,
  opts: { path: string; abortSignal: AbortSignal | undefined; statusCodes: Record<number, boolean | string> },
): Promise<T> {
  const modem = docker.modem as unknown as {
    dial(options: object, callback: (err: unknown, data: unknown) => void): void;
  };
  return new Promise((resolve, reject) => {
    modem.dial(
      withSignal(
        { path: opts.path, method: 'GET', statusCodes: { ...opts.statusCodes, 500: 'server error' } },
        opts.abortSignal,
      ),
      (err, data) =>
        err
          ? reject(err)
          : Buffer.isBuffer(data)
            ? reject(new Error(`GET ${opts.path}: the Engine's answer is not JSON`))
            : resolve(data as T),
    );
  });
}

/**
 * An Engine response as an EngineStream. An error listener is attached at once and for good: a
 * destroyed or aborted response emits 'error' only when one is there, and Node throws an
 * unhandled one.
 */
function engineStream(res: IncomingMessage): EngineStream {
  let closed = false;
  let holder: SocketHold | undefined | null = null;
  res.on('error', () => {});
  return {
    hold() {
      if (closed) return false;
      holder ??= socketHold(res.socket);
      holder?.stop();
      return holder !== undefined;
    },
    release() {
      holder?.start();
    },
    start(onData, onEnd) {
      const end = (err?: Error): void => {
        if (closed) return;
        closed = true;
        res.off('data', onData);
        if (err) onEnd(err);
        else onEnd();
      };
      res.on('data', onData);
      res.once('end', () => end());
      res.once('error', (err) => end(err));
      // 'close' without 'end': the connection went away mid-body.
      res.once('close', () =>
        end(res.complete ? undefined : new Error('the connection to the Engine closed before the answer was complete')),
      );
    },
    close() {
      if (closed) return;
      closed = true;
      res.removeAllListeners('data');
      res.destroy();
    },
  };
}

/** `: <message>` from an Engine error (`{"message":"No such container: x"}`), else what docker-modem said. */
function engineMessage(err: { json?: unknown; message: string }): string {
  const json = err.json as { message?: unknown } | string | Buffer | null | undefined;
  if (json && typeof json === 'object' && !Buffer.isBuffer(json) && typeof json.message === 'string' && json.message)
    return `: ${json.message}`;
  const text = (Buffer.isBuffer(json) ? json.toString('utf8') : typeof json === 'string' ? json : '').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
}

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Where the Engine is, as validated by the config (DESIGN.md §3; `--docker`). */
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
    };

/** `GET /version`, the fields the daemon reads. */
export interface EngineVersion {
  readonly Version?: string;
  readonly ApiVersion?: string;
}

/** `GET /containers/json`, the fields the daemon reads. */
export interface ContainerSummary {
  readonly Id: string;
}

/** `GET /containers/{id}/json`, the fields the daemon reads. */
export interface ContainerInspect {
  readonly Name: string;
  readonly RestartCount?: number;
  readonly State?: {
    readonly Running?: boolean;
    readonly StartedAt?: string;
    readonly Health?: { readonly Status?: string; readonly FailingStreak?: number };
  };
  readonly Config?: { readonly Image?: string; readonly Labels?: Readonly<Record<string, string>> | null };
}

/** Engine filters (`{"status":["running"],"label":["a=b"]}`), sent JSON-encoded as `filters=`. */
export type EngineFilters = Readonly<Record<string, readonly string[]>>;

/** The Engine answered with an HTTP error; `message` is the Engine's own when it sent one. */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** A reply body larger than this is not something the Engine sends for these calls. */
const MAX_REPLY_BYTES = 64 << 20;
/** An error body is read up to this much for its message. */
const MAX_ERROR_BYTES = 64 << 10;

/**
 * The five GET calls the daemon makes (DESIGN.md §3), over `node:http` on the Unix socket or TCP
 * (TLS when the target is https). Paths carry no API version prefix: the Engine then speaks its
 * own current version, as the Docker CLI's first call does. Streams come back as the raw response
 * (the caller splits lines); every call takes an AbortSignal that destroys its socket.
 *
 * One client per daemon: its agent keeps a few idle sockets for the short calls and puts no limit
 * on how many are open, since each stats stream holds one.
 */
export class EngineClient {
  readonly #target: DockerTarget;
  readonly #agent: HttpAgent;

  constructor(target: DockerTarget) {
    this.#target = target;
    const agentOptions = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4, scheduling: 'lifo' as const };
    this.#agent =
      target.kind === 'tcp' && target.protocol === 'https'
        ? new HttpsAgent({ ...agentOptions, ...pickTls(target.tls) })
        : new HttpAgent(agentOptions);
  }

  version(signal?: AbortSignal): Promise<EngineVersion> {
    return this.#json<EngineVersion>('/version', {}, signal);
  }

  listContainers(filters: EngineFilters, signal?: AbortSignal): Promise<ContainerSummary[]> {
    return this.#json<ContainerSummary[]>('/containers/json', { filters: JSON.stringify(filters) }, signal);
  }

  inspect(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return this.#json<ContainerInspect>(`/containers/${encodeURIComponent(id)}/json`, {}, signal);
  }

  /** `GET /events`: resolves on the Engine's headers (it sends nothing more until an event). */
  events(filters: EngineFilters, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.#get('/events', { filters: JSON.stringify(filters) }, signal);
  }

  /** `GET /containers/{id}/stats?stream=true`: one JSON sample per line, about once a second. */
  statsStream(id: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.#get(`/containers/${encodeURIComponent(id)}/stats`, { stream: 'true' }, signal);
  }

  /** `GET /containers/{id}/stats?stream=false&one-shot=true` (API 1.41+): one sample, at once. */
  statsOnce(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.#json<unknown>(`/containers/${encodeURIComponent(id)}/stats`, { stream: 'false', 'one-shot': 'true' }, signal);
  }

  /** Closes the idle sockets kept for reuse (open streams are their owners' to close). */
  close(): void {
    this.#agent.destroy();
  }

  async #json<T>(path: string, query: Record<string, string>, signal: AbortSignal | undefined): Promise<T> {
    const res = await this.#get(path, query, signal);
    const body = await readBody(res, MAX_REPLY_BYTES);
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new Error(`GET ${path}: the Engine's answer is not JSON`);
    }
  }

  /** Resolves with the response once its status is a success; an error status rejects with EngineError. */
  #get(path: string, query: Record<string, string>, signal: AbortSignal | undefined): Promise<IncomingMessage> {
    const search = new URLSearchParams(query).toString();
    const t = this.#target;
    const options: RequestOptions = {
      method: 'GET',
      path: search ? `${path}?${search}` : path,
      agent: this.#agent,
      headers: { accept: 'application/json' },
      ...(signal ? { signal } : {}),
      ...(t.kind === 'unix' ? { socketPath: t.socketPath } : { host: t.host, port: t.port }),
    };
    const send = t.kind === 'tcp' && t.protocol === 'https' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(options, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve(res);
          return;
        }
        readBody(res, MAX_ERROR_BYTES).then(
          (body) => reject(new EngineError(status, `GET ${path}: HTTP ${status}${engineMessage(body)}`)),
          () => reject(new EngineError(status, `GET ${path}: HTTP ${status}`)),
        );
      });
      req.once('error', reject);
      req.end();
    });
  }
}

function pickTls(tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  return { ...(tls?.ca ? { ca: tls.ca } : {}), ...(tls?.cert ? { cert: tls.cert } : {}), ...(tls?.key ? { key: tls.key } : {}) };
}

/** The whole body, or an error past `limit` bytes (the response is then destroyed). */
function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy(new Error(`the Engine's answer is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('the Engine closed the connection before the answer was complete'));
    });
  });
}

/** `: <message>` from an Engine error body (`{"message":"No such container: x"}`), else ''. */
function engineMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message) return `: ${parsed.message}`;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return text ? `: ${text.slice(0, 200)}` : '';
}

import { engineGet, type EngineResponse } from './engine-http.js';

export type { EngineResponse } from './engine-http.js';

/** Where the Engine is, as validated by the config (docs/architecture.md §2; `--docker`). */
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
 * The five GET calls the daemon makes (docs/architecture.md §2), on the Unix socket or TCP (TLS when the
 * target is https), one connection per call (engine-http.ts). Paths carry no API version prefix:
 * the Engine then speaks its own current version. Streams come back undecoded into lines (the
 * caller splits them); every call takes an AbortSignal that closes its connection.
 */
export class EngineClient {
  readonly #target: DockerTarget;

  constructor(target: DockerTarget) {
    this.#target = target;
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

  /** `GET /events`: resolves on the Engine's head (it sends nothing more until an event). */
  events(filters: EngineFilters, signal?: AbortSignal): Promise<EngineResponse> {
    return this.#get('/events', { filters: JSON.stringify(filters) }, signal);
  }

  /** `GET /containers/{id}/stats?stream=true`: one JSON sample per line, about once a second. */
  statsStream(id: string, signal?: AbortSignal): Promise<EngineResponse> {
    return this.#get(`/containers/${encodeURIComponent(id)}/stats`, { stream: 'true' }, signal);
  }

  /** `GET /containers/{id}/stats?stream=false&one-shot=true` (API 1.41+): one sample, at once. */
  statsOnce(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.#json<unknown>(`/containers/${encodeURIComponent(id)}/stats`, { stream: 'false', 'one-shot': 'true' }, signal);
  }

  async #json<T>(path: string, query: Record<string, string>, signal: AbortSignal | undefined): Promise<T> {
    const body = await readAll(await this.#get(path, query, signal), MAX_REPLY_BYTES);
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new Error(`GET ${path}: the Engine's answer is not JSON`);
    }
  }

  /** Resolves with a response whose status is a success; an error status rejects with EngineError. */
  async #get(path: string, query: Record<string, string>, signal: AbortSignal | undefined): Promise<EngineResponse> {
    const search = new URLSearchParams(query).toString();
    const res = await engineGet(this.#target, search ? `${path}?${search}` : path, signal);
    if (res.status >= 200 && res.status < 300) return res;
    const body = await readAll(res, MAX_ERROR_BYTES).catch(() => Buffer.alloc(0));
    throw new EngineError(res.status, `GET ${path}: HTTP ${res.status}${engineMessage(body)}`);
  }
}

/** The whole body, or an error past `limit` bytes (the connection is then closed). */
function readAll(res: EngineResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.start(
      (chunk) => {
        size += chunk.length;
        if (size > limit) {
          res.close();
          reject(new Error(`the Engine's answer is larger than ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      },
      (err) => (err ? reject(err) : resolve(Buffer.concat(chunks))),
    );
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

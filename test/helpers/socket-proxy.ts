import { createServer, request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A read-only Docker socket proxy of the tests' own, on a Unix socket: it forwards the GET
 * endpoints of docs/architecture.md §2 to the real Engine and answers 403 to everything else (any other
 * method, any other path), the way docker-socket-proxy-style proxies are configured for this
 * daemon. Streams (stats, events) are piped through as they come. Every request is recorded.
 */
export interface ProxiedRequest {
  method: string;
  /** The URL path without the query string, API version prefix included (`/v1.41/events`). */
  path: string;
  status: number;
}

export interface SocketProxy {
  readonly socketPath: string;
  readonly requests: ProxiedRequest[];
  /** Requests answered 403. */
  forbidden(): ProxiedRequest[];
  /** Stops listening and cuts every open connection, both sides. */
  close(): Promise<void>;
}

/** The only endpoints the daemon needs (docs/architecture.md §2), after an optional `/vX.Y` prefix. */
export const READ_ONLY_ENDPOINTS: readonly RegExp[] = [
  /^\/version$/,
  /^\/containers\/json$/,
  /^\/containers\/[^/]+\/json$/,
  /^\/containers\/[^/]+\/stats$/,
  /^\/events$/,
];

/** What the group `swarm` needs besides (README: allow them only with `--metrics +swarm`). */
export const SWARM_ENDPOINTS: readonly RegExp[] = [/^\/info$/, /^\/services$/];

export function allowed(method: string, path: string, extra: readonly RegExp[] = []): boolean {
  const bare = path.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
  return method === 'GET' && [...READ_ONLY_ENDPOINTS, ...extra].some((re) => re.test(bare));
}

/** `extra`: endpoints let through besides READ_ONLY_ENDPOINTS (SWARM_ENDPOINTS). */
export async function startSocketProxy(
  socketPath: string,
  upstream = '/var/run/docker.sock',
  extra: readonly RegExp[] = [],
): Promise<SocketProxy> {
  const requests: ProxiedRequest[] = [];
  const upstreams = new Set<ClientRequest>();
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? '';
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!allowed(method, path, extra)) {
      requests.push({ method, path, status: 403 });
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `read-only proxy: ${method} ${path} is not allowed` }));
      return;
    }
    const record: ProxiedRequest = { method, path, status: 0 };
    requests.push(record);
    const up = request({ socketPath: upstream, method, path: req.url, headers: req.headers }, (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      // The Engine answers /events with headers only, then nothing until an event: pass them on now.
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstreams.add(up);
    up.on('close', () => upstreams.delete(up));
    up.on('error', () => {
      if (!res.headersSent) {
        record.status = 502;
        res.writeHead(502);
      }
      res.destroy();
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    requests,
    forbidden: () => requests.filter((r) => r.status === 403),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        for (const up of upstreams) up.destroy();
      });
      return closing;
    },
  };
}

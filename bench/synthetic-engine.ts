/**
 * A load generator of the benchmark's own, not a test double: it speaks the subset of the Docker
 * API the daemon uses, on a Unix socket, for N made-up running containers, and replays captured
 * samples (test fixtures) at 1 Hz per container with current `read` times and growing counters.
 * Paths are accepted with and without a `/v1.xx` prefix. Run it in its own process, so that its
 * CPU is never counted as the daemon's:
 *
 *   npx tsx bench/synthetic-engine.ts SOCKET N
 *
 * It prints `ready` on stdout once listening, and on SIGTERM (or a line `report` on stdin) one
 * JSON line: samples written, writes refused by back-pressure, bytes still queued in its sockets.
 *
 *   GET /version                         → API 1.41
 *   GET /containers/json                 → every container, running
 *   GET /containers/{id}/json            → inspect (name, state, labels)
 *   GET /events                          → 200, kept open, nothing sent
 *   GET /containers/{id}/stats?stream=…  → one sample per second per container (stream=true),
 *                                          or one sample at once (stream=false)
 */
import { createServer, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DockerStats } from '../src/docker/stats-types.js';
import { loadSamples } from '../test/helpers/fixtures.js';

const [socket, countArg] = process.argv.slice(2);
if (!socket || !countArg) {
  process.stderr.write('usage: synthetic-engine.ts SOCKET N\n');
  process.exit(2);
}
const n = Number(countArg);
const startedAt = new Date(Date.now() - 3_600_000).toISOString();
const TEMPLATE = loadSamples('busy-stream.jsonl').at(-1)!;

interface Synthetic {
  readonly id: string;
  readonly name: string;
  /** The sample's JSON cut around `read` and `total_usage`, so a line is three joins. */
  readonly parts: readonly [string, string, string];
  readonly baseUsage: number;
  k: number;
  stream: ServerResponse | undefined;
}

const READ_MARK = '"@READ@"';
const USAGE_MARK = 1234567890123;

function makeContainer(i: number): Synthetic {
  const id = createHash('sha256').update(`synthetic-${i}`).digest('hex');
  const name = `synth.app${i % 50}.svc${i}.1`;
  const s = structuredClone(TEMPLATE) as DockerStats;
  const baseUsage = s.cpu_stats!.cpu_usage!.total_usage!;
  s.read = '@READ@';
  s.preread = '0001-01-01T00:00:00Z';
  s.name = `/${name}`;
  s.id = id;
  s.cpu_stats!.cpu_usage!.total_usage = USAGE_MARK;
  const json = JSON.stringify(s);
  const [head, rest] = json.split(READ_MARK) as [string, string];
  const [middle, tail] = rest.split(String(USAGE_MARK)) as [string, string];
  return { id, name, parts: [head, middle, tail], baseUsage, k: 0, stream: undefined };
}

const containers = Array.from({ length: n }, (_, i) => makeContainer(i));
const byId = new Map(containers.map((c) => [c.id, c]));

function line(c: Synthetic): string {
  c.k += 1;
  const usage = c.baseUsage + c.k * 10_000_000;
  return `${c.parts[0]}"${new Date().toISOString()}"${c.parts[1]}${usage}${c.parts[2]}\n`;
}

let written = 0;
let refused = 0;

// 1 Hz per container, spread over the second: 100 slots of 10 ms, each container in one slot.
const SLOTS = 100;
let slot = 0;
const ticker = setInterval(() => {
  for (let i = slot; i < containers.length; i += SLOTS) {
    const c = containers[i]!;
    if (!c.stream) continue;
    if (!c.stream.write(line(c))) refused += 1;
    written += 1;
  }
  slot = (slot + 1) % SLOTS;
}, 1000 / SLOTS);

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://engine');
  const path = url.pathname.replace(/^\/v1\.\d+/, '');
  if (req.method !== 'GET') return json(res, 405, { message: 'read-only load generator' });
  if (path === '/version' || path === '/_ping') {
    return json(res, 200, {
      Version: 'synthetic-1.0',
      ApiVersion: '1.41',
      MinAPIVersion: '1.12',
      Os: 'linux',
      Arch: 'amd64',
    });
  }
  if (path === '/events') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    return;
  }
  if (path === '/containers/json') {
    return json(
      res,
      200,
      containers.map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: 'synthetic',
        State: 'running',
        Status: 'Up',
        Labels: {},
      })),
    );
  }
  const m = /^\/containers\/([^/]+)\/(json|stats)$/.exec(path);
  const c = m ? (byId.get(m[1]!) ?? containers.find((x) => x.id.startsWith(m[1]!) || x.name === m[1])) : undefined;
  if (!m || !c) return json(res, 404, { message: `no such container or path: ${path}` });
  if (m[2] === 'json') {
    return json(res, 200, {
      Id: c.id,
      Name: `/${c.name}`,
      RestartCount: 0,
      State: { Status: 'running', Running: true, Paused: false, Restarting: false, Pid: 4242, StartedAt: startedAt },
      Config: { Image: 'synthetic', Labels: {} },
    });
  }
  if (url.searchParams.get('stream') === 'false') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(line(c));
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  c.stream?.end();
  c.stream = res;
  res.on('close', () => {
    if (c.stream === res) c.stream = undefined;
  });
});
server.maxConnections = Number.POSITIVE_INFINITY;
server.keepAliveTimeout = 0;

function report(): string {
  let queuedBytes = 0;
  let open = 0;
  for (const c of containers) {
    if (!c.stream) continue;
    open += 1;
    queuedBytes += c.stream.writableLength;
  }
  return JSON.stringify({ written, refused, queuedBytes, open });
}

rmSync(socket, { force: true });
server.listen(socket, () => process.stdout.write('ready\n'));
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() === 'report') process.stdout.write(`${report()}\n`);
});
process.on('SIGTERM', () => {
  clearInterval(ticker);
  process.stdout.write(`${report()}\n`);
  for (const c of containers) c.stream?.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});

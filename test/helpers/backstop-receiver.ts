/**
 * A stand-in for Backstop (the Ruby app in front of Graphite's carbon), on 127.0.0.1, for tests.
 *
 * Contract: docs/architecture.md §4, checked against Backstop's own source (lib/backstop/web.rb, helpers.rb,
 * publisher.rb). A request is answered by the first rule that applies:
 *
 *   0. forceStatus() in effect        → that status; nothing else is looked at, nothing stored.
 *   1. auth configured, Basic credentials missing or not one of `user:pass`
 *                                      → 401 `Not authorized` (Backstop's before-filter: every route).
 *   2. not `POST /publish/<name>`      → 404 `not found`.
 *   3. body empty or not JSON          → 400 `JSON is required`.
 *   4. <name> not in prefixes          → 404 `unknown prefix`. Backstop parses the body before it
 *                                        looks at the prefix, so rule 3 wins over this one.
 *   5. the body is the list of items (a non-array is a list of one) and each item, in order, is
 *      forwarded to carbon, unless:
 *        - it is not an object (null, a string, a number, an array)      → 500 `Internal Server Error`
 *        - its metric, value or measure_time is missing, null or false   → 400 `missing fields`
 *          (Ruby truthiness: 0 and "" are present)
 *      Either way the items before it were already forwarded: a 400/500 does not mean "nothing stored".
 *   6.                                 → 200 `ok`.
 *
 * Forwarding writes the text `<name>.<metric> <value> <measure_time>` plus a newline to carbon
 * (values rendered as Ruby's string interpolation would). Carbon's line receiver is emulated: the
 * text is split on '\n' (so a newline inside `metric` injects another line); each line is stored
 * in `points` only if it has exactly three whitespace-separated fields, the value parses as a finite
 * number and the timestamp as a number (Python's float()); otherwise it goes to `carbonDropped`.
 * Backstop has already answered 200 for those: that is the "200 does not prove carbon stored it" row.
 *
 * Not emulated: a string item containing "source" (Ruby's String#[]= then succeeds), JSON comments
 * (Ruby's parser skips them), Ruby's spelling of some floats (1.0e-07; carbon parses both alike).
 * Beyond the contract: bodies over 64 MiB are read to the end, not kept, and answered 413.
 *
 * Concurrency: requests are handled as they complete; `points` and `requests` grow in that order.
 * A request whose client gives up during setDelay() or hang() is still processed when its answer
 * is due, as a real server would; close() drops the answers still pending, unprocessed.
 */
import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceiverOptions {
  /** Backstop's PREFIXES; default ['docker']. */
  prefixes?: readonly string[];
  /** BACKSTOP_AUTH entries 'user:pass'; default none = no credentials required. */
  auth?: readonly string[];
  /**
   * Fault injection: items this returns true for are answered like an item with a missing field
   * (400 `missing fields`, the items before it already forwarded), to test narrowing a 400 down.
   */
  rejectItem?: (item: Record<string, unknown>) => boolean;
  /** Listen on this port (to come back where a closed receiver was); default an ephemeral one. */
  port?: number;
}

/** What carbon would store. `metric` is without the `<prefix>.`; `path` is the full name. */
export interface StoredPoint {
  prefix: string;
  metric: string;
  path: string;
  value: number;
  measure_time: number;
}

/** A carbon line Backstop answered 200 for but carbon ignored, with the item it came from. */
export interface CarbonDrop {
  item: unknown;
  line: string;
  reason: string;
}

export interface RequestRecord {
  /** Date.now() when the request arrived. */
  at: number;
  method: string;
  path: string;
  status: number;
  body: string;
  authorization: string | undefined;
  /** Items in the parsed body: an array's length, 1 for an object, else 0. */
  items: number;
}

export interface BackstopReceiver {
  readonly port: number;
  /** http://user:pass@127.0.0.1:PORT/publish/NAME; name defaults to the first prefix. */
  url(opts?: { name?: string; user?: string; password?: string }): string;
  /** In arrival order. */
  readonly points: StoredPoint[];
  readonly carbonDropped: CarbonDrop[];
  readonly requests: RequestRecord[];
  /** Answer `status` to the next `times` requests (default: until forceStatus(null)). */
  forceStatus(status: number | null, times?: number): void;
  /** Wait this long after a request's body has arrived before handling and answering it. */
  setDelay(ms: number): void;
  /**
   * Fault injection: from now on requests are read in full and then held, neither handled nor
   * answered (a receiver that accepts and hangs), until release() or close().
   */
  hang(): void;
  /** Ends hang(): the held requests are handled and answered now, in arrival order. */
  release(): void;
  /** Requests held by hang() right now. */
  readonly held: number;
  /** Polls `probe` every 50 ms until it returns neither undefined nor false; rejects on timeout. */
  waitFor<T>(probe: () => T | undefined | false, opts?: { timeoutMs?: number; what?: string }): Promise<T>;
  /** Closes the server and destroys open (keep-alive) sockets; pending delayed answers are dropped. */
  close(): Promise<void>;
}

interface Answer {
  status: number;
  text: string;
  items?: number;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Twisted's LineOnlyReceiver.MAX_LENGTH, which carbon's line receiver inherits. */
const CARBON_MAX_LINE_BYTES = 16384;
const POLL_MS = 50;

export async function startBackstopReceiver(opts: ReceiverOptions = {}): Promise<BackstopReceiver> {
  const prefixes = opts.prefixes ?? ['docker'];
  const auth = opts.auth ?? [];
  const points: StoredPoint[] = [];
  const carbonDropped: CarbonDrop[] = [];
  const requests: RequestRecord[] = [];
  let forced: { status: number; remaining: number } | null = null;
  let delayMs = 0;
  const delayed = new Set<NodeJS.Timeout>();
  let hanging = false;
  let held: (() => void)[] = [];
  let closing: Promise<void> | undefined;

  function handle(req: IncomingMessage, raw: Buffer, size: number): Answer {
    if (forced !== null) {
      const { status } = forced;
      forced.remaining -= 1;
      if (forced.remaining <= 0) forced = null;
      return { status, text: STATUS_CODES[status] ?? 'forced' };
    }
    if (auth.length > 0 && !authorized(req.headers.authorization, auth)) {
      return { status: 401, text: 'Not authorized' };
    }
    const name = publishName(req);
    if (name === undefined) return { status: 404, text: 'not found' };
    if (size > MAX_BODY_BYTES) return { status: 413, text: 'Payload Too Large' };

    let data: unknown;
    try {
      data = JSON.parse(raw.toString('utf8'));
    } catch {
      return { status: 400, text: 'JSON is required' };
    }
    const items = Array.isArray(data) ? data : [data];
    const count = Array.isArray(data) ? data.length : isObject(data) ? 1 : 0;
    if (!prefixes.includes(name)) return { status: 404, text: 'unknown prefix', items: count };

    for (const item of items) {
      if (!isObject(item)) return { status: 500, text: 'Internal Server Error', items: count };
      if (
        !rubyTruthy(item['metric']) ||
        !rubyTruthy(item['value']) ||
        !rubyTruthy(item['measure_time']) ||
        opts.rejectItem?.(item)
      ) {
        return { status: 400, text: 'missing fields', items: count };
      }
      forwardToCarbon(name, item);
    }
    return { status: 200, text: 'ok', items: count };
  }

  function forwardToCarbon(prefix: string, item: Record<string, unknown>): void {
    // Ruby's IO#puts adds the final newline unless the text already ends with one.
    const text = `${prefix}.${rubyToS(item['metric'])} ${rubyToS(item['value'])} ${rubyToS(item['measure_time'])}`;
    const lines = text.split('\n');
    if (text.endsWith('\n')) lines.pop();
    for (const line of lines) {
      const parsed = parseCarbonLine(line);
      if (typeof parsed === 'string') {
        carbonDropped.push({ item, line, reason: parsed });
        continue;
      }
      const { path, value, time } = parsed;
      const cut = path.startsWith(`${prefix}.`) ? prefix.length : path.indexOf('.');
      points.push({
        prefix: cut < 0 ? '' : path.slice(0, cut),
        metric: path.slice(cut + 1),
        path,
        value,
        measure_time: time,
      });
    }
  }

  const server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('error', () => {}); // aborted uploads: nothing to answer, nothing recorded
    res.on('error', () => {});
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const respond = (): void => {
        if (closing !== undefined) return;
        const raw = Buffer.concat(chunks);
        let answer: Answer;
        try {
          answer = handle(req, raw, size);
        } catch {
          answer = { status: 500, text: 'Internal Server Error' };
        }
        requests.push({
          at,
          method: req.method ?? '',
          path: req.url ?? '',
          status: answer.status,
          body: raw.toString('utf8'),
          authorization: req.headers.authorization,
          items: answer.items ?? 0,
        });
        const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
        if (answer.status === 401) headers['www-authenticate'] = 'Basic realm="Restricted Area"';
        res.writeHead(answer.status, headers);
        res.end(answer.text);
      };
      if (hanging) {
        held.push(respond);
        return;
      }
      if (delayMs <= 0) return respond();
      const timer = setTimeout(() => {
        delayed.delete(timer);
        respond();
      }, delayMs);
      delayed.add(timer);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  function describeRequests(): string {
    if (requests.length === 0) return 'no request was received';
    const last = requests.slice(-5).map((r) => {
      const body = r.body.length > 200 ? `${r.body.slice(0, 200)}…` : r.body;
      return `  ${r.method} ${r.path} → ${r.status} (${r.items} items) ${body}`;
    });
    const counts = `${points.length} points stored, ${carbonDropped.length} dropped by carbon`;
    return `${requests.length} requests (${counts}); last:\n${last.join('\n')}`;
  }

  return {
    port,
    points,
    carbonDropped,
    requests,
    url({ name = prefixes[0] ?? 'docker', user, password } = {}) {
      const pass = password === undefined ? '' : `:${encodeURIComponent(password)}`;
      const userinfo = user === undefined ? '' : `${encodeURIComponent(user)}${pass}@`;
      return `http://${userinfo}127.0.0.1:${port}/publish/${encodeURIComponent(name)}`;
    },
    forceStatus(status, times = Infinity) {
      if (status === null || times <= 0) {
        forced = null;
        return;
      }
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new RangeError(`forceStatus: status must be an integer from 200 to 599, got ${status}`);
      }
      forced = { status, remaining: times };
    },
    setDelay(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`setDelay: ms must be a finite number ≥ 0, got ${ms}`);
      delayMs = ms;
    },
    hang() {
      hanging = true;
    },
    release() {
      hanging = false;
      const due = held;
      held = [];
      for (const respond of due) respond();
    },
    get held() {
      return held.length;
    },
    async waitFor<T>(probe: () => T | undefined | false, { timeoutMs = 30_000, what = 'a condition' } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const result = probe();
        if (result !== undefined && result !== false) return result as T;
        if (Date.now() >= deadline) {
          throw new Error(
            `Backstop receiver: timed out after ${timeoutMs} ms waiting for ${what}; ${describeRequests()}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of delayed) clearTimeout(timer);
        delayed.clear();
        held = [];
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Sinatra's `post '/publish/:name'`: the name is one decoded path segment; the query is ignored. */
function publishName(req: IncomingMessage): string | undefined {
  if (req.method !== 'POST') return undefined;
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '', 'http://receiver').pathname;
  } catch {
    return undefined;
  }
  const match = /^\/publish\/([^/]+)$/.exec(pathname);
  if (match?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/**
 * Rack::Auth::Basic as Backstop uses it: the decoded credentials, split on the first ':', must equal
 * one entry split on every ':' (Ruby's String#split, trailing empty parts removed).
 */
function authorized(header: string | undefined, entries: readonly string[]): boolean {
  const match = /^(\S+)\s+(\S.*)$/s.exec(header ?? '');
  if (match?.[1]?.toLowerCase() !== 'basic' || match[2] === undefined) return false;
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const credentials =
    colon < 0 ? (decoded === '' ? [] : [decoded]) : [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return entries.some((entry) => {
    const parts = entry.split(':');
    while (parts.at(-1) === '') parts.pop();
    return parts.length === credentials.length && parts.every((part, i) => part === credentials[i]);
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Ruby: only nil and false are falsy (a missing key reads as nil). */
function rubyTruthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

/** What `"#{value}"` gives in Ruby for a value from JSON.parse. */
function rubyToS(value: unknown): string {
  return typeof value === 'string' ? value : rubyInspect(value);
}

function rubyInspect(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(rubyInspect).join(', ')}]`;
  if (isObject(value)) {
    const pairs = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} => ${rubyInspect(v)}`);
    return `{${pairs.join(', ')}}`;
  }
  return String(value); // numbers, true, false
}

/**
 * Carbon's MetricLineReceiver: `metric, value, timestamp = line.strip().split()`, both numbers
 * through float(), NaN values ignored. Returns the reason a line is dropped.
 */
function parseCarbonLine(line: string): { path: string; value: number; time: number } | string {
  if (Buffer.byteLength(line) > CARBON_MAX_LINE_BYTES) return `line longer than ${CARBON_MAX_LINE_BYTES} bytes`;
  const fields = line.replace(/^[ \t\r\v\f]+|[ \t\r\v\f]+$/g, '').split(/[ \t\r\v\f]+/);
  const [path, value, time] = fields;
  if (fields.length !== 3 || path === undefined || value === undefined || time === undefined) {
    return `${fields.length} fields where carbon wants "metric value timestamp"`;
  }
  const v = pythonFloat(value);
  if (!Number.isFinite(v)) return `value ${JSON.stringify(value)} is not a finite number`;
  const t = pythonFloat(time);
  if (!Number.isFinite(t)) return `timestamp ${JSON.stringify(time)} is not a number`;
  return { path, value: v, time: t };
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const PYTHON_FLOAT = new RegExp(
  String.raw`^[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf|infinity|nan)$`,
  'i',
);

/** Python's float() on a string: NaN when it would raise. */
function pythonFloat(text: string): number {
  if (!PYTHON_FLOAT.test(text)) return Number.NaN;
  const t = text.replace(/_/g, '').toLowerCase();
  if (t.endsWith('nan')) return Number.NaN;
  if (t.endsWith('inf') || t.endsWith('infinity')) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

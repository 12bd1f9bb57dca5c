import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** The first port of the kernel's ephemeral range (listen(0) and outgoing connections take ports from it). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago on 127.0.0.1, for a server started later or started again on
 * it. Taken below the kernel's ephemeral range where there is room, because test files run side by
 * side (docs/testing.md): a port of that range could meanwhile go to another file's connection.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; low > 11_024 && i < 50; i++) {
    const port = 10_000 + randomInt(low - 10_000);
    if (await bindable(port)) return port;
  }
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Runs one of the repository's scripts/ensure-*.sh (installs a Debian package when missing). */
export async function ensure(script: string): Promise<void> {
  await run('bash', [new URL(`../../scripts/${script}`, import.meta.url).pathname], { maxBuffer: 1 << 24 });
}

/** A server process of a test's own, with its output kept for failure messages. */
export class ServiceProcess {
  child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly what: string,
    readonly command: string,
    readonly args: readonly string[],
    readonly port: number,
    /** Added to this process's environment. */
    readonly env: Readonly<Record<string, string>> = {},
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    child.stdout!.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
    let ready = false;
    const probe = async (): Promise<void> => {
      while (!ready && child.exitCode === null) {
        ready = await accepts(this.port);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
    };
    void probe();
    await waitFor(
      () => ready || child.exitCode !== null,
      () => `${this.what} listening on ${this.port}; output:\n${this.output}`,
      60_000,
    );
    if (!ready) throw new Error(`${this.what} exited ${child.exitCode}; output:\n${this.output}`);
  }

  /** SIGTERM (or the given signal), and waits for the exit (SIGKILL after 20 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Debian's carbon-cache with a config of its own in a temp dir: 1-second points kept for an hour,
 * unless `retention` (a storage-schemas.conf `retentions` value) says otherwise.
 */
export class Carbon {
  dir = '';
  port = 0;
  udpPort = 0;
  /** Where graphite-web asks for the points still in carbon's cache (CARBONLINK_HOSTS). */
  queryPort = 0;
  process: ServiceProcess | undefined;

  constructor(readonly retention = '1s:1h') {}

  get whisperDir(): string {
    return join(this.dir, 'storage', 'whisper');
  }

  async setUp(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'dstb-carbon-'));
    this.port = await freePort();
    this.udpPort = await freePort();
    const pickle = await freePort();
    this.queryPort = await freePort();
    await writeFile(
      join(this.dir, 'carbon.conf'),
      [
        '[cache]',
        `STORAGE_DIR = ${join(this.dir, 'storage')}`,
        `LOCAL_DATA_DIR = ${this.whisperDir}`,
        `LOG_DIR = ${join(this.dir, 'log')}`,
        `PID_DIR = ${this.dir}`,
        'MAX_CACHE_SIZE = inf',
        'MAX_UPDATES_PER_SECOND = 100000',
        'MAX_CREATES_PER_MINUTE = inf',
        'LINE_RECEIVER_INTERFACE = 127.0.0.1',
        `LINE_RECEIVER_PORT = ${this.port}`,
        'ENABLE_UDP_LISTENER = True',
        'UDP_RECEIVER_INTERFACE = 127.0.0.1',
        `UDP_RECEIVER_PORT = ${this.udpPort}`,
        'PICKLE_RECEIVER_INTERFACE = 127.0.0.1',
        `PICKLE_RECEIVER_PORT = ${pickle}`,
        'CACHE_QUERY_INTERFACE = 127.0.0.1',
        `CACHE_QUERY_PORT = ${this.queryPort}`,
        'LOG_LISTENER_CONN_SUCCESS = False',
        'LOG_UPDATES = False',
        'LOG_CREATES = False',
        '',
      ].join('\n'),
    );
    await writeFile(join(this.dir, 'storage-schemas.conf'), `[all]\npattern = .*\nretentions = ${this.retention}\n`);
    await writeFile(
      join(this.dir, 'storage-aggregation.conf'),
      '[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = last\n',
    );
  }

  async start(): Promise<void> {
    this.process = new ServiceProcess(
      'carbon-cache',
      'carbon-cache',
      [`--config=${join(this.dir, 'carbon.conf')}`, `--pidfile=${join(this.dir, 'carbon.pid')}`, '--debug', 'start'],
      this.port,
    );
    await this.process.start();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process?.stop(signal);
  }

  /** The whisper file of a carbon path. */
  file(path: string): string {
    return `${join(this.whisperDir, ...path.split('.'))}.wsp`;
  }

  /** Every series carbon has written a whisper file for, as dotted paths. */
  async series(): Promise<string[]> {
    const entries = await readdir(this.whisperDir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.wsp'))
      .map((e) =>
        join(e.parentPath, e.name)
          .slice(this.whisperDir.length + 1, -'.wsp'.length)
          .split('/')
          .join('.'),
      );
  }

  /** Every non-empty point of a whisper file over the last hour, read back with python3-whisper. */
  async fetch(path: string): Promise<Map<number, number>> {
    const script =
      'import sys, json, whisper\n' +
      '(start, end, step), values = whisper.fetch(sys.argv[1], 0)\n' +
      'print(json.dumps([[start + i * step, v] for i, v in enumerate(values) if v is not None]))\n';
    // Debian's python3, which has python3-whisper (a python3 earlier on the PATH may not).
    const { stdout } = await run('/usr/bin/python3', ['-c', script, this.file(path)]);
    return new Map(JSON.parse(stdout) as [number, number][]);
  }

  async cleanUp(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Debian's carbon-c-relay on a free port of its own, in front of carbon-caches: one `carbon_ch`
 * cluster (carbon's consistent hash, one copy of each series) with every member, each given an
 * instance name (`=a`, `=b`, …) because carbon_ch hashes the host, not the port, and the members
 * all live on 127.0.0.1. Submission mode (`-s`): it adds no statistics series of its own.
 */
export class CarbonRelay {
  dir = '';
  port = 0;
  process: ServiceProcess | undefined;

  get config(): string {
    return join(this.dir, 'relay.conf');
  }

  async start(members: readonly Carbon[]): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'dstb-relay-'));
    this.port = await freePort();
    const hosts = members.map((m, i) => `    127.0.0.1:${m.port}=${String.fromCharCode(97 + i)}`);
    await writeFile(
      this.config,
      [
        `listen type linemode 127.0.0.1:${this.port} proto tcp ;`,
        'cluster caches carbon_ch replication 1',
        ...hosts,
        '  ;',
        'match * send to caches stop ;',
        '',
      ].join('\n'),
    );
    this.process = new ServiceProcess(
      'carbon-c-relay',
      'carbon-c-relay',
      ['-f', this.config, '-s', '-w', '1'],
      this.port,
    );
    await this.process.start();
  }

  /**
   * Where the relay's hash sends each of these series, by carbon port: its test mode (`-t`) reads
   * metric lines on stdin and prints the route each takes, the member after each `* -> <path>`.
   */
  async placement(paths: readonly string[]): Promise<Map<string, number>> {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('carbon-c-relay', ['-f', this.config, '-t'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (text += b.toString()));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`carbon-c-relay -t exited ${code}:\n${text}`)),
      );
      child.stdin.end(paths.map((p) => `${p} 1 1700000000\n`).join(''));
    });
    const placed = new Map<string, number>();
    let path: string | undefined;
    for (const line of out.split('\n')) {
      const route = /^\s+\* -> (\S+)$/.exec(line);
      if (route) path = route[1];
      const member = /^\s+127\.0\.0\.1:(\d+)$/.exec(line);
      if (member && path !== undefined) {
        placed.set(path, Number(member[1]));
        path = undefined;
      }
    }
    return placed;
  }

  async cleanUp(): Promise<void> {
    await this.process?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** One series of graphite-web's `/render?format=json`: its name and `[value, time]` points. */
export interface GraphiteSeries {
  target: string;
  datapoints: [number | null, number][];
}

/**
 * Debian's graphite-web reading one Carbon's whisper tree (and, through carbonlink, the points still
 * in its cache), served by Django's development server on a port of its own, with its own settings
 * module and SQLite database in a temp dir: the package's /etc/graphite is never read.
 */
export class GraphiteWeb {
  dir = '';
  port = 0;
  process: ServiceProcess | undefined;

  async start(carbon: Carbon): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'dstb-graphite-web-'));
    this.port = await freePort();
    await mkdir(carbon.whisperDir, { recursive: true });
    const py = (s: string) => JSON.stringify(s);
    await writeFile(
      join(this.dir, 'dstb_graphite_settings.py'),
      [
        `SECRET_KEY = ${py(randomBytes(16).toString('hex'))}`,
        "TIME_ZONE = 'UTC'",
        `STORAGE_DIR = ${py(join(carbon.dir, 'storage'))}`,
        `WHISPER_DIR = ${py(carbon.whisperDir)}`,
        `STANDARD_DIRS = [${py(carbon.whisperDir)}]`,
        `LOG_DIR = ${py(this.dir)}`,
        `INDEX_FILE = ${py(join(this.dir, 'search_index'))}`,
        `CARBONLINK_HOSTS = ['127.0.0.1:${carbon.queryPort}']`,
        `DATABASES = {'default': {'NAME': ${py(join(this.dir, 'graphite.db'))}, ` +
          "'ENGINE': 'django.db.backends.sqlite3'}}",
        '',
      ].join('\n'),
    );
    // graphite.settings imports the module GRAPHITE_SETTINGS_MODULE names (local_settings otherwise).
    const env = {
      PYTHONPATH: this.dir,
      GRAPHITE_SETTINGS_MODULE: 'dstb_graphite_settings',
      DJANGO_SETTINGS_MODULE: 'graphite.settings',
    };
    await run('/usr/bin/graphite-manage', ['migrate', '--noinput'], {
      cwd: this.dir,
      env: { ...process.env, ...env },
      maxBuffer: 1 << 24,
    });
    this.process = new ServiceProcess(
      'graphite-web',
      '/usr/bin/graphite-manage',
      ['runserver', '--noreload', `127.0.0.1:${this.port}`],
      this.port,
      env,
    );
    await this.process.start();
  }

  /** GET a graphite-web URL (path and query); resolves with the parsed JSON, rejects on a non-200. */
  async json<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.port}${pathAndQuery}`);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`graphite-web ${pathAndQuery}: ${res.status} ${body.slice(0, 500)}`);
    return JSON.parse(body) as T;
  }

  /** `/render?format=json` of one target over the last `from` (a Graphite time, `-10min`). */
  render(target: string, from = '-10min'): Promise<GraphiteSeries[]> {
    return this.json(`/render?format=json&from=${encodeURIComponent(from)}&target=${encodeURIComponent(target)}`);
  }

  /** `/metrics/find`: the nodes a glob matches, as Grafana's default variable query lists them (by text). */
  async find(query: string): Promise<{ id: string; text: string; leaf: number }[]> {
    return this.json(`/metrics/find?query=${encodeURIComponent(query)}`);
  }

  /** `/metrics/expand`: the full paths a glob matches, as Grafana's `expand(…)` variable query lists them. */
  async expand(query: string): Promise<string[]> {
    return (await this.json<{ results: string[] }>(`/metrics/expand?query=${encodeURIComponent(query)}`)).results;
  }

  async cleanUp(): Promise<void> {
    await this.process?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Debian's prometheus scraping one target every second, with its own config, port and data dir. */
/**
 * Runs Debian's promtool (scripts/ensure-prometheus.sh installs it) with `input` on its stdin;
 * resolves with its exit code and everything it wrote, whatever the code.
 */
export function promtool(args: readonly string[], input = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
    child.stdin.end(input);
  });
}

/** A rule group as Prometheus's /api/v1/rules lists it (the fields the tests read). */
export interface RuleGroup {
  name: string;
  rules: { name: string; type: string; health: string; lastError?: string; state?: string }[];
}

export class Prometheus {
  dir = '';
  port = 0;
  process: ServiceProcess | undefined;

  /** `ruleFiles`: absolute paths of rule files Prometheus loads (`rule_files:`). */
  async start(target: { port: number; scheme: 'http' | 'https'; ruleFiles?: readonly string[] }): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'dstb-prometheus-'));
    this.port = await freePort();
    const files = target.ruleFiles ?? [];
    const ruleFiles = files.length > 0 ? ['rule_files:', ...files.map((f) => `  - ${JSON.stringify(f)}`)] : [];
    await writeFile(
      join(this.dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        ...ruleFiles,
        'scrape_configs:',
        '  - job_name: dstb',
        `    scheme: ${target.scheme}`,
        '    tls_config:',
        '      insecure_skip_verify: true',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${target.port}']`,
        '',
      ].join('\n'),
    );
    this.process = new ServiceProcess(
      'prometheus',
      'prometheus',
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
      ],
      this.port,
    );
    await this.process.start();
  }

  /** An instant query through the HTTP API; resolves with its result vector. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
    return body.data!.result;
  }

  /** The rule groups Prometheus loaded, with each rule's health and last evaluation error. */
  async rules(): Promise<RuleGroup[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/rules`);
    const body = (await res.json()) as { status: string; data?: { groups: RuleGroup[] } };
    if (body.status !== 'success') throw new Error(`rules: ${JSON.stringify(body)}`);
    return body.data!.groups;
  }

  /** A label's values among the series `match` selects (what Grafana's `label_values(match, label)` lists). */
  async labelValues(label: string, match: string): Promise<string[]> {
    const res = await fetch(
      `http://127.0.0.1:${this.port}/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`,
    );
    const body = (await res.json()) as { status: string; data?: string[] };
    if (body.status !== 'success') throw new Error(`label values ${label} of ${match}: ${JSON.stringify(body)}`);
    return body.data!;
  }

  async cleanUp(): Promise<void> {
    await this.process?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Debian's prometheus-pushgateway on its own port, optionally behind basic auth (bcrypt, as its web config wants). */
export class Pushgateway {
  dir = '';
  port = 0;
  process: ServiceProcess | undefined;

  async start(auth?: { user: string; password: string }): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'dstb-pushgateway-'));
    this.port = await freePort();
    const args = [
      `--web.listen-address=127.0.0.1:${this.port}`,
      `--persistence.file=${join(this.dir, 'pushgateway.data')}`,
    ];
    if (auth) {
      // The password goes to python on stdin, never on a command line.
      const hash = await new Promise<string>((resolve, reject) => {
        const py = spawn('/usr/bin/python3', [
          '-c',
          'import sys, bcrypt; print(bcrypt.hashpw(sys.stdin.read().encode(), bcrypt.gensalt(4)).decode())',
        ]);
        let out = '';
        py.stdout.on('data', (b: Buffer) => (out += b.toString()));
        py.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`bcrypt exited ${code}`))));
        py.stdin.end(auth.password);
      });
      await writeFile(join(this.dir, 'web.yml'), `basic_auth_users:\n  ${auth.user}: '${hash}'\n`);
      args.push(`--web.config.file=${join(this.dir, 'web.yml')}`);
    }
    this.process = new ServiceProcess('pushgateway', 'prometheus-pushgateway', args, this.port);
    await this.process.start();
  }

  /** The text exposition of everything pushed (GET /metrics), with credentials when given. */
  async metrics(auth?: { user: string; password: string }): Promise<string> {
    const headers: Record<string, string> = auth
      ? { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` }
      : {};
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`, { headers });
    return res.text();
  }

  async cleanUp(): Promise<void> {
    await this.process?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

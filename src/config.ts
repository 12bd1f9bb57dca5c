import { join, resolve } from 'node:path';
import { OPTION, parseArgs, type Flag, type OptionRow } from './cli.js';
import { DurationError, parseDuration } from './config/duration.js';
import type { DockerTarget } from './docker/engine.js';
import { describeError } from './errors.js';
import { compileGlob, type ContainerFilter, type LabelSelector } from './docker/filter.js';
import { parseRules, RulesError, type Rule } from './naming/rules.js';
import { DEFAULT_GROUPS, METRIC_GROUPS, type MetricGroup, type MetricOptions } from './reduce/container-metrics.js';
import { sanitizePath } from './naming/sanitize.js';
import { displayUrl, redact } from './redact.js';
import type { CarbonTarget } from './sinks/carbon.js';
import type { ListenAddress } from './sinks/prometheus/exposition.js';
import { labelName } from './sinks/prometheus/series.js';

/** The validated configuration: typed, readonly, already parsed. Built once by parseConfig. */
export interface Config {
  /** From --backstop or the file of --backstop-file. Undefined: metrics go to stdout as carbon plaintext lines. */
  readonly backstop: URL | undefined;
  /** --backstop-file, resolved, and where it was given: read again on SIGHUP (readBackstopFile). */
  readonly backstopFile: { readonly path: string; readonly from: string } | undefined;
  readonly docker: DockerTarget;
  readonly rules: readonly Rule[];
  readonly pollMs: number;
  readonly filter: ContainerFilter;
  /** Sanitised, `{host}` already replaced; '' for none. */
  readonly pathPrefix: string;
  /** The host name (--hostname, else the OS's) as a dotted path: each segment sanitised, empty ones dropped. */
  readonly hostPath: string;
  readonly once: boolean;
  readonly shutdownTimeoutMs: number;
  readonly verbose: boolean;
  readonly metrics: MetricOptions;
  /** --disk-interval: the least time between two size measurements of the group `disk`. */
  readonly diskIntervalMs: number;
  /** Undefined: no spool, memory only. The folder exists and is writable. */
  readonly spoolDir: string | undefined;
  readonly spoolMaxBytes: number;
  readonly bufferMaxItems: number;
  readonly bufferMaxBytes: number;
  readonly stallTimeoutMs: number;
  readonly mode: 'stream' | 'oneshot' | 'cgroup';
  readonly concurrency: number;
  /** --mode cgroup: the host's /proc and cgroup tree, as absolute paths. */
  readonly hostProc: string;
  readonly cgroupRoot: string;
  /** Carbon plaintext receiver; undefined: none. */
  readonly carbon: CarbonTarget | undefined;
  /** Sanitised path put in front of every path sent to carbon; '' for none. */
  readonly carbonPrefix: string;
  /** Where to serve Prometheus /metrics and /healthz; undefined: no server. */
  readonly listen: ListenAddress | undefined;
  /** PEM files for HTTPS on --listen (read by readTlsFiles at start); undefined: plain HTTP. */
  readonly tls: TlsFiles | undefined;
  /** Container label keys exposed as Prometheus labels. */
  readonly promLabels: readonly string[];
  /** Pushgateway base URL; undefined: none. */
  readonly pushgateway: URL | undefined;
  /** The Pushgateway `instance` grouping label (default: the host name, as given by --hostname). */
  readonly pushgatewayInstance: string;
}

/** The --tls-cert and --tls-key files, and where each was given (for messages). */
export interface TlsFiles {
  readonly cert: { readonly path: string; readonly from: string };
  readonly key: { readonly path: string; readonly from: string };
}

export type ParseOutcome =
  | { readonly kind: 'config'; readonly config: Config }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

/**
 * The file system as parseConfig sees it, so that parsing stays pure: main.ts passes node's
 * (src/config/io.ts), tests pass what their case needs.
 */
export interface ConfigIo {
  /** Whether a path exists: picks the default Docker socket, finds the DOCKER_CERT_PATH files. */
  readonly exists: (path: string) => boolean;
  /** Reads a file as UTF-8 text: --backstop-file, the known_hosts file of ssh://. */
  readonly readFile: (path: string) => string;
  /** Reads a file as bytes: the DOCKER_CERT_PATH files, the --tls-cert and --tls-key files. */
  readonly readBytes: (path: string) => Buffer;
  /** Whether a path is a directory: --host-proc and --cgroup-root with --mode cgroup. */
  readonly isDirectory: (path: string) => boolean;
  /** Creates a folder when missing and proves it writable (--spool-dir); throws when it cannot. */
  readonly prepareDir: (dir: string) => void;
}

/**
 * What parseConfig reads: the command line, the environment, and the file system through `ConfigIo`.
 * A check whose function is left out is skipped (the rootful socket is taken without looking, a
 * folder is taken as given, no DOCKER_CERT_PATH file is found); a file to read cannot be read.
 */
export interface ConfigInputs extends Partial<ConfigIo> {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: string;
  readonly homedir: string;
}

/** The reader of a ConfigInputs that has none. */
function cannotRead(): never {
  throw new Error('no file reader given');
}

/**
 * argv + environment → Config, or every problem at once. Each problem names the flag or variable
 * the value came from, the bad value (passwords masked) and what is allowed. The steps run in the
 * order of the problems they add, which is the order tests and users see them in.
 */
export function parseConfig(inputs: ConfigInputs): ParseOutcome {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(inputs.argv);
  } catch (err) {
    return { kind: 'invalid', problems: [`command line: ${(err as Error).message}`] };
  }
  if (args.values.get('help') === true) return { kind: 'help' };
  if (args.values.get('version') === true) return { kind: 'version' };
  const problems = args.unknown.map((u) =>
    u.startsWith('-')
      ? `${u}: unknown flag (see --help)`
      : `${JSON.stringify(u)}: unexpected argument (options are given as --name=value)`,
  );
  const o = new OptionReader(args.values, inputs.env, problems);
  const sinks = sinkOptions(o, inputs.readFile ?? cannotRead, problems);
  const hostName = hostNameOption(o.get('hostname'), inputs.hostname, problems);
  const docker = parseDocker(o.get('docker'), o.get('ssh-known-hosts'), inputs, problems);
  const pollMs = o.duration('poll');
  const shutdownTimeoutMs = o.duration('shutdown-timeout');
  const rules = ruleOptions(o.get('prefix'), o.get('rules'), problems);
  const filter = {
    include: globs(o.list('include'), problems),
    exclude: globs(o.list('exclude'), problems),
    labels: labelSelectors(o.list('label'), problems),
  };
  const paths = pathOptions(o, hostName);
  const delivery = deliveryOptions(o, inputs.prepareDir, problems);
  const collection = collectionOptions(o, inputs.isDirectory, problems);
  const once = o.bool('once');
  const verbose = o.bool('verbose');
  const metrics: MetricOptions = {
    groups: metricGroups(o.get('metrics'), problems),
    perInterface: o.bool('per-interface'),
    perDevice: o.bool('per-device'),
  };
  if (problems.length > 0 || docker === undefined) return { kind: 'invalid', problems };
  const config = { ...sinks, ...paths, ...delivery, ...collection, docker, rules, pollMs, shutdownTimeoutMs, filter };
  return { kind: 'config', config: { ...config, once, verbose, metrics } };
}

/** A value and where it came from (`--flag` or `SRV_VAR`). */
interface Given {
  value: string;
  from: string;
}

/** The options' values, each from its flag, else its variable, else the table's default. */
class OptionReader {
  constructor(
    private readonly values: ReadonlyMap<string, string | string[] | boolean>,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly problems: string[],
  ) {}

  get(flag: Flag): Given | undefined {
    const spec: OptionRow = OPTION[flag];
    const given = this.values.get(flag);
    if (given !== undefined) return { value: String(given), from: `--${flag}` };
    const fromEnv = spec.env ? this.env[spec.env] : undefined;
    return spec.env && fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, from: spec.env } : undefined;
  }

  list(flag: Flag): { values: string[]; from: string } {
    const spec: OptionRow = OPTION[flag];
    const given = this.values.get(flag);
    if (Array.isArray(given)) return { values: given.flatMap(splitList), from: `--${flag}` };
    const fromEnv = spec.env ? this.env[spec.env] : undefined;
    return { values: fromEnv ? splitList(fromEnv) : [], from: spec.env ?? `--${flag}` };
  }

  bool(flag: BooleanFlag): boolean {
    const given = this.values.get(flag);
    if (typeof given === 'boolean') return given;
    const spec: OptionRow = OPTION[flag];
    const raw = spec.env ? this.env[spec.env] : undefined;
    if (raw === undefined || raw === '') return booleanValue(spec.default) ?? false;
    const value = booleanValue(raw);
    if (value !== undefined) return value;
    const allowed = 'use true or false (also 1/0, yes/no, on/off)';
    this.problems.push(`${spec.env}: ${JSON.stringify(raw)} is not a boolean; ${allowed}`);
    return false;
  }

  duration(flag: DurationFlag): number {
    const v = this.get(flag);
    const fallback = parseDuration(OPTION[flag].default);
    if (!v) return fallback;
    const { min, max } = OPTION[flag].bounds;
    try {
      // Whole milliseconds: the ticks are multiples of --poll, and a fraction would make them drift.
      const ms = Math.round(parseDuration(v.value));
      if (ms >= parseDuration(min) && ms <= parseDuration(max)) return ms;
      const what = parseDuration(min) === 0 ? `0 or more, up to ${max}` : `from ${min} to ${max}`;
      this.problems.push(`${v.from}: ${JSON.stringify(v.value)} is out of bounds; it must be ${what}`);
    } catch (err) {
      this.problems.push(`${v.from}: ${err instanceof DurationError ? err.message : String(err)}`);
    }
    return fallback;
  }

  size(flag: 'spool-max-bytes' | 'buffer-max-bytes'): number {
    const v = this.get(flag);
    const fallback = parseSize(OPTION[flag].default)!;
    if (!v) return fallback;
    const bytes = parseSize(v.value);
    if (bytes !== undefined && bytes > 0) return bytes;
    const units = 'use bytes or a number with KiB, MiB, GiB, KB, MB, GB (e.g. 512MiB)';
    this.problems.push(`${v.from}: ${JSON.stringify(v.value)} is not a size; ${units}`);
    return fallback;
  }

  count(flag: 'buffer-max-items' | 'concurrency'): number {
    const v = this.get(flag);
    const fallback = Number(OPTION[flag].default);
    if (!v) return fallback;
    if (/^\d+$/.test(v.value.trim()) && Number(v.value) > 0) return Number(v.value);
    this.problems.push(`${v.from}: ${JSON.stringify(v.value)} is not a whole number greater than 0`);
    return fallback;
  }
}

/** Where the metrics go: Backstop, carbon, the Prometheus server and its TLS, the Pushgateway. */
function sinkOptions(o: OptionReader, readFile: (path: string) => string, problems: string[]) {
  const fileOpt = o.get('backstop-file');
  const backstop = parseBackstop(backstopSource(o.get('backstop'), fileOpt, readFile, problems), problems);
  const backstopFile = fileOpt ? { path: resolve(fileOpt.value), from: fileOpt.from } : undefined;
  const carbon = parseCarbon(o.get('carbon'), problems);
  const listen = parseListen(o.get('listen'), problems);
  const tls = tlsFiles(o.get('tls-cert'), o.get('tls-key'), listen !== undefined, problems);
  const promLabels = promLabelKeys(o.list('prom-labels'), problems);
  const pushgateway = parsePushgateway(o.get('pushgateway'), problems);
  return { backstop, backstopFile, carbon, listen, tls, promLabels, pushgateway };
}

/** --prefix, then --rules: one list of naming rules, the --prefix ones first. */
function ruleOptions(prefix: Given | undefined, rulesOpt: Given | undefined, problems: string[]): Rule[] {
  const rules: Rule[] = [];
  for (const source of [prefix, rulesOpt]) {
    if (!source) continue;
    if (source === rulesOpt && !source.value.trim().startsWith('[')) {
      problems.push(`${source.from}: must be a JSON array of {"regexp","into","category"} objects`);
      continue;
    }
    try {
      rules.push(...parseRules(source.value));
    } catch (err) {
      const each = err instanceof RulesError ? err.problems : [(err as Error).message];
      for (const p of each) problems.push(`${source.from}: ${p}`);
    }
  }
  return rules;
}

/** The host path and the prefixes made of it, and the Pushgateway instance (the host name by default). */
function pathOptions(o: OptionReader, hostName: string) {
  // As the Go daemon wrote it: the host name's dots separate path segments (web1.example.com.…).
  const hostPath = sanitizePath(hostName) || 'unknown-host';
  const withHost = (v: Given | undefined): string => (v ? sanitizePath(v.value.replaceAll('{host}', hostPath)) : '');
  return {
    hostPath,
    pathPrefix: withHost(o.get('path-prefix')),
    carbonPrefix: withHost(o.get('carbon-prefix')),
    pushgatewayInstance: o.get('pushgateway-instance')?.value ?? hostName,
  };
}

/** The spool folder and the memory bounds of each sink. */
function deliveryOptions(o: OptionReader, prepareDir: ConfigInputs['prepareDir'], problems: string[]) {
  return {
    spoolDir: writableDir(o.get('spool-dir'), prepareDir, problems),
    spoolMaxBytes: o.size('spool-max-bytes'),
    bufferMaxItems: o.count('buffer-max-items'),
    bufferMaxBytes: o.size('buffer-max-bytes'),
  };
}

/** How samples are collected: the mode, the kernel's trees, the pace of streams, sizes and requests. */
function collectionOptions(o: OptionReader, isDirectory: ConfigInputs['isDirectory'], problems: string[]) {
  const stallTimeoutMs = o.duration('stall-timeout');
  const diskIntervalMs = o.duration('disk-interval');
  const modeOpt = o.get('mode');
  const mode = (modeOpt?.value ?? OPTION.mode.default).trim().toLowerCase();
  if (mode !== 'stream' && mode !== 'oneshot' && mode !== 'cgroup') {
    problems.push(`${modeOpt!.from}: ${JSON.stringify(modeOpt!.value)} is not a mode; use stream, oneshot or cgroup`);
  }
  const hostProc = kernelTree(o.get('host-proc'), OPTION['host-proc'].default, mode, isDirectory, problems);
  const cgroupRoot = kernelTree(o.get('cgroup-root'), OPTION['cgroup-root'].default, mode, isDirectory, problems);
  const concurrency = o.count('concurrency');
  return { stallTimeoutMs, diskIntervalMs, mode: mode as Config['mode'], hostProc, cgroupRoot, concurrency };
}

/** The boolean options with a value (`on` or `off` by default); --help and --version are actions. */
type BooleanFlag = 'once' | 'verbose' | 'per-interface' | 'per-device';

/**
 * The duration options. Their bounds: Node's timers hold at most 2^31-1 ms (about 24.8 days) and fire
 * at once beyond it, and the samples come once a second, so a tick or a stall check shorter than that
 * would only see nothing new.
 */
type DurationFlag = 'poll' | 'stall-timeout' | 'shutdown-timeout' | 'disk-interval';

/** `1`, `true`, `yes`, `on` and their opposites, any case; undefined for anything else. */
function booleanValue(raw: string | undefined): boolean | undefined {
  if (raw !== undefined && /^(1|true|yes|on)$/i.test(raw)) return true;
  if (raw !== undefined && /^(0|false|no|off)$/i.test(raw)) return false;
  return undefined;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** `1073741824`, `512MiB`, `2GB`, `1.5 GiB` → bytes; undefined when not a size. */
function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : undefined;
}

/** The spool folder: created when missing, and proven writable now rather than during an outage. */
function writableDir(
  v: { value: string; from: string } | undefined,
  prepareDir: ((dir: string) => void) | undefined,
  problems: string[],
): string | undefined {
  if (!v) return undefined;
  const dir = resolve(v.value);
  try {
    prepareDir?.(dir);
    return dir;
  } catch (err) {
    problems.push(
      `${v.from}: cannot write to ${JSON.stringify(dir)} (${describeError(err)}); give a writable folder for the spool`,
    );
    return undefined;
  }
}

/**
 * --host-proc, --cgroup-root: with --mode cgroup, when given, a directory that exists. Other modes
 * read them only for the kernel counters, which a missing tree leaves out (said once at the first
 * tick), so an environment file may set them for all.
 */
function kernelTree(
  v: { value: string; from: string } | undefined,
  fallback: string,
  mode: string,
  isDirectory: ((path: string) => boolean) | undefined,
  problems: string[],
): string {
  if (!v) return fallback;
  const dir = resolve(v.value);
  if (mode === 'cgroup' && isDirectory && !isDirectory(dir)) {
    problems.push(
      `${v.from}: ${JSON.stringify(dir)} is not a directory; ` +
        "give the host's tree (a read-only mount of it when run in a container)",
    );
  }
  return dir;
}

/**
 * --metrics: a plain list replaces the default groups (as it always did); `+group` adds to them and
 * `-group` removes from them. Both kinds in one list would leave unclear which set `cpu` joins.
 */
function metricGroups(v: { value: string; from: string } | undefined, problems: string[]): Set<MetricGroup> {
  if (!v) return new Set(DEFAULT_GROUPS);
  const allowed =
    `use a comma-separated list of ${METRIC_GROUPS.join(', ')} (replacing the default set), ` +
    'or +group / -group to add to it or remove from it';
  const names = splitList(v.value);
  if (names.length === 0) {
    problems.push(`${v.from}: names no metric group; ${allowed}`);
    return new Set(DEFAULT_GROUPS);
  }
  const signed = names.filter((n) => n.startsWith('+') || n.startsWith('-'));
  if (signed.length > 0 && signed.length < names.length) {
    problems.push(
      `${v.from}: ${JSON.stringify(v.value)} mixes plain group names with +group / -group; ` +
        'give either a plain list (it replaces the default set) or only +group / -group (they change it)',
    );
    return new Set(DEFAULT_GROUPS);
  }
  const groups = new Set<MetricGroup>(signed.length > 0 ? DEFAULT_GROUPS : []);
  for (const name of names) {
    const bare = signed.length > 0 ? name.slice(1).trim() : name;
    const group = METRIC_GROUPS.find((g) => g === bare.toLowerCase());
    if (!group) problems.push(`${v.from}: ${JSON.stringify(name)} is not a metric group; ${allowed}`);
    else if (name.startsWith('-')) groups.delete(group);
    else groups.add(group);
  }
  return groups;
}

/** Whether decodeURIComponent takes this text (every % followed by two hex digits, UTF-8 whole). */
function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * An option's value as a URL whose scheme is one of `schemes` (`'http:'`, …), or undefined after
 * recording the problem: the option's name, the value with its password masked, and `allowed`.
 */
function urlOption(
  v: { value: string; from: string },
  schemes: readonly string[],
  allowed: string,
  problems: string[],
): URL | undefined {
  const hint = '; write / ? # @ % in a user name or password as %2F %3F %23 %40 %25';
  let url: URL;
  try {
    url = new URL(v.value);
  } catch {
    const shown = unparsedForDisplay(v.value);
    const what = shown ? JSON.stringify(shown) : 'the value (not shown: it may hold a password)';
    problems.push(`${v.from}: ${what} is not a URL; ${allowed}${v.value.includes('@') ? hint : ''}`);
    return undefined;
  }
  // `http://u:2024?secret@host/` parses as host `u`, port 2024 and a query holding the password: an
  // @ past the host is taken as a password holding / ? or #, never shown and never used.
  if (unparsedForDisplay(v.value) === undefined) {
    problems.push(
      `${v.from}: the value (not shown: it may hold a password) has an @ after its host; ${allowed}${hint}`,
    );
    return undefined;
  }
  if (!decodes(url.username) || !decodes(url.password)) {
    const masked = displayUrl(url).replace(/^([^:]*:\/\/)[^@]*@/, '$1***@');
    problems.push(
      `${v.from}: the user-info of ${JSON.stringify(masked)} has a % not followed by two hex digits; ` +
        'write % in a user name or password as %25',
    );
    return undefined;
  }
  if (!schemes.includes(url.protocol)) {
    const shown = JSON.stringify(displayUrl(url));
    const what = schemes.every((x) => x.startsWith('http'))
      ? `${shown} is not an http or https URL`
      : `unsupported scheme "${url.protocol.slice(0, -1)}" in ${shown}`;
    problems.push(`${v.from}: ${what}; ${allowed}`);
    return undefined;
  }
  return url;
}

/**
 * A value that is not a URL, for a message: with its password masked when where its user-info
 * ends is certain (no `@` past the first `/`, `?`, `#` or `\` after `scheme://`), else undefined:
 * a raw `/` in a password would end the authority early and show the password's tail.
 */
function unparsedForDisplay(value: string): string | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value);
  if (!scheme) return value.includes('@') ? undefined : value;
  const rest = value.slice(scheme[0].length);
  const end = rest.search(/[/?#\\]/);
  return end !== -1 && rest.slice(end).includes('@') ? undefined : redact(value);
}

/**
 * Where the Backstop URL comes from: --backstop, or the content of the --backstop-file file (a
 * Docker or Kubernetes secret, so that the password is in no command line or environment). The
 * file's content is never shown in a problem unless it starts as an http(s) URL, and then with its
 * password masked: a file holding a bare password must not print it.
 */
function backstopSource(
  url: { value: string; from: string } | undefined,
  file: { value: string; from: string } | undefined,
  readFile: (path: string) => string,
  problems: string[],
): { value: string; from: string } | undefined {
  if (!file) return url;
  if (url) {
    problems.push(`${file.from}: ${url.from} is given too; give the Backstop URL one way only`);
    return undefined;
  }
  const path = resolve(file.value);
  let text: string;
  try {
    text = readFile(path).trim();
  } catch (err) {
    problems.push(
      `${file.from}: cannot read ${JSON.stringify(path)} (${describeError(err)}); ` +
        'give a readable file holding the Backstop URL',
    );
    return undefined;
  }
  const from = `${file.from} (${path})`;
  if (text === '') {
    problems.push(
      `${from}: the file is empty; it must hold the Backstop URL, http(s)://[user:password@]host[:port]/publish/<name>`,
    );
    return undefined;
  }
  // Not URL.canParse: a password like `s3cret:x` parses as a URL of scheme `s3cret:`.
  if (!/^https?:\/\//i.test(text)) {
    problems.push(
      `${from}: the file does not hold an http or https URL (its content is not shown); ` +
        'it must hold http(s)://[user:password@]host[:port]/publish/<name>',
    );
    return undefined;
  }
  return { value: text, from };
}

/**
 * Reads the --backstop-file file again (SIGHUP): the URL it holds, or the problems, worded as at
 * start (the file's content is never shown).
 */
export function readBackstopFile(
  file: { readonly path: string; readonly from: string },
  readFile: (path: string) => string,
): { url: URL } | { problems: string[] } {
  const problems: string[] = [];
  const source = backstopSource(undefined, { value: file.path, from: file.from }, readFile, problems);
  const url = parseBackstop(source, problems);
  return url && problems.length === 0 ? { url } : { problems };
}

/** --hostname, else the OS's host name. */
function hostNameOption(
  v: { value: string; from: string } | undefined,
  osHostname: string,
  problems: string[],
): string {
  if (!v) return osHostname;
  const name = v.value.trim();
  if (name === '')
    problems.push(`${v.from}: is empty; give the name of the host (a node name), or leave it out for the OS host name`);
  return name === '' ? osHostname : name;
}

function parseBackstop(v: { value: string; from: string } | undefined, problems: string[]): URL | undefined {
  if (!v) return undefined;
  return urlOption(v, ['http:', 'https:'], 'use http(s)://[user:password@]host[:port]/publish/<name>', problems);
}

function parseCarbon(v: { value: string; from: string } | undefined, problems: string[]): CarbonTarget | undefined {
  if (!v) return undefined;
  const allowed = 'use tcp://host[:port] or udp://host[:port] (default port 2003)';
  const url = urlOption(v, ['tcp:', 'udp:'], allowed, problems);
  if (!url) return undefined;
  if (
    url.hostname === '' ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search !== '' ||
    url.username !== ''
  ) {
    problems.push(`${v.from}: ${JSON.stringify(displayUrl(url))} must name a host and port only; ${allowed}`);
    return undefined;
  }
  return {
    protocol: url.protocol === 'tcp:' ? 'tcp' : 'udp',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 2003 : Number(url.port),
  };
}

/** `ADDR:PORT`, `[v6]:PORT`, `:PORT` (every address); the port 1-65535 (0: any free port, for tests). */
function parseListen(v: { value: string; from: string } | undefined, problems: string[]): ListenAddress | undefined {
  if (!v) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(v.value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    problems.push(
      `${v.from}: ${JSON.stringify(v.value)} is not a listen address; ` +
        'use ADDR:PORT (127.0.0.1:9417, [::1]:9417, or :9417 for every address), the port 0-65535',
    );
    return undefined;
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

function tlsFiles(
  cert: { value: string; from: string } | undefined,
  key: { value: string; from: string } | undefined,
  listening: boolean,
  problems: string[],
): TlsFiles | undefined {
  if (!cert && !key) return undefined;
  if (!cert || !key) {
    const missing = cert ? '--tls-key (SRV_TLS_KEY)' : '--tls-cert (SRV_TLS_CERT)';
    problems.push(`${(cert ?? key)!.from}: needs ${missing} too; give both PEM files or neither`);
    return undefined;
  }
  if (!listening) {
    problems.push(`${cert.from}: TLS is for --listen (SRV_LISTEN), which is not given`);
    return undefined;
  }
  return { cert: { path: resolve(cert.value), from: cert.from }, key: { path: resolve(key.value), from: key.from } };
}

/**
 * Reads the PEM files of --tls-cert and --tls-key, at start (so that an example configuration
 * parses without them). Problems are configuration problems (exit 2), in parseConfig's format.
 */
export function readTlsFiles(
  files: TlsFiles,
  readBytes: (path: string) => Buffer,
): { cert: Buffer; key: Buffer } | { problems: string[] } {
  const problems: string[] = [];
  const read = (f: { path: string; from: string }): Buffer | undefined => {
    try {
      const pem = readBytes(f.path);
      if (pem.toString('latin1').includes('-----BEGIN ')) return pem;
      problems.push(`${f.from}: ${JSON.stringify(f.path)} is not a PEM file; give a PEM certificate or key`);
    } catch (err) {
      problems.push(
        `${f.from}: cannot read ${JSON.stringify(f.path)} (${describeError(err)}); give a readable PEM file`,
      );
    }
    return undefined;
  };
  const cert = read(files.cert);
  const key = read(files.key);
  return cert && key ? { cert, key } : { problems };
}

function parsePushgateway(v: { value: string; from: string } | undefined, problems: string[]): URL | undefined {
  if (!v) return undefined;
  const allowed = "use http(s)://[user:password@]host[:port][/path], the Pushgateway's base URL";
  const url = urlOption(v, ['http:', 'https:'], allowed, problems);
  if (!url) return undefined;
  if (/\/metrics(\/|$)/.test(url.pathname)) {
    problems.push(
      `${v.from}: ${JSON.stringify(displayUrl(url))} already holds /metrics/…; ` +
        `${allowed} (the job and instance are added)`,
    );
    return undefined;
  }
  return url;
}

/** The rootful Engine's socket: the default target, and the target kept when no socket exists. */
const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * No `--docker`, `SRV_DOCKER` or `DOCKER_HOST`: the rootful socket if it exists, else rootless
 * Docker's `$XDG_RUNTIME_DIR/docker.sock` if that exists, else the rootful one still (the Engine
 * may come up later), remembering what was tried so "cannot reach Docker" can say so.
 */
function defaultSocket(
  env: Readonly<Record<string, string | undefined>>,
  exists: ((path: string) => boolean) | undefined,
): { socketPath: string; tried?: readonly string[] } {
  if (exists === undefined) return { socketPath: DEFAULT_SOCKET };
  const candidates = [DEFAULT_SOCKET];
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) candidates.push(join(runtimeDir, 'docker.sock'));
  const found = candidates.find((path) => exists(path));
  return found !== undefined ? { socketPath: found } : { socketPath: DEFAULT_SOCKET, tried: candidates };
}

function parseDocker(
  v: Given | undefined,
  knownHostsOpt: Given | undefined,
  inputs: ConfigInputs,
  problems: string[],
): DockerTarget | undefined {
  const { env } = inputs;
  const source = v ?? (env['DOCKER_HOST'] ? { value: env['DOCKER_HOST'], from: 'DOCKER_HOST' } : undefined);
  if (source === undefined) {
    const { socketPath, tried } = defaultSocket(env, inputs.exists);
    const display = `unix://${socketPath}`;
    if (tried === undefined) return { kind: 'unix', socketPath, display };
    return { kind: 'unix', socketPath, display: `${display} (no socket found; tried ${tried.join(', ')})`, tried };
  }
  const url = urlOption(source, ['unix:', 'tcp:', 'http:', 'https:', 'ssh:'], DOCKER_ALLOWED, problems);
  if (!url) return undefined;
  if (url.protocol === 'ssh:') return sshTarget(url, source.from, knownHostsOpt, inputs, problems);
  if (url.protocol === 'unix:') return unixTarget(url, source, problems);
  return tcpTarget(url, source.from, inputs, problems);
}

const DOCKER_ALLOWED =
  'use unix:///path/to/docker.sock, tcp://host:port, http://host:port, https://host:port or ssh://[user@]host[:port]';

/** ssh://[user@]host[:port], with the host's key in a known_hosts file (read now, checked at connect). */
function sshTarget(
  url: URL,
  from: string,
  knownHostsOpt: Given | undefined,
  inputs: ConfigInputs,
  problems: string[],
): DockerTarget | undefined {
  if (url.hostname === '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/')) {
    const why = 'must be ssh://[user@]host[:port] (the key comes from the SSH agent, never from the URL)';
    problems.push(`${from}: ${JSON.stringify(displayUrl(url))} ${why}`);
    return undefined;
  }
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const port = url.port === '' ? 22 : Number(url.port);
  const display = `ssh://${username ? `${username}@` : ''}${url.hostname}:${port}`;
  const knownHostsPath = knownHostsOpt ? resolve(knownHostsOpt.value) : join(inputs.homedir, '.ssh', 'known_hosts');
  let knownHosts: string;
  try {
    knownHosts = (inputs.readFile ?? cannotRead)(knownHostsPath);
  } catch (err) {
    problems.push(
      `${knownHostsOpt?.from ?? from}: ssh:// needs the host's key in a known_hosts file, ` +
        `and ${JSON.stringify(knownHostsPath)} cannot be read (${describeError(err)}); ` +
        `check the key and add it (ssh-keyscan -p ${port} ${url.hostname}), or name the file with --ssh-known-hosts`,
    );
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const agentSocket = inputs.env['SSH_AUTH_SOCK'] || undefined;
  const known = { path: knownHostsPath, text: knownHosts };
  return { kind: 'ssh', host, port, username, display, agentSocket, knownHosts: known };
}

function unixTarget(url: URL, { value, from }: Given, problems: string[]): DockerTarget | undefined {
  if (!decodes(url.pathname)) {
    const why = 'has a % not followed by two hex digits in its path; write % as %25';
    problems.push(`${from}: ${JSON.stringify(value)} ${why}; ${DOCKER_ALLOWED}`);
    return undefined;
  }
  const socketPath = decodeURIComponent(url.pathname);
  if (socketPath === '' || socketPath === '/') {
    problems.push(`${from}: ${JSON.stringify(value)} names no socket; ${DOCKER_ALLOWED}`);
    return undefined;
  }
  return { kind: 'unix', socketPath, display: `unix://${socketPath}` };
}

/** tcp://, http://, https://: TLS for https, and for tcp with DOCKER_TLS_VERIFY, as the docker CLI does. */
function tcpTarget(url: URL, from: string, inputs: ConfigInputs, problems: string[]): DockerTarget | undefined {
  const { env } = inputs;
  if (url.hostname === '') {
    problems.push(`${from}: ${JSON.stringify(displayUrl(url))} names no host; ${DOCKER_ALLOWED}`);
    return undefined;
  }
  const verify =
    env['DOCKER_TLS_VERIFY'] !== undefined && env['DOCKER_TLS_VERIFY'] !== '' && env['DOCKER_TLS_VERIFY'] !== '0';
  const protocol = url.protocol === 'https:' || (url.protocol === 'tcp:' && verify) ? 'https' : 'http';
  const port = url.port !== '' ? Number(url.port) : protocol === 'https' ? 2376 : 2375;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const display = `${protocol}://${url.host}`;
  if (protocol === 'http') return { kind: 'tcp', protocol, host, port, display };
  return { kind: 'tcp', protocol, host, port, display, tls: dockerCertFiles(inputs, problems) };
}

/** The client certificate files of DOCKER_CERT_PATH (default ~/.docker), each when it exists. */
function dockerCertFiles(inputs: ConfigInputs, problems: string[]): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const { env, exists } = inputs;
  const certPath = env['DOCKER_CERT_PATH'] || join(inputs.homedir, '.docker');
  const read = (file: string): Buffer | undefined => {
    const path = join(certPath, file);
    if (!exists?.(path)) return undefined;
    try {
      return (inputs.readBytes ?? cannotRead)(path);
    } catch (err) {
      problems.push(`DOCKER_CERT_PATH: cannot read ${path}: ${describeError(err)}`);
      return undefined;
    }
  };
  const tls = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
  if (env['DOCKER_CERT_PATH'] && !tls.cert) {
    problems.push(
      `DOCKER_CERT_PATH: ${JSON.stringify(certPath)} holds no cert.pem; it must hold ca.pem, cert.pem and key.pem`,
    );
  }
  return tls;
}

function globs(list: { values: string[]; from: string }, problems: string[]): RegExp[] {
  const out: RegExp[] = [];
  for (const g of list.values) {
    try {
      out.push(compileGlob(g));
    } catch (err) {
      problems.push(`${list.from}: ${(err as Error).message}; use *, ? and [abc] in container name globs`);
    }
  }
  return out;
}

/** --prom-labels: keys that map to one Prometheus label name would overwrite each other. */
function promLabelKeys(list: { values: string[]; from: string }, problems: string[]): string[] {
  const keys = [...new Set(list.values)];
  const byName = new Map<string, string[]>();
  for (const key of keys) byName.set(labelName(key), [...(byName.get(labelName(key)) ?? []), key]);
  for (const [name, same] of byName) {
    if (same.length < 2) continue;
    const keys = same.map((k) => JSON.stringify(k)).join(' and ');
    problems.push(`${list.from}: ${keys} both become the Prometheus label ${name}; keep one of them`);
  }
  return keys;
}

function labelSelectors(list: { values: string[]; from: string }, problems: string[]): LabelSelector[] {
  const out: LabelSelector[] = [];
  for (const l of list.values) {
    const eq = l.indexOf('=');
    const key = eq === -1 ? l : l.slice(0, eq);
    if (key === '') {
      problems.push(`${list.from}: ${JSON.stringify(l)} has no label key; use KEY or KEY=VALUE`);
      continue;
    }
    out.push({ key, value: eq === -1 ? undefined : l.slice(eq + 1) });
  }
  return out;
}

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
 * the value came from, the bad value (passwords masked) and what is allowed.
 */
export function parseConfig(inputs: ConfigInputs): ParseOutcome {
  const { env } = inputs;
  const problems: string[] = [];
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(inputs.argv);
  } catch (err) {
    return { kind: 'invalid', problems: [`command line: ${(err as Error).message}`] };
  }
  if (args.values.get('help') === true) return { kind: 'help' };
  if (args.values.get('version') === true) return { kind: 'version' };
  for (const u of args.unknown) {
    problems.push(
      u.startsWith('-') ? `${u}: unknown flag (see --help)` : `${JSON.stringify(u)}: unexpected argument (options are given as --name=value)`,
    );
  }

  /** A value and where it came from (`--flag` or `SRV_VAR`). */
  const get = (flag: Flag): { value: string; from: string } | undefined => {
    const spec: OptionRow = OPTION[flag];
    const given = args.values.get(flag);
    if (given !== undefined) return { value: String(given), from: `--${flag}` };
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return spec.env && fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, from: spec.env } : undefined;
  };
  const getList = (flag: Flag): { values: string[]; from: string } => {
    const spec: OptionRow = OPTION[flag];
    const given = args.values.get(flag);
    if (Array.isArray(given)) return { values: given.flatMap(splitList), from: `--${flag}` };
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return { values: fromEnv ? splitList(fromEnv) : [], from: spec.env ?? `--${flag}` };
  };
  const getBool = (flag: BooleanFlag): boolean => {
    const given = args.values.get(flag);
    if (typeof given === 'boolean') return given;
    const spec: OptionRow = OPTION[flag];
    const raw = spec.env ? env[spec.env] : undefined;
    if (raw === undefined || raw === '') return booleanValue(spec.default) ?? false;
    const value = booleanValue(raw);
    if (value !== undefined) return value;
    problems.push(`${spec.env}: ${JSON.stringify(raw)} is not a boolean; use true or false (also 1/0, yes/no, on/off)`);
    return false;
  };
  const duration = (flag: DurationFlag): number => {
    const v = get(flag);
    const fallback = parseDuration(OPTION[flag].default);
    if (!v) return fallback;
    const { min, max } = OPTION[flag].bounds;
    try {
      // Whole milliseconds: the ticks are multiples of --poll, and a fraction would make them drift.
      const ms = Math.round(parseDuration(v.value));
      if (ms >= parseDuration(min) && ms <= parseDuration(max)) return ms;
      const what = parseDuration(min) === 0 ? `0 or more, up to ${max}` : `from ${min} to ${max}`;
      problems.push(`${v.from}: ${JSON.stringify(v.value)} is out of bounds; it must be ${what}`);
    } catch (err) {
      problems.push(`${v.from}: ${err instanceof DurationError ? err.message : String(err)}`);
    }
    return fallback;
  };

  const size = (flag: 'spool-max-bytes' | 'buffer-max-bytes'): number => {
    const v = get(flag);
    const fallback = parseSize(OPTION[flag].default)!;
    if (!v) return fallback;
    const bytes = parseSize(v.value);
    if (bytes !== undefined && bytes > 0) return bytes;
    problems.push(`${v.from}: ${JSON.stringify(v.value)} is not a size; use bytes or a number with KiB, MiB, GiB, KB, MB, GB (e.g. 512MiB)`);
    return fallback;
  };
  const count = (flag: 'buffer-max-items' | 'concurrency'): number => {
    const v = get(flag);
    const fallback = Number(OPTION[flag].default);
    if (!v) return fallback;
    if (/^\d+$/.test(v.value.trim()) && Number(v.value) > 0) return Number(v.value);
    problems.push(`${v.from}: ${JSON.stringify(v.value)} is not a whole number greater than 0`);
    return fallback;
  };

  const backstop = parseBackstop(
    backstopSource(get('backstop'), get('backstop-file'), inputs.readFile ?? cannotRead, problems),
    problems,
  );
  const backstopFileOpt = get('backstop-file');
  const backstopFile = backstopFileOpt
    ? { path: resolve(backstopFileOpt.value), from: backstopFileOpt.from }
    : undefined;
  const carbon = parseCarbon(get('carbon'), problems);
  const rawCarbonPrefix = get('carbon-prefix');
  const listen = parseListen(get('listen'), problems);
  const tls = tlsFiles(get('tls-cert'), get('tls-key'), listen !== undefined, problems);
  const promLabels = promLabelKeys(getList('prom-labels'), problems);
  const pushgateway = parsePushgateway(get('pushgateway'), problems);
  const hostName = hostNameOption(get('hostname'), inputs.hostname, problems);
  const pushgatewayInstance = get('pushgateway-instance')?.value ?? hostName;
  const docker = parseDocker(get('docker'), get('ssh-known-hosts'), env, inputs, problems);
  const pollMs = duration('poll');
  const shutdownTimeoutMs = duration('shutdown-timeout');

  const rules: Rule[] = [];
  const prefix = get('prefix');
  const rulesOpt = get('rules');
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

  const include = globs(getList('include'), problems);
  const exclude = globs(getList('exclude'), problems);
  const labels = labelSelectors(getList('label'), problems);
  // As the Go daemon wrote it: the host name's dots separate path segments (web1.example.com.…).
  const hostPath = sanitizePath(hostName) || 'unknown-host';
  const rawPrefix = get('path-prefix');
  const pathPrefix = rawPrefix ? sanitizePath(rawPrefix.value.replaceAll('{host}', hostPath)) : '';
  const carbonPrefix = rawCarbonPrefix ? sanitizePath(rawCarbonPrefix.value.replaceAll('{host}', hostPath)) : '';
  const spoolDir = writableDir(get('spool-dir'), inputs.prepareDir, problems);
  const spoolMaxBytes = size('spool-max-bytes');
  const bufferMaxItems = count('buffer-max-items');
  const bufferMaxBytes = size('buffer-max-bytes');
  const stallTimeoutMs = duration('stall-timeout');
  const diskIntervalMs = duration('disk-interval');
  const modeOpt = get('mode');
  const mode = (modeOpt?.value ?? OPTION.mode.default).trim().toLowerCase();
  if (mode !== 'stream' && mode !== 'oneshot' && mode !== 'cgroup') {
    problems.push(`${modeOpt!.from}: ${JSON.stringify(modeOpt!.value)} is not a mode; use stream, oneshot or cgroup`);
  }
  const hostProc = kernelTree(get('host-proc'), OPTION['host-proc'].default, mode, inputs.isDirectory, problems);
  const cgroupRoot = kernelTree(get('cgroup-root'), OPTION['cgroup-root'].default, mode, inputs.isDirectory, problems);
  const concurrency = count('concurrency');
  const once = getBool('once');
  const verbose = getBool('verbose');
  const metrics: MetricOptions = {
    groups: metricGroups(get('metrics'), problems),
    perInterface: getBool('per-interface'),
    perDevice: getBool('per-device'),
  };

  if (problems.length > 0) return { kind: 'invalid', problems };
  return {
    kind: 'config',
    config: {
      backstop,
      backstopFile,
      docker: docker!,
      rules,
      pollMs,
      filter: { include, exclude, labels },
      pathPrefix,
      hostPath,
      once,
      shutdownTimeoutMs,
      verbose,
      metrics,
      diskIntervalMs,
      spoolDir,
      spoolMaxBytes,
      bufferMaxItems,
      bufferMaxBytes,
      stallTimeoutMs,
      mode: mode as Config['mode'],
      concurrency,
      hostProc,
      cgroupRoot,
      carbon,
      carbonPrefix,
      listen,
      tls,
      promLabels,
      pushgateway,
      pushgatewayInstance,
    },
  };
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
  '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4,
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
    problems.push(`${v.from}: cannot write to ${JSON.stringify(dir)} (${describeError(err)}); give a writable folder for the spool`);
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
    problems.push(`${v.from}: ${JSON.stringify(dir)} is not a directory; give the host's tree (a read-only mount of it when run in a container)`);
  }
  return dir;
}

/**
 * --metrics: a plain list replaces the default groups (as it always did); `+group` adds to them and
 * `-group` removes from them. Both kinds in one list would leave unclear which set `cpu` joins.
 */
function metricGroups(v: { value: string; from: string } | undefined, problems: string[]): Set<MetricGroup> {
  if (!v) return new Set(DEFAULT_GROUPS);
  const allowed = `use a comma-separated list of ${METRIC_GROUPS.join(', ')} (replacing the default set), ` +
    'or +group / -group to add to it or remove from it';
  const names = splitList(v.value);
  if (names.length === 0) {
    problems.push(`${v.from}: names no metric group; ${allowed}`);
    return new Set(DEFAULT_GROUPS);
  }
  const signed = names.filter((n) => n.startsWith('+') || n.startsWith('-'));
  if (signed.length > 0 && signed.length < names.length) {
    problems.push(`${v.from}: ${JSON.stringify(v.value)} mixes plain group names with +group / -group; ` +
      'give either a plain list (it replaces the default set) or only +group / -group (they change it)');
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
    problems.push(`${v.from}: the value (not shown: it may hold a password) has an @ after its host; ${allowed}${hint}`);
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
    problems.push(`${file.from}: cannot read ${JSON.stringify(path)} (${describeError(err)}); give a readable file holding the Backstop URL`);
    return undefined;
  }
  const from = `${file.from} (${path})`;
  if (text === '') {
    problems.push(`${from}: the file is empty; it must hold the Backstop URL, http(s)://[user:password@]host[:port]/publish/<name>`);
    return undefined;
  }
  // Not URL.canParse: a password like `s3cret:x` parses as a URL of scheme `s3cret:`.
  if (!/^https?:\/\//i.test(text)) {
    problems.push(`${from}: the file does not hold an http or https URL (its content is not shown); it must hold http(s)://[user:password@]host[:port]/publish/<name>`);
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
function hostNameOption(v: { value: string; from: string } | undefined, osHostname: string, problems: string[]): string {
  if (!v) return osHostname;
  const name = v.value.trim();
  if (name === '') problems.push(`${v.from}: is empty; give the name of the host (a node name), or leave it out for the OS host name`);
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
  if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.username !== '') {
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
      `${v.from}: ${JSON.stringify(v.value)} is not a listen address; use ADDR:PORT (127.0.0.1:9417, [::1]:9417, or :9417 for every address), the port 0-65535`,
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
    problems.push(`${(cert ?? key)!.from}: needs ${cert ? '--tls-key (SRV_TLS_KEY)' : '--tls-cert (SRV_TLS_CERT)'} too; give both PEM files or neither`);
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
      problems.push(`${f.from}: cannot read ${JSON.stringify(f.path)} (${describeError(err)}); give a readable PEM file`);
    }
    return undefined;
  };
  const cert = read(files.cert);
  const key = read(files.key);
  return cert && key ? { cert, key } : { problems };
}

function parsePushgateway(v: { value: string; from: string } | undefined, problems: string[]): URL | undefined {
  if (!v) return undefined;
  const allowed = 'use http(s)://[user:password@]host[:port][/path], the Pushgateway\'s base URL';
  const url = urlOption(v, ['http:', 'https:'], allowed, problems);
  if (!url) return undefined;
  if (/\/metrics(\/|$)/.test(url.pathname)) {
    problems.push(`${v.from}: ${JSON.stringify(displayUrl(url))} already holds /metrics/…; ${allowed} (the job and instance are added)`);
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
  v: { value: string; from: string } | undefined,
  knownHostsOpt: { value: string; from: string } | undefined,
  env: Readonly<Record<string, string | undefined>>,
  inputs: ConfigInputs,
  problems: string[],
): DockerTarget | undefined {
  const { homedir, exists } = inputs;
  const source = v ?? (env['DOCKER_HOST'] ? { value: env['DOCKER_HOST'], from: 'DOCKER_HOST' } : undefined);
  if (source === undefined) {
    const { socketPath, tried } = defaultSocket(env, exists);
    const display = `unix://${socketPath}`;
    if (tried === undefined) return { kind: 'unix', socketPath, display };
    return { kind: 'unix', socketPath, display: `${display} (no socket found; tried ${tried.join(', ')})`, tried };
  }
  const { value, from } = source;
  const allowed = 'use unix:///path/to/docker.sock, tcp://host:port, http://host:port, https://host:port or ssh://[user@]host[:port]';
  const url = urlOption(source, ['unix:', 'tcp:', 'http:', 'https:', 'ssh:'], allowed, problems);
  if (!url) return undefined;
  if (url.protocol === 'ssh:') {
    if (url.hostname === '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/')) {
      problems.push(`${from}: ${JSON.stringify(displayUrl(url))} must be ssh://[user@]host[:port] (the key comes from the SSH agent, never from the URL)`);
      return undefined;
    }
    const username = url.username === '' ? undefined : decodeURIComponent(url.username);
    const port = url.port === '' ? 22 : Number(url.port);
    const display = `ssh://${username ? `${username}@` : ''}${url.hostname}:${port}`;
    const knownHostsPath = knownHostsOpt ? resolve(knownHostsOpt.value) : join(homedir, '.ssh', 'known_hosts');
    let knownHosts: string;
    try {
      knownHosts = (inputs.readFile ?? cannotRead)(knownHostsPath);
    } catch (err) {
      problems.push(
        `${knownHostsOpt?.from ?? from}: ssh:// needs the host's key in a known_hosts file, and ${JSON.stringify(knownHostsPath)} cannot be read ` +
          `(${describeError(err)}); check the key and add it (ssh-keyscan -p ${port} ${url.hostname}), or name the file with --ssh-known-hosts`,
      );
      return undefined;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return { kind: 'ssh', host, port, username, display, agentSocket: env['SSH_AUTH_SOCK'] || undefined, knownHosts: { path: knownHostsPath, text: knownHosts } };
  }
  if (url.protocol === 'unix:') {
    if (!decodes(url.pathname)) {
      const why = 'has a % not followed by two hex digits in its path; write % as %25';
      problems.push(`${from}: ${JSON.stringify(value)} ${why}; ${allowed}`);
      return undefined;
    }
    const socketPath = decodeURIComponent(url.pathname);
    if (socketPath === '' || socketPath === '/') {
      problems.push(`${from}: ${JSON.stringify(value)} names no socket; ${allowed}`);
      return undefined;
    }
    return { kind: 'unix', socketPath, display: `unix://${socketPath}` };
  }
  if (url.hostname === '') {
    problems.push(`${from}: ${JSON.stringify(displayUrl(url))} names no host; ${allowed}`);
    return undefined;
  }
  const verify = env['DOCKER_TLS_VERIFY'] !== undefined && env['DOCKER_TLS_VERIFY'] !== '' && env['DOCKER_TLS_VERIFY'] !== '0';
  const protocol = url.protocol === 'https:' || (url.protocol === 'tcp:' && verify) ? 'https' : 'http';
  const port = url.port !== '' ? Number(url.port) : protocol === 'https' ? 2376 : 2375;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const display = `${protocol}://${url.host}`;
  if (protocol === 'http') return { kind: 'tcp', protocol, host, port, display };

  const certPath = env['DOCKER_CERT_PATH'] || join(homedir, '.docker');
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
    problems.push(`DOCKER_CERT_PATH: ${JSON.stringify(certPath)} holds no cert.pem; it must hold ca.pem, cert.pem and key.pem`);
  }
  return { kind: 'tcp', protocol, host, port, display, tls };
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

import yargs from 'yargs';

/**
 * The command line: flag names, their `SRV_*` variables, help texts and defaults. Parsing only; values
 * are validated by config.ts. A flag beats its variable; an empty variable counts as unset. This table
 * is the one place a default is stated: config.ts parses it, --help prints it, and a unit test checks
 * the README's flag table against it (`npx tsx scripts/readme-flags.ts` prints its rows).
 */
export interface OptionRow {
  readonly env: string | undefined;
  readonly kind: 'string' | 'list' | 'boolean';
  readonly describe: string;
  readonly placeholder?: string;
  /** The default as a value would be given (`60s`, `1GiB`, `on`): config.ts parses it like one. */
  readonly default?: string;
  /** A default no value can state (`the OS host name`), in Markdown; help drops the backquotes. */
  readonly defaultText?: string;
  /** Duration options: the least and the most accepted, as durations. */
  readonly bounds?: { readonly min: string; readonly max: string };
}

export interface OptionSpec extends OptionRow {
  readonly flag: string;
}

export const OPTION = {
  backstop: {
    env: 'SRV_BACKSTOP',
    kind: 'string',
    placeholder: 'URL',
    describe:
      'Backstop publish URL (http/https, credentials in user-info). Without any of --backstop, --carbon, ' +
      '--pushgateway, --listen, carbon lines go to stdout',
    defaultText: 'stdout',
  },
  'backstop-file': {
    env: 'SRV_BACKSTOP_FILE',
    kind: 'string',
    placeholder: 'FILE',
    describe:
      'read the Backstop URL from this file instead (a Docker or Kubernetes secret), again on SIGHUP; not ' +
      'with --backstop',
  },
  carbon: {
    env: 'SRV_CARBON',
    kind: 'string',
    placeholder: 'URL',
    describe:
      'carbon plaintext receiver: tcp://host:port (one persistent connection) or udp://host:port [default ' +
      'port 2003]',
  },
  'carbon-prefix': {
    env: 'SRV_CARBON_PREFIX',
    kind: 'string',
    placeholder: 'STR',
    describe: 'put in front of every path sent to carbon (Backstop adds its <name>. itself)',
  },
  listen: {
    env: 'SRV_LISTEN',
    kind: 'string',
    placeholder: 'ADDR:PORT',
    describe: 'serve Prometheus GET /metrics and GET /healthz here (127.0.0.1:9417, [::1]:9417, :9417)',
  },
  'prom-labels': {
    env: 'SRV_PROM_LABELS',
    kind: 'list',
    placeholder: 'KEY',
    describe: 'container labels exposed as Prometheus labels label_<key> (repeatable; variable: comma-separated)',
  },
  'tls-cert': {
    env: 'SRV_TLS_CERT',
    kind: 'string',
    placeholder: 'FILE',
    describe: '--listen serves HTTPS with this PEM certificate (with --tls-key); both read again on SIGHUP',
    defaultText: 'HTTP',
  },
  'tls-key': {
    env: 'SRV_TLS_KEY',
    kind: 'string',
    placeholder: 'FILE',
    describe: 'the PEM private key of --tls-cert',
  },
  pushgateway: {
    env: 'SRV_PUSHGATEWAY',
    kind: 'string',
    placeholder: 'URL',
    describe:
      'Prometheus Pushgateway base URL (http/https, credentials in user-info); each tick is pushed under ' +
      'job docker-stats-to-backstop',
  },
  'pushgateway-instance': {
    env: 'SRV_PUSHGATEWAY_INSTANCE',
    kind: 'string',
    placeholder: 'NAME',
    describe: 'the instance grouping label of the pushes',
    defaultText: 'the host name (`--hostname`)',
  },
  docker: {
    env: 'SRV_DOCKER',
    kind: 'string',
    placeholder: 'URL',
    describe: 'Docker Engine: unix:///path, tcp://host:port, http(s)://host:port, ssh://[user@]host[:port]',
    defaultText:
      '`$DOCKER_HOST`, else `/var/run/docker.sock` if it exists, else the rootless `$XDG_RUNTIME_DIR/docker.sock`',
  },
  'ssh-known-hosts': {
    env: 'SRV_SSH_KNOWN_HOSTS',
    kind: 'string',
    placeholder: 'FILE',
    describe: "with --docker ssh://…: the known_hosts file that must list the host's key",
    defaultText: '`~/.ssh/known_hosts`',
  },
  prefix: {
    env: 'SRV_PREFIX',
    kind: 'string',
    placeholder: 'JSON',
    describe: 'rewrite rule {"regexp","into"} or an array of {"regexp","into","category"} (Go regexp syntax)',
  },
  rules: {
    env: 'SRV_RULES',
    kind: 'string',
    placeholder: 'JSON',
    describe: 'array of rules {"regexp","into","category"}; first match wins',
  },
  poll: {
    env: 'SRV_POLL',
    kind: 'string',
    placeholder: 'DURATION',
    describe: 'send interval, 1s to 24h, aligned to the clock (90s, 1m30s, "1 minute")',
    default: '60s',
    bounds: { min: '1s', max: '24h' },
  },
  include: {
    env: 'SRV_INCLUDE',
    kind: 'list',
    placeholder: 'GLOB',
    describe: 'only containers whose name matches (repeatable; variable: comma-separated)',
    defaultText: 'all',
  },
  exclude: {
    env: 'SRV_EXCLUDE',
    kind: 'list',
    placeholder: 'GLOB',
    describe: 'skip containers whose name matches (repeatable; variable: comma-separated)',
  },
  label: {
    env: 'SRV_LABEL',
    kind: 'list',
    placeholder: 'KEY[=VALUE]',
    describe: 'only containers carrying this label (repeatable, all must match; variable: comma-separated)',
  },
  'path-prefix': {
    env: 'SRV_PATH_PREFIX',
    kind: 'string',
    placeholder: 'STR',
    describe: 'prepended to every metric path; {host} is replaced by the host name',
  },
  hostname: {
    env: 'SRV_HOSTNAME',
    kind: 'string',
    placeholder: 'NAME',
    describe: 'the host name the host path and {host} are made of, for a daemon in a container or pod (a node name)',
    defaultText: 'the OS host name',
  },
  metrics: {
    env: 'SRV_METRICS',
    kind: 'string',
    placeholder: 'GROUPS',
    describe:
      'metric groups, comma-separated: cpu,memory,network,blkio,pids,health,pressure (on by default), ' +
      'swarm,disk (off by default); a plain list replaces the default set, +group,-group change it ' +
      '(+swarm,-blkio)',
    defaultText: 'the default set',
  },
  'disk-interval': {
    env: 'SRV_DISK_INTERVAL',
    kind: 'string',
    placeholder: 'DURATION',
    describe: "group disk: measure the containers' sizes at most this often, 1s to 24h (costly for the Engine)",
    default: '10m',
    bounds: { min: '1s', max: '24h' },
  },
  'per-interface': {
    env: 'SRV_PER_INTERFACE',
    kind: 'boolean',
    describe: 'network counters per interface too (network.<interface>.…); --no-per-interface turns it off',
    default: 'on',
  },
  'per-device': {
    env: 'SRV_PER_DEVICE',
    kind: 'boolean',
    describe: 'block I/O per device too (blkio.<major>_<minor>.…)',
    default: 'off',
  },
  mode: {
    env: 'SRV_MODE',
    kind: 'string',
    placeholder: 'MODE',
    describe:
      'stream: one stats stream per container; oneshot: one request per container per tick (Engine API ' +
      "1.41+); cgroup: samples read from the kernel's cgroup and /proc files",
    default: 'stream',
  },
  'host-proc': {
    env: 'SRV_HOST_PROC',
    kind: 'string',
    placeholder: 'DIR',
    describe:
      "the host's /proc (a read-only mount of it when run in a container), for --mode cgroup and the " +
      'kernel counters',
    default: '/proc',
  },
  'cgroup-root': {
    env: 'SRV_CGROUP_ROOT',
    kind: 'string',
    placeholder: 'DIR',
    describe: "the host's cgroup tree, for --mode cgroup and the kernel counters",
    default: '/sys/fs/cgroup',
  },
  concurrency: {
    env: 'SRV_CONCURRENCY',
    kind: 'string',
    placeholder: 'N',
    describe: 'oneshot mode: requests to the Engine at once',
    default: '8',
  },
  'spool-dir': {
    env: 'SRV_SPOOL_DIR',
    kind: 'string',
    placeholder: 'DIR',
    describe: 'keep what a sink cannot deliver on disk here, replayed oldest first (also after a restart)',
    defaultText: 'none (memory only)',
  },
  'spool-max-bytes': {
    env: 'SRV_SPOOL_MAX_BYTES',
    kind: 'string',
    placeholder: 'SIZE',
    describe: 'bound of the spool on disk; beyond it the oldest data goes (512MiB, 2GB, …)',
    default: '1GiB',
  },
  'buffer-max-items': {
    env: 'SRV_BUFFER_MAX_ITEMS',
    kind: 'string',
    placeholder: 'N',
    describe: 'metrics each sink keeps in memory before the spool (or dropping the oldest)',
    default: '200000',
  },
  'buffer-max-bytes': {
    env: 'SRV_BUFFER_MAX_BYTES',
    kind: 'string',
    placeholder: 'SIZE',
    describe: 'the same bound in (estimated) bytes',
    default: '64MiB',
  },
  'stall-timeout': {
    env: 'SRV_STALL_TIMEOUT',
    kind: 'string',
    placeholder: 'DURATION',
    describe: 'reopen a stats stream that sent nothing for this long while its container runs, 2s to 24h',
    default: '30s',
    bounds: { min: '2s', max: '24h' },
  },
  once: {
    env: undefined,
    kind: 'boolean',
    describe: 'collect for one --poll interval, send that batch, exit',
    default: 'off',
  },
  'shutdown-timeout': {
    env: 'SRV_SHUTDOWN_TIMEOUT',
    kind: 'string',
    placeholder: 'DURATION',
    describe: 'how long the final flush may take on stop, 0s to 1h',
    default: '10s',
    bounds: { min: '0s', max: '1h' },
  },
  verbose: { env: 'SRV_VERBOSE', kind: 'boolean', describe: 'debug logging', default: 'off' },
  help: { env: undefined, kind: 'boolean', describe: 'show this help' },
  version: { env: undefined, kind: 'boolean', describe: 'show the version' },
} as const satisfies Readonly<Record<string, OptionRow>>;

/** A flag name of the table, so that config.ts reads options by a checked name. */
export type Flag = keyof typeof OPTION;

/** The table as a list, in the order of --help and of the README's flag table. */
export const OPTIONS: readonly OptionSpec[] = Object.entries(OPTION).map(([flag, row]) => ({ flag, ...row }));

/** The default as --help says it: the value, or the text without Markdown backquotes; undefined: none. */
function defaultShown(o: OptionRow): string | undefined {
  return o.default ?? o.defaultText?.replaceAll('`', '');
}

/** The default cell of the README's flag table: `none` where the option has none (an empty cell for --help). */
export function readmeDefault(o: OptionRow): string {
  if (o.defaultText !== undefined) return o.defaultText;
  if (o.default !== undefined) return o.kind === 'boolean' ? o.default : `\`${o.default}\``;
  return o.kind === 'boolean' ? '' : 'none';
}

/** The README's flag-table row of an option: flag, variable, meaning (help's text), default. */
export function readmeRow(o: OptionSpec): string {
  const flag = `\`--${o.flag}${o.placeholder ? ` ${o.placeholder}` : ''}\``;
  return `| ${flag} | ${o.env ? `\`${o.env}\`` : ''} | ${o.describe} | ${readmeDefault(o)} |`;
}

export interface ParsedArgs {
  /** Option values by flag name, as given on the command line. */
  readonly values: ReadonlyMap<string, string | string[] | boolean>;
  /** Flags the command line used that are not ours, as typed (`--frobnicate`), and stray words. */
  readonly unknown: readonly string[];
}

/**
 * The Go original used the `flag` package, which also accepts one dash (`-poll=60s`): rewrite those
 * to two dashes for our own flags so old unit files keep working.
 */
function goStyleFlags(argv: readonly string[]): string[] {
  const long = new Set(OPTIONS.map((o) => o.flag));
  return argv.map((arg) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/s.exec(arg);
    return m && long.has(m[1]!) ? `-${arg}` : arg;
  });
}

const BY_FLAG: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.flag, o]));

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const parser = yargs(goStyleFlags(argv))
    .help(false)
    .version(false)
    .strict(false)
    .exitProcess(false)
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': true })
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    });
  for (const o of OPTIONS) parser.option(o.flag, { type: o.kind === 'list' ? 'string' : o.kind });
  const raw = parser.parseSync() as Record<string, unknown>;

  const values = new Map<string, string | string[] | boolean>();
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === '_' || key === '$0') continue;
    if (!BY_FLAG.has(key)) {
      unknown.push(key.length === 1 ? `-${key}` : `--${key}`);
      continue;
    }
    if (value === undefined) continue;
    const spec = BY_FLAG.get(key);
    if (spec === undefined) continue;
    if (spec.kind === 'list') values.set(key, (Array.isArray(value) ? value : [value]).map(String));
    else if (spec.kind === 'boolean') values.set(key, Array.isArray(value) ? Boolean(value.at(-1)) : Boolean(value));
    else values.set(key, Array.isArray(value) ? String(value.at(-1)) : String(value));
  }
  for (const word of (raw['_'] as unknown[] | undefined) ?? []) unknown.push(String(word));
  return { values, unknown };
}

export function helpText(version: string): string {
  const lines = [
    `docker-stats-to-backstop ${version}`,
    "Follows every running Docker container's stats stream and posts carbon-style metrics to Backstop.",
    '',
    'Usage: docker-stats-to-backstop [options]',
    '',
    'Options (each also read from its SRV_* variable; a flag beats its variable):',
  ];
  for (const o of OPTIONS) {
    const left = `  --${o.flag}${o.placeholder ? ` ${o.placeholder}` : ''}`;
    const env = o.env ? ` (${o.env})` : '';
    const shown = defaultShown(o);
    lines.push(`${left.padEnd(32)} ${o.describe}${shown === undefined ? '' : ` [default: ${shown}]`}${env}`);
  }
  lines.push(
    '',
    'Example:',
    '  docker-stats-to-backstop --backstop=https://user:pass@backstop.example/publish/docker \\',
    '    --prefix=\'{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}\' --poll=60s',
    '',
  );
  return lines.join('\n');
}

import yargs from 'yargs';

/**
 * The command line: flag names, their `SRV_*` variables and help texts. Parsing only; values are
 * validated by config.ts. A flag beats its variable; an empty variable counts as unset.
 */
export interface OptionSpec {
  readonly flag: string;
  readonly env: string | undefined;
  readonly kind: 'string' | 'list' | 'boolean';
  readonly describe: string;
  readonly placeholder?: string;
}

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'backstop', env: 'SRV_BACKSTOP', kind: 'string', placeholder: 'URL', describe: 'Backstop publish URL (http/https, credentials in user-info). ' +
      'Without any of --backstop, --carbon, --pushgateway, --listen, carbon lines go to stdout' },
  { flag: 'backstop-file', env: 'SRV_BACKSTOP_FILE', kind: 'string', placeholder: 'FILE', describe: 'read the Backstop URL from this file instead (a Docker or Kubernetes secret), again on SIGHUP; ' +
      'not with --backstop' },
  { flag: 'carbon', env: 'SRV_CARBON', kind: 'string', placeholder: 'URL', describe: 'carbon plaintext receiver: tcp://host:port (one persistent connection) or udp://host:port [default port 2003]' },
  { flag: 'carbon-prefix', env: 'SRV_CARBON_PREFIX', kind: 'string', placeholder: 'STR', describe: 'put in front of every path sent to carbon (Backstop adds its <name>. itself)' },
  { flag: 'listen', env: 'SRV_LISTEN', kind: 'string', placeholder: 'ADDR:PORT', describe: 'serve Prometheus GET /metrics and GET /healthz here (127.0.0.1:9417, [::1]:9417, :9417)' },
  { flag: 'prom-labels', env: 'SRV_PROM_LABELS', kind: 'list', placeholder: 'KEY', describe: 'container labels exposed as Prometheus labels label_<key> (repeatable; variable: comma-separated)' },
  { flag: 'tls-cert', env: 'SRV_TLS_CERT', kind: 'string', placeholder: 'FILE', describe: '--listen serves HTTPS with this PEM certificate (with --tls-key); both read again on SIGHUP' },
  { flag: 'tls-key', env: 'SRV_TLS_KEY', kind: 'string', placeholder: 'FILE', describe: 'the PEM private key of --tls-cert' },
  { flag: 'pushgateway', env: 'SRV_PUSHGATEWAY', kind: 'string', placeholder: 'URL', describe: 'Prometheus Pushgateway base URL (http/https, credentials in user-info); ' +
      'each tick is pushed under job docker-stats-to-backstop' },
  { flag: 'pushgateway-instance', env: 'SRV_PUSHGATEWAY_INSTANCE', kind: 'string', placeholder: 'NAME', describe: 'the instance grouping label of the pushes [default: the host name]' },
  { flag: 'docker', env: 'SRV_DOCKER', kind: 'string', placeholder: 'URL', describe: 'Docker Engine: unix:///path, tcp://host:port, http(s)://host:port, ssh://[user@]host[:port] ' +
      '[default: $DOCKER_HOST, else unix:///var/run/docker.sock, else $XDG_RUNTIME_DIR/docker.sock]' },
  { flag: 'ssh-known-hosts', env: 'SRV_SSH_KNOWN_HOSTS', kind: 'string', placeholder: 'FILE', describe: 'with --docker ssh://…: the known_hosts file that must list the host\'s key [default: ~/.ssh/known_hosts]' },
  { flag: 'prefix', env: 'SRV_PREFIX', kind: 'string', placeholder: 'JSON', describe: 'rewrite rule {"regexp","into"} or an array of {"regexp","into","category"} (Go regexp syntax)' },
  { flag: 'rules', env: 'SRV_RULES', kind: 'string', placeholder: 'JSON', describe: 'array of rules {"regexp","into","category"}; first match wins' },
  { flag: 'poll', env: 'SRV_POLL', kind: 'string', placeholder: 'DURATION', describe: 'send interval, 1s to 24h, aligned to the clock (90s, 1m30s, "1 minute") [default: 60s]' },
  { flag: 'include', env: 'SRV_INCLUDE', kind: 'list', placeholder: 'GLOB', describe: 'only containers whose name matches (repeatable; variable: comma-separated)' },
  { flag: 'exclude', env: 'SRV_EXCLUDE', kind: 'list', placeholder: 'GLOB', describe: 'skip containers whose name matches (repeatable; variable: comma-separated)' },
  { flag: 'label', env: 'SRV_LABEL', kind: 'list', placeholder: 'KEY[=VALUE]', describe: 'only containers carrying this label (repeatable, all must match; variable: comma-separated)' },
  { flag: 'path-prefix', env: 'SRV_PATH_PREFIX', kind: 'string', placeholder: 'STR', describe: 'prepended to every metric path; {host} is replaced by the host name' },
  { flag: 'hostname', env: 'SRV_HOSTNAME', kind: 'string', placeholder: 'NAME', describe: 'the host name the host path and {host} are made of, for a daemon in a container or pod (a node name) ' +
      '[default: the OS host name]' },
  { flag: 'metrics', env: 'SRV_METRICS', kind: 'string', placeholder: 'GROUPS', describe: 'metric groups to report, comma-separated: cpu,memory,network,blkio,pids,health [default: all]' },
  { flag: 'per-interface', env: 'SRV_PER_INTERFACE', kind: 'boolean', describe: 'network counters per interface too (network.<interface>.…); --no-per-interface turns it off [default: on]' },
  { flag: 'per-device', env: 'SRV_PER_DEVICE', kind: 'boolean', describe: 'block I/O per device too (blkio.<major>_<minor>.…) [default: off]' },
  { flag: 'mode', env: 'SRV_MODE', kind: 'string', placeholder: 'MODE', describe: 'stream: one stats stream per container; oneshot: one request per container per tick (Engine API 1.41+); ' +
      "cgroup: samples read from the kernel's cgroup and /proc files [default: stream]" },
  { flag: 'host-proc', env: 'SRV_HOST_PROC', kind: 'string', placeholder: 'DIR', describe: '--mode cgroup: the host\'s /proc (a read-only mount of it when run in a container) [default: /proc]' },
  { flag: 'cgroup-root', env: 'SRV_CGROUP_ROOT', kind: 'string', placeholder: 'DIR', describe: '--mode cgroup: the host\'s cgroup tree [default: /sys/fs/cgroup]' },
  { flag: 'concurrency', env: 'SRV_CONCURRENCY', kind: 'string', placeholder: 'N', describe: 'oneshot mode: requests to the Engine at once [default: 8]' },
  { flag: 'spool-dir', env: 'SRV_SPOOL_DIR', kind: 'string', placeholder: 'DIR', describe: 'keep what a sink cannot deliver on disk here, replayed oldest first (also after a restart) ' +
      '[default: memory only]' },
  { flag: 'spool-max-bytes', env: 'SRV_SPOOL_MAX_BYTES', kind: 'string', placeholder: 'SIZE', describe: 'bound of the spool on disk; beyond it the oldest data goes (512MiB, 2GB, …) [default: 1GiB]' },
  { flag: 'buffer-max-items', env: 'SRV_BUFFER_MAX_ITEMS', kind: 'string', placeholder: 'N', describe: 'metrics each sink keeps in memory before the spool (or dropping the oldest) [default: 200000]' },
  { flag: 'buffer-max-bytes', env: 'SRV_BUFFER_MAX_BYTES', kind: 'string', placeholder: 'SIZE', describe: 'the same bound in (estimated) bytes [default: 64MiB]' },
  { flag: 'stall-timeout', env: 'SRV_STALL_TIMEOUT', kind: 'string', placeholder: 'DURATION', describe: 'reopen a stats stream that sent nothing for this long while its container runs, 2s to 24h [default: 30s]' },
  { flag: 'once', env: undefined, kind: 'boolean', describe: 'collect for one --poll interval, send that batch, exit' },
  { flag: 'shutdown-timeout', env: 'SRV_SHUTDOWN_TIMEOUT', kind: 'string', placeholder: 'DURATION', describe: 'how long the final flush may take on stop, 0s to 1h [default: 10s]' },
  { flag: 'verbose', env: 'SRV_VERBOSE', kind: 'boolean', describe: 'debug logging' },
  { flag: 'help', env: undefined, kind: 'boolean', describe: 'show this help' },
  { flag: 'version', env: undefined, kind: 'boolean', describe: 'show the version' },
];

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
  const known = new Set(OPTIONS.map((o) => o.flag));
  for (const [key, value] of Object.entries(raw)) {
    if (key === '_' || key === '$0') continue;
    if (!known.has(key)) {
      unknown.push(key.length === 1 ? `-${key}` : `--${key}`);
      continue;
    }
    if (value === undefined) continue;
    const spec = OPTIONS.find((o) => o.flag === key)!;
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
    'Follows every running Docker container\'s stats stream and posts carbon-style metrics to Backstop.',
    '',
    'Usage: docker-stats-to-backstop [options]',
    '',
    'Options (each also read from its SRV_* variable; a flag beats its variable):',
  ];
  for (const o of OPTIONS) {
    const left = `  --${o.flag}${o.placeholder ? ` ${o.placeholder}` : ''}`;
    const env = o.env ? ` (${o.env})` : '';
    lines.push(`${left.padEnd(32)} ${o.describe}${env}`);
  }
  lines.push('', 'Example:', '  docker-stats-to-backstop --backstop=https://user:pass@backstop.example/publish/docker \\', '    --prefix=\'{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}\' --poll=60s', '');
  return lines.join('\n');
}

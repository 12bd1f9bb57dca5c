#!/usr/bin/env node
// Entry point: the only module that reads process, the environment and signals. The Engine's client
// (dockerode) and the HTTP client (got) are most of a start's module loading: they are loaded once the
// flags are known to be good, so that a bad flag, --help and --version answer in a fraction of the time.
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { systemClock } from './clock.js';
import { helpText } from './cli.js';
import { parseConfig, readBackstopFile, readTlsFiles, type Config, type ConfigIo } from './config.js';
import { nodeConfigIo } from './config/io.js';
import { describeError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { CarbonPaths } from './naming/carbon-path.js';
import { PullRunner, retryPolicyFor, SinkRunner, type TickRunner } from './pipeline/sink-runner.js';
import { Spool } from './pipeline/spool.js';
import { redact } from './redact.js';
import type { BackstopSink } from './sinks/backstop.js';
import { createCarbonSink } from './sinks/carbon.js';
import type { PrometheusExposition } from './sinks/prometheus/exposition.js';
import type { Sink } from './sinks/sink.js';
import { createStdoutSink } from './sinks/stdout.js';

const NAME = 'docker-stats-to-backstop';

/**
 * V8's default old-generation growth lets a daemon that allocates fast over a small live heap grow
 * its RSS far past what it needs; a soft 30 % keeps it close at the same CPU (docs/architecture.md
 * §6). `node --heap-growing-percent=N` wins.
 */
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) {
  setFlagsFromString('--heap-growing-percent=30');
}
/** /healthz turns 503 when a sink has been failing for 3 poll intervals, and at least this long. */
const HEALTH_MIN_FAILING_MS = 10_000;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Pause between two backlog sends, well within what Backstop handles (docs/architecture.md §4). */
const BACKLOG_GAP_MS = 10;

/** The runners, and the sinks whose files SIGHUP reads again. */
interface Built {
  readonly runners: TickRunner[];
  readonly backstop: BackstopSink | undefined;
  readonly exposition: PrometheusExposition | undefined;
}

/**
 * A runner for every sink the configuration names (stdout only when none is), each with its
 * memory bounds, retry pace and, with --spool-dir, a spool folder of its own. The carbon-speaking
 * sinks share one carbon naming (the daemon uses it too, for rule categories and path collisions).
 */
async function buildRunners(
  config: Config,
  tls: { cert: Buffer; key: Buffer } | undefined,
  paths: CarbonPaths,
  logger: Logger,
): Promise<Built> {
  const runners: TickRunner[] = [];
  let backstop: BackstopSink | undefined;
  let exposition: PrometheusExposition | undefined;
  const run = <T>(sink: Sink<T>): void => {
    const spool =
      config.spoolDir && sink.spool
        ? new Spool({
            dir: join(config.spoolDir, sink.spool.key),
            maxBytes: config.spoolMaxBytes,
            logger,
            sink: sink.description,
            codec: sink.spool,
          })
        : undefined;
    runners.push(
      new SinkRunner(sink, {
        maxItems: config.bufferMaxItems,
        maxBytes: config.bufferMaxBytes,
        clock: systemClock,
        logger,
        backlogGapMs: BACKLOG_GAP_MS,
        retry: retryPolicyFor(config.pollMs),
        spool,
      }),
    );
  };
  if (config.backstop) {
    const { createBackstopSink } = await import('./sinks/backstop.js');
    backstop = createBackstopSink({ url: config.backstop, paths, logger });
    run(backstop);
  }
  if (config.carbon)
    run(createCarbonSink({ target: config.carbon, prefix: config.carbonPrefix, paths, clock: systemClock, logger }));
  // The Prometheus sinks load prom-client, resident memory of its own: only when one is configured.
  if (config.pushgateway) {
    const { createPushgatewaySink } = await import('./sinks/pushgateway.js');
    run(
      createPushgatewaySink({
        url: config.pushgateway,
        instance: config.pushgatewayInstance,
        containerLabels: config.promLabels,
        logger,
      }),
    );
  }
  if (config.listen) {
    const { PrometheusExposition } = await import('./sinks/prometheus/exposition.js');
    exposition = new PrometheusExposition({
      listen: config.listen,
      tls,
      containerLabels: config.promLabels,
      failingThresholdMs: Math.max(3 * config.pollMs, HEALTH_MIN_FAILING_MS),
      clock: systemClock,
      logger,
    });
    runners.push(new PullRunner(exposition));
  }
  if (runners.length === 0) run(createStdoutSink(process.stdout, paths));
  return { runners, backstop, exposition };
}

/**
 * SIGHUP: reads the files the daemon was given again (the --backstop-file URL, the --tls-cert and
 * --tls-key pair) and hands what changed to their sinks. A file that is now bad keeps what was in
 * use, with an error line; the daemon goes on either way. The log says what was read, never a secret.
 */
function reload(config: Config, built: Built, io: ConfigIo, logger: Logger): void {
  const file = config.backstopFile;
  const backstop = built.backstop;
  if (file && backstop) {
    const said = { done: 'SIGHUP: read the Backstop URL again', kept: 'SIGHUP: kept the Backstop URL in use' };
    reloadOne(logger, said, { file: file.path }, readBackstopFile(file, io.readFile), ({ url }: { url: URL }) => {
      const changed = backstop.setUrl(url);
      // A sink refused for its old credentials waits out a slow backoff (30 s and more): try the new ones now.
      if (changed) for (const runner of built.runners) runner.retryNow();
      return { credentials: changed ? 'changed' : 'unchanged' };
    });
  }
  const tls = config.tls;
  const exposition = built.exposition;
  if (tls && exposition) {
    const where = { cert: tls.cert.path, key: tls.key.path };
    const said = {
      done: 'SIGHUP: serving the TLS certificate and key again',
      kept: 'SIGHUP: kept the TLS certificate in use',
    };
    reloadOne(logger, said, where, readTlsFiles(tls, io.readBytes), (pems: { cert: Buffer; key: Buffer }) => {
      exposition.setTls(pems);
      return {};
    });
  }
  if (!file && !tls) logger.info('SIGHUP: no --backstop-file or --tls-cert to read again; going on');
}

/** One SIGHUP reload: what was read handed to `apply`, or, when it is bad or refused, the old one kept and said. */
function reloadOne<R extends object>(
  logger: Logger,
  said: { readonly done: string; readonly kept: string },
  where: Record<string, string>,
  read: R | { problems: readonly string[] },
  apply: (read: R) => Record<string, string>,
): void {
  const { kept } = said;
  if ('problems' in read) {
    for (const p of read.problems) logger.error(kept, { problem: p });
    return;
  }
  try {
    logger.info(said.done, { ...where, ...apply(read as R) });
  } catch (err) {
    logger.error(kept, { ...where, problem: describeError(err) });
  }
}

async function main(): Promise<number> {
  const io = nodeConfigIo(process.pid);
  const outcome = parseConfig({
    argv: process.argv.slice(2),
    env: process.env,
    hostname: hostname(),
    homedir: homedir(),
    ...io,
  });
  if (outcome.kind === 'help') {
    process.stdout.write(helpText(packageVersion()));
    return 0;
  }
  if (outcome.kind === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (outcome.kind === 'invalid') {
    for (const p of outcome.problems) process.stderr.write(`${NAME}: ${redact(p)}\n`);
    process.stderr.write(`${NAME}: see --help for every flag and variable\n`);
    return 2;
  }
  const config = outcome.config;
  const tls = config.tls ? readTlsFiles(config.tls, io.readBytes) : undefined;
  if (tls && 'problems' in tls) {
    for (const p of tls.problems) process.stderr.write(`${NAME}: ${p}\n`);
    process.stderr.write(`${NAME}: see --help for every flag and variable\n`);
    return 2;
  }
  const logger = createLogger((line) => process.stderr.write(line), { level: config.verbose ? 'debug' : 'info' });
  // Taken from here on (SIGHUP's default action would end the daemon); one during the start is kept for after it.
  let built: Built | undefined;
  let hupWhileStarting = false;
  process.on('SIGHUP', () => {
    if (built) reload(config, built, io, logger);
    else hupWhileStarting = true;
  });
  // SIGTERM and SIGINT are taken from here on too: a spool's backlog is sent as soon as its sink is
  // built, before the Engine's client is loaded, and a stop then must flush it like any other stop.
  // The first signal stops gracefully (at once if the daemon is not running yet); a second exits now.
  let stopping: NodeJS.Signals | undefined;
  let stopRunning: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // What waits in memory goes to the spool first (synchronously), so the exit loses only what has no spool.
      for (const runner of built?.runners ?? []) {
        try {
          runner.spillToSpool();
        } catch (err) {
          const error = describeError(err);
          const sink = runner.description;
          logger.error('second signal: could not write the memory queue to the spool', { sink, error });
        }
      }
      logger.warn('second signal: exiting without waiting for the flush', { signal });
      process.exit(1);
    }
    stopping = signal;
    logger.info('stopping', { signal });
    stopRunning?.();
  };
  if (!config.once) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  // For ssh:// docker-modem formats each request's URL as `ssh:host:port…` and url.parse()s it,
  // which makes Node print a DEP0170 warning on the first request; the URL only carries the path
  // (the SSH connection is made from the target's host and port). Not a warning for the operator.
  if (config.docker.kind === 'ssh') process.noDeprecation = true;
  const paths = new CarbonPaths({ rules: config.rules, pathPrefix: config.pathPrefix, hostPath: config.hostPath });
  built = await buildRunners(config, tls, paths, logger);
  if (hupWhileStarting) reload(config, built, io, logger);
  const { runners } = built;
  const [{ Daemon }, { EngineClient }] = await Promise.all([import('./daemon.js'), import('./docker/engine.js')]);
  if (stopping) {
    // Stopped before following Docker: what the sinks hold (a spool's backlog) is flushed, then the exit.
    const left = await Promise.all(runners.map((r) => r.flush(config.shutdownTimeoutMs)));
    await Promise.all(runners.map((r) => r.close()));
    const undelivered = left.reduce((a, b) => a + b, 0);
    logger.info('stopped before the start was done', { undelivered });
    return 0;
  }
  const daemon = new Daemon({
    config,
    engine: new EngineClient(config.docker),
    runners,
    paths,
    clock: systemClock,
    logger,
  });

  if (config.once) {
    const undelivered = await Promise.race([
      daemon.runSingleInterval(),
      daemon.failed.then(() => Number.POSITIVE_INFINITY),
    ]);
    return undelivered > 0 ? 1 : 0;
  }

  return new Promise<number>((resolve) => {
    stopRunning = () => void daemon.stop().then(() => resolve(0));
    void daemon.failed.then(async () => {
      await daemon.stop();
      resolve(1);
    });
    daemon.start();
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Open sockets (a half-closed Docker stream, a keep-alive agent) must not hold the exit.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `${NAME}: fatal: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`,
    );
    process.exit(1);
  },
);

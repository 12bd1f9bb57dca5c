#!/usr/bin/env node
// Entry point: the only module that reads process, the environment and signals.
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { systemClock } from './clock.js';
import { helpText } from './cli.js';
import { parseConfig } from './config.js';
import { Daemon } from './daemon.js';
import { connectDocker } from './docker/engine.js';
import { createLogger } from './log.js';
import { redact } from './redact.js';
import { createBackstopSink } from './sinks/backstop.js';
import type { Sink } from './sinks/sink.js';
import { createStdoutSink } from './sinks/stdout.js';

const NAME = 'docker-stats-to-backstop';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(): Promise<number> {
  const outcome = parseConfig({ argv: process.argv.slice(2), env: process.env, hostname: hostname(), homedir: homedir() });
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
  const logger = createLogger((line) => process.stderr.write(line), { level: config.verbose ? 'debug' : 'info' });
  const sinks: Sink[] = config.backstop
    ? [createBackstopSink({ url: config.backstop, logger })]
    : [createStdoutSink(process.stdout)];
  const daemon = new Daemon({ config, docker: connectDocker(config.docker), sinks, clock: systemClock, logger });

  if (config.once) {
    const undelivered = await Promise.race([daemon.runOnce(), daemon.failed.then(() => Number.POSITIVE_INFINITY)]);
    return undelivered > 0 ? 1 : 0;
  }

  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn('second signal: exiting without waiting for the flush', { signal });
        process.exit(1);
      }
      signalled = true;
      logger.info('stopping', { signal });
      void daemon.stop().then(() => resolve(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
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
    process.stderr.write(`${NAME}: fatal: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exit(1);
  },
);

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPTIONS } from '../../src/cli.js';
import { parseConfig, type Config } from '../../src/config.js';

/**
 * For the tests of the deployment files (deploy/): what they hand the daemon is checked by the
 * daemon's own parseConfig.
 */

/** A file of the repository, as text. */
export const readRepoFile = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** An obviously fake Backstop URL standing in for a secret. */
export const SECRET_URL = 'https://ops:fake-password@backstop.example/publish/docker';

/** The uid the Dockerfile's USER line runs the daemon as. */
export const IMAGE_UID = Number(/^USER (\d+):\d+$/m.exec(readRepoFile('Dockerfile'))?.[1]);

/** Parsed YAML, walked by key: the assertions check the shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests walk any manifest by key; a typed walk would cast at every step.
export type Yaml = Record<string, any>;

const KNOWN_VARIABLES = new Set(OPTIONS.flatMap((o) => (o.env ? [o.env] : [])));

/**
 * The daemon's configuration from a deployment's arguments and environment, or a failed assertion
 * with every problem. `files` stands in for files the deployment mounts (a secret).
 */
export function configOf(argv: string[], env: Record<string, string>, files: Record<string, string> = {}): Config {
  const out = parseConfig({
    argv,
    env,
    hostname: 'the-pod-or-container',
    homedir: '/nonexistent',
    exists: () => true,
    readFile: (path) => {
      if (files[path] === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return files[path];
    },
  });
  if (out.kind !== 'config') assert.fail(`the daemon refuses what the deployment gives it: ${JSON.stringify(out)}`);
  return out.config;
}

/** The daemon ignores SRV_* variables it does not know, so a misspelt one would pass parseConfig. */
export function assertKnownVariables(env: Record<string, unknown>): void {
  for (const name of Object.keys(env))
    assert.ok(!name.startsWith('SRV_') || KNOWN_VARIABLES.has(name), `${name} is not a variable of the daemon`);
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import Docker from 'dockerode';

// src/docker/engine.ts leans on private parts of dockerode and docker-modem (see leanContainer and
// withSignal there): these tests fail when an upgrade changes them, so an upgrade is a conscious act.

const require = createRequire(import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  overrides?: Record<string, string>;
};

function installedVersion(name: string): string {
  const path = require.resolve(`${name}/package.json`, { paths: [require.resolve('dockerode')] });
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

describe('the dependencies engine.ts patches', () => {
  it('are pinned to one exact version, the one installed', () => {
    const pins = {
      dockerode: manifest.dependencies['dockerode'],
      'docker-modem': manifest.overrides?.['docker-modem'],
    };
    for (const [name, pin] of Object.entries(pins)) {
      assert.match(pin ?? '', /^\d+\.\d+\.\d+$/, `${name} must be pinned to an exact version in package.json`);
      assert.equal(installedVersion(name), pin, `the installed ${name} is not the pinned one`);
    }
  });

  it('dockerode: a Container handle holds per-method empty defaults that its calls only copy', () => {
    const container = new Docker({ socketPath: '/nonexistent.sock' }).getContainer('x') as unknown as {
      defaultOptions?: Record<string, unknown>;
    };
    const defaults = container.defaultOptions;
    assert.ok(defaults && typeof defaults === 'object', 'Container#defaultOptions is gone');
    for (const [method, value] of Object.entries(defaults)) {
      assert.deepEqual(value, {}, `Container#defaultOptions.${method} is no longer an empty object`);
    }
    // The calls the daemon makes through a lean handle read their defaults, and only copy them.
    const source = Function.prototype.toString.call(Docker.Container.prototype.stats);
    assert.match(source, /processArgs\(opts, callback, this\.defaultOptions\.stats\)/);
    const processArgs = (require('dockerode/lib/util.js') as { processArgs: (...a: unknown[]) => { opts: object } })
      .processArgs;
    const frozen = Object.freeze({});
    const args = processArgs({ stream: true }, undefined, frozen);
    assert.notEqual(args.opts, frozen);
    assert.deepEqual(args.opts, { stream: true });
  });

  it('docker-modem: dial() takes the abort signal out of the options it is given', () => {
    const modem = require.resolve('docker-modem/lib/modem.js', { paths: [require.resolve('dockerode')] });
    const source = readFileSync(modem, 'utf8');
    assert.match(source, /delete opts\.abortSignal/);
  });
});

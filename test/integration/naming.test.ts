import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runBinary } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';

/**
 * Rewrite rules on the built daemon against the real Engine. Container names are chosen by anyone
 * allowed to `docker run --name`, so a rule must take linear time on any name: this rule's nested
 * quantifier and this name's long run of [a-z0-9] before a character that makes the match fail
 * kept a backtracking engine (the JavaScript RegExp the rules were once translated to) busy until
 * the test killed the daemon at the bound. With RE2 (re2js) the one tick takes a few seconds at
 * most, names rewritten as Go would; the bound is generous.
 */
const HOSTILE_RULE = '{"regexp":"^([a-z0-9]+-?)+\\\\.(.*)$","into":"$2"}';
const BOUND_MS = 30_000;

describe('naming rules on the real Engine', () => {
  const containers = new TestContainers();
  const hostile = containers.name(`${'a'.repeat(32)}_`);
  const matching = containers.name(`web.${containers.run}-api`);

  before(async () => {
    await containers.start(hostile);
    await containers.start(matching);
  });

  after(() => containers.cleanup());

  it(`--once with a nested-quantifier rule and a hostile name exits 0 within ${BOUND_MS / 1000} s`, async () => {
    const args = [
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      containers.label,
      '--once',
      '--poll',
      '2s',
      '--prefix',
      HOSTILE_RULE,
    ];
    const started = performance.now();
    const { code, stdout, stderr } = await runBinary(args, {}, BOUND_MS);
    const tookMs = Math.round(performance.now() - started);
    assert.equal(code, 0, `exit ${code} after ${tookMs} ms (killed at ${BOUND_MS} ms); stderr:\n${stderr}`);
    const paths = new Set(
      stdout
        .trim()
        .split('\n')
        .map((line) => line.split('.cpu.total ')[0]),
    );
    // The hostile name has no dot: the rule does not match and the name is kept as it is.
    assert.ok(paths.has(hostile), `no cpu.total for ${hostile} in:\n${stdout}`);
    // The other matches: Go's ReplaceAllString with "$2" keeps what follows the dot.
    assert.ok(paths.has(`${containers.run}-api`), `no cpu.total for the rewritten ${matching} in:\n${stdout}`);
  });
});

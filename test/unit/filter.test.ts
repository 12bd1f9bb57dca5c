import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlob, engineLabelFilter, passesFilter } from '../../src/docker/filter.js';

describe('container filter', () => {
  const filter = {
    include: [compileGlob('web-*'), compileGlob('db?')],
    exclude: [compileGlob('*-canary')],
    labels: [
      { key: 'team', value: 'ops' },
      { key: 'monitored', value: undefined },
    ],
  };
  const ok = { team: 'ops', monitored: '' };

  it('applies include, exclude and labels together', () => {
    assert.equal(passesFilter(filter, '/web-1', ok), true);
    assert.equal(passesFilter(filter, 'db1', ok), true);
    assert.equal(passesFilter(filter, 'db12', ok), false);
    assert.equal(passesFilter(filter, 'web-1-canary', ok), false);
    assert.equal(passesFilter(filter, 'api', ok), false);
    assert.equal(passesFilter(filter, 'web-1', { team: 'dev', monitored: '' }), false);
    assert.equal(passesFilter(filter, 'web-1', { team: 'ops' }), false);
  });

  it('passes everything when empty', () => {
    assert.equal(passesFilter({ include: [], exclude: [], labels: [] }, 'anything', {}), true);
  });

  it('treats glob metacharacters of regexps literally and supports classes', () => {
    assert.equal(compileGlob('a.b').test('a.b'), true);
    assert.equal(compileGlob('a.b').test('axb'), false);
    assert.equal(compileGlob('app[12]').test('app2'), true);
    assert.equal(compileGlob('app[!12]').test('app2'), false);
    assert.throws(() => compileGlob('app[12'), /unclosed/);
  });

  it('gives the Engine the same label selectors', () => {
    assert.deepEqual(engineLabelFilter(filter), ['team=ops', 'monitored']);
  });
});

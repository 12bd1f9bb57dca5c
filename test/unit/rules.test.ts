import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerPath, parseRules, RulesError } from '../../src/naming/rules.js';

describe('container path rules (docs/architecture.md §3)', () => {
  const cases: { rules: string | null; name: string; path: string; category?: string }[] = [
    // The original's own tests.
    { rules: '{"regexp":"(.*)\\\\..*","into":"prefix.$1"}', name: '/name.bla', path: 'prefix.name' },
    {
      rules: '{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}',
      name: '/pid.bla.name.service',
      path: 'pid.name',
    },
    { rules: null, name: '/name.bla', path: 'name.bla' },
    // Not matched: left as it is.
    {
      rules: '{"regexp":"(.*)\\\\..*\\\\.(.*)\\\\..*","into":"$1.$2"}',
      name: '/my.container.name',
      path: 'my.container.name',
    },
    // Named groups, Go style, and ${n} glue.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Go-style template, expanded by the daemon.
    { rules: '{"regexp":"^(?P<app>[a-z]+)-(?P<n>\\\\d+)$","into":"${app}.i${n}x"}', name: '/web-3', path: 'web.i3x' },
    // First matching rule wins and gives its category.
    {
      rules:
        '[{"regexp":"^db-","into":"","category":"database"},{"regexp":"^(.*)$","into":"other.$1","category":"misc"}]',
      name: '/db-main',
      path: 'db-main',
      category: 'database',
    },
    {
      rules: '[{"regexp":"^db-","category":"database"},{"regexp":"^(.*)$","into":"other.$1","category":"misc"}]',
      name: 'web',
      path: 'other.web',
      category: 'misc',
    },
    // A rewrite that produces unsafe characters or empty segments is sanitised.
    { rules: '{"regexp":"(.*)","into":"a b..$1"}', name: '/x', path: 'a_b.x' },
    // A name that sanitises to nothing falls back to the short id.
    { rules: '{"regexp":".*","into":"..."}', name: '/x', path: '0123456789ab' },
  ];
  for (const c of cases) {
    it(`${c.rules ?? 'no rule'}: ${c.name} → ${c.path}`, () => {
      const rules = c.rules === null ? [] : parseRules(c.rules);
      assert.deepEqual(containerPath(rules, c.name, '0123456789ab'), { path: c.path, category: c.category });
    });
  }

  it('rejects rules that are not objects with a regexp', () => {
    assert.throws(() => parseRules('"x"'), /must be an object/);
    assert.throws(() => parseRules('[{"regexp":""}]'), /rule 1 needs a non-empty string "regexp"/);
    assert.throws(() => parseRules('{"regexp":"a","into":3}'), /"into" must be a string/);
    assert.throws(() => parseRules('{"regexp":"a(","into":"b"}'), /regexp "a\(" is invalid/);
  });

  it("says which rule is invalid, in Go's words, with a hint for what RE2 never supports", () => {
    assert.throws(() => parseRules('[{"regexp":"a"},{"regexp":"(?=a)b","into":"x"}]'), {
      name: 'RulesError',
      message:
        'rule 2: regexp "(?=a)b" is invalid: invalid or unsupported Perl syntax: `(?=` ' +
        '(RE2 (Go regexps) has no lookahead)',
    });
    assert.throws(
      () => parseRules('{"regexp":"(a)-\\\\1"}'),
      /^RulesError: the rule: regexp "\(a\)-\\\\1" is invalid: .*has no backreferences/,
    );
  });

  it('names every bad rule of an array at once', () => {
    assert.throws(
      () => parseRules('[{"regexp":"("},{"regexp":"ok"},{"into":"x"},7]'),
      (err: unknown) => {
        assert.ok(err instanceof RulesError);
        assert.equal(err.problems.length, 3);
        assert.match(err.problems[0]!, /^rule 1: regexp "\(" is invalid/);
        assert.match(err.problems[1]!, /^rule 3 needs a non-empty string "regexp"/);
        assert.match(err.problems[2]!, /^rule 4 must be an object/);
        return true;
      },
    );
  });

  it('rewrites as Go does where a JavaScript RegExp did not: (?i) mid-pattern, repeated groups', () => {
    assert.equal(containerPath(parseRules('{"regexp":"^web(?i)-PROD","into":"w"}'), '/web-prod', 'id').path, 'w');
    assert.equal(
      containerPath(parseRules('{"regexp":"^web(?i)-PROD","into":"w"}'), '/WEB-prod', 'id').path,
      'WEB-prod',
    );
    assert.equal(containerPath(parseRules('{"regexp":"^(?:(a)|b)+$","into":"x$1"}'), '/ab', 'id').path, 'xa');
  });
});

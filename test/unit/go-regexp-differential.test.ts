import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compileGoRegexp, type GoRegexp, goMatch, goReplaceAll, GoRegexpError } from '../../src/naming/go-regexp.js';

/**
 * Go itself is the reference: test/fixtures/go-regexp-cases.json holds what Go's regexp package
 * answered (regexp.Compile's error, or MatchString and ReplaceAllString) for hand-picked and
 * random (pattern, name, template) cases, written by scripts/go-regexp-cases/main.go (see there to
 * regenerate; CI has no Go and only reads the file). Every case is checked here, in batches so
 * the output stays readable; a failure lists each case that differs.
 */
interface GoCase {
  readonly p: string;
  readonly n?: string;
  readonly t?: string;
  readonly out?: string;
  readonly match?: boolean;
  readonly err?: string;
}

const file = JSON.parse(readFileSync(new URL('../fixtures/go-regexp-cases.json', import.meta.url), 'utf8')) as {
  go: string;
  cases: GoCase[];
};
const BATCH = 250;

/** What differs from Go for one case, or undefined. */
function difference(c: GoCase): string | undefined {
  let re: GoRegexp;
  try {
    re = compileGoRegexp(c.p);
  } catch (err) {
    if (!(err instanceof GoRegexpError)) return `threw ${String(err)}`;
    return c.err === undefined ? `refused (${err.message}); Go compiles it` : undefined;
  }
  if (c.err !== undefined) return `compiled; Go refuses it: ${c.err}`;
  const name = c.n ?? '';
  const template = c.t ?? '';
  const problems: string[] = [];
  const match = goMatch(re, name);
  if (match !== c.match) problems.push(`match ${match}, Go ${c.match}`);
  const out = goReplaceAll(re, name, template);
  if (out !== c.out) problems.push(`replaced ${JSON.stringify(out)}, Go ${JSON.stringify(c.out)}`);
  return problems.length === 0 ? undefined : problems.join('; ');
}

test(`the fixture holds a few thousand cases recorded by Go (${file.go})`, () => {
  assert.ok(file.cases.length >= 2000, `${file.cases.length} cases`);
  assert.ok(file.cases.some((c) => c.err !== undefined));
  assert.ok(file.cases.filter((c) => c.match === true).length >= 500);
});

for (let from = 0; from < file.cases.length; from += BATCH) {
  const batch = file.cases.slice(from, from + BATCH);
  test(`Go's answers, cases ${from}-${from + batch.length - 1}`, () => {
    const failures: string[] = [];
    batch.forEach((c, k) => {
      const diff = difference(c);
      if (diff !== undefined) {
        const shown = `pattern ${JSON.stringify(c.p)} name ${JSON.stringify(c.n ?? '')}`;
        failures.push(`case ${from + k}: ${shown} template ${JSON.stringify(c.t ?? '')}: ${diff}`);
      }
    });
    assert.equal(failures.length, 0, `${failures.length} of ${batch.length} differ from Go:\n${failures.join('\n')}`);
  });
}

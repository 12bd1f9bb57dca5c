// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go's ${1} and ${name} templates are the data under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RE2JS } from 're2js';
import { compileGoRegexp, goMatch, goReplaceAll, GoRegexpError } from '../../src/naming/go-regexp.js';

type Replace = readonly [pattern: string, template: string, input: string, output: string];

function checkReplace(rows: readonly Replace[], label: string): void {
  for (const [pattern, template, input, output] of rows) {
    const name = `${label}: ${JSON.stringify(pattern)} / ${JSON.stringify(template)} on ${JSON.stringify(input)}`;
    test(name, () => {
      assert.equal(goReplaceAll(compileGoRegexp(pattern), input, template), output);
    });
  }
}

// The original Go daemon's own cases (docs/architecture.md §3).
checkReplace(
  [
    ['(.*)\\..*', 'prefix.$1', 'name.bla', 'prefix.name'],
    ['(.*)\\..*\\.(.*)\\..*', '$1.$2', 'pid.bla.name.service', 'pid.name'],
  ],
  'original daemon',
);

test('original daemon: a name with only two dots is not matched and stays as it is', () => {
  const re = compileGoRegexp('(.*)\\..*\\.(.*)\\..*');
  assert.equal(goMatch(re, 'my.container.name'), false);
  assert.equal(goReplaceAll(re, 'my.container.name', '$1.$2'), 'my.container.name');
});

// Go's replaceTests, verbatim: src/regexp/all_test.go (TestReplaceAll).
checkReplace(
  [
    ['', '', '', ''],
    ['', 'x', '', 'x'],
    ['', '', 'abc', 'abc'],
    ['', 'x', 'abc', 'xaxbxcx'],
    ['b', '', '', ''],
    ['b', 'x', '', ''],
    ['b', '', 'abc', 'ac'],
    ['b', 'x', 'abc', 'axc'],
    ['y', '', '', ''],
    ['y', 'x', '', ''],
    ['y', '', 'abc', 'abc'],
    ['y', 'x', 'abc', 'abc'],
    ['[a-c]*', 'x', '\u65e5', 'x\u65e5x'],
    ['[^\u65e5]', 'x', 'abc\u65e5def', 'xxx\u65e5xxx'],
    ['^[a-c]*', 'x', 'abcdabc', 'xdabc'],
    ['[a-c]*$', 'x', 'abcdabc', 'abcdx'],
    ['^[a-c]*$', 'x', 'abcdabc', 'abcdabc'],
    ['^[a-c]*', 'x', 'abc', 'x'],
    ['[a-c]*$', 'x', 'abc', 'x'],
    ['^[a-c]*$', 'x', 'abc', 'x'],
    ['^[a-c]*', 'x', 'dabce', 'xdabce'],
    ['[a-c]*$', 'x', 'dabce', 'dabcex'],
    ['^[a-c]*$', 'x', 'dabce', 'dabce'],
    ['^[a-c]*', 'x', '', 'x'],
    ['[a-c]*$', 'x', '', 'x'],
    ['^[a-c]*$', 'x', '', 'x'],
    ['^[a-c]+', 'x', 'abcdabc', 'xdabc'],
    ['[a-c]+$', 'x', 'abcdabc', 'abcdx'],
    ['^[a-c]+$', 'x', 'abcdabc', 'abcdabc'],
    ['^[a-c]+', 'x', 'abc', 'x'],
    ['[a-c]+$', 'x', 'abc', 'x'],
    ['^[a-c]+$', 'x', 'abc', 'x'],
    ['^[a-c]+', 'x', 'dabce', 'dabce'],
    ['[a-c]+$', 'x', 'dabce', 'dabce'],
    ['^[a-c]+$', 'x', 'dabce', 'dabce'],
    ['^[a-c]+', 'x', '', ''],
    ['[a-c]+$', 'x', '', ''],
    ['^[a-c]+$', 'x', '', ''],
    ['abc', 'def', 'abcdefg', 'defdefg'],
    ['bc', 'BC', 'abcbcdcdedef', 'aBCBCdcdedef'],
    ['abc', '', 'abcdabc', 'd'],
    ['x', 'xXx', 'xxxXxxx', 'xXxxXxxXxXxXxxXxxXx'],
    ['abc', 'd', '', ''],
    ['abc', 'd', 'abc', 'd'],
    ['.+', 'x', 'abc', 'x'],
    ['[a-c]*', 'x', 'def', 'xdxexfx'],
    ['[a-c]+', 'x', 'abcbcdcdedef', 'xdxdedef'],
    ['[a-c]*', 'x', 'abcbcdcdedef', 'xdxdxexdxexfx'],
    ['a+', '($0)', 'banana', 'b(a)n(a)n(a)'],
    ['a+', '(${0})', 'banana', 'b(a)n(a)n(a)'],
    ['a+', '(${0})$0', 'banana', 'b(a)an(a)an(a)a'],
    ['hello, (.+)', 'goodbye, ${1}', 'hello, world', 'goodbye, world'],
    ['hello, (.+)', 'goodbye, $1x', 'hello, world', 'goodbye, '],
    ['hello, (.+)', 'goodbye, ${1}x', 'hello, world', 'goodbye, worldx'],
    ['hello, (.+)', '<$0><$1><$2><$3>', 'hello, world', '<hello, world><world><><>'],
    ['hello, (?P<noun>.+)', 'goodbye, $noun!', 'hello, world', 'goodbye, world!'],
    ['hello, (?P<noun>.+)', 'goodbye, ${noun}', 'hello, world', 'goodbye, world'],
    ['(?P<x>hi)|(?P<x>bye)', '$x$x$x', 'hi', 'hihihi'],
    ['(?P<x>hi)|(?P<x>bye)', '$x$x$x', 'bye', 'byebyebye'],
    ['(?P<x>hi)|(?P<x>bye)', '$xyz', 'hi', ''],
    ['(?P<x>hi)|(?P<x>bye)', '${x}yz', 'hi', 'hiyz'],
    ['(?P<x>hi)|(?P<x>bye)', 'hello $$x', 'hi', 'hello $x'],
    ['a+', '${oops', 'aaa', '${oops'],
    ['a+', '$$', 'aaa', '$'],
    ['a+', '$', 'aaa', '$'],
    ['(x)?', '$1', '123', '123'],
    ['abc', '$1', '123', '123'],
    ['(a)(b){0}(c)', '.$1|$3.', 'xacxacx', 'x.a|c.x.a|c.x'],
    ['(a)(((b))){0}c', '.$1.', 'xacxacx', 'x.a.x.a.x'],
    ['((a(b){0}){3}){5}(h)', 'y caramb$2', 'say aaaaaaaaaaaaaaaah', 'say ay caramba'],
    ['((a(b){0}){3}){5}h', 'y caramb$2', 'say aaaaaaaaaaaaaaaah', 'say ay caramba'],
  ],
  'Go replaceTests',
);

// Go's ExampleRegexp_ReplaceAllString (src/regexp/example_test.go): "$1W" is the group named
// "1W", so it is empty unless such a group exists.
checkReplace(
  [
    ['a(x*)b', 'T', '-ab-axxb-', '-T-T-'],
    ['a(x*)b', '$1', '-ab-axxb-', '--xx-'],
    ['a(x*)b', '$1W', '-ab-axxb-', '---'],
    ['a(x*)b', '${1}W', '-ab-axxb-', '-W-xxW-'],
    ['a(?P<1W>x*)b', '$1W', '-ab-axxb-', '--xx-'],
    ['a(?P<1W>x*)b', '${1}W', '-ab-axxb-', '-W-xxW-'],
  ],
  'Go ExampleRegexp_ReplaceAllString',
);

// Every match is replaced, and Go's empty-match rule (regexp.go replaceAll: "no replacement for
// an empty match right after the previous match"; advance one code point after an empty match).
// `.*` on "abc": match [0,3] → "x"; the empty match at 3 abuts it and is dropped. Same shape as
// Go's {"[a-c]*$", "x", "abc", "x"}. `a*` on "baaac": empty at 0 → "-", "aaa" → "-", empty at 4
// dropped, empty at 5 → "-". Same shape as Go's {"[a-c]*", "x", "abcbcdcdedef", "xdxdxexdxexfx"}.
checkReplace(
  [
    ['a', 'b', 'banana', 'bbnbnb'],
    ['.*', 'x', 'abc', 'x'],
    ['a*', '-', 'baaac', '-b-c-'],
    ['x*', '-', '\u{1f600}', '-\u{1f600}-'],
    ['.', 'x', '\u{1f600}a', 'xx'],
  ],
  'replace all',
);

test("replace all: re2js's own replaceAll follows Java's rules, so the loop and templates are ours", () => {
  const javaStyle = (pattern: string, input: string, template: string): string =>
    RE2JS.compile(pattern).matcher(input).replaceAll(template);
  // Java: "$1x" is group 1 then "x"; Go: the group named "1x".
  assert.equal(javaStyle('(a)', 'a', '$1x'), 'ax');
  assert.equal(goReplaceAll(compileGoRegexp('(a)'), 'a', '$1x'), '');
  // Java replaces the empty match right after a match; Go does not.
  assert.equal(javaStyle('a*', 'baaac', '-'), '-b--c-');
  assert.equal(goReplaceAll(compileGoRegexp('a*'), 'baaac', '-'), '-b-c-');
});

// Regexp.Expand's template rules (go doc regexp.Expand): longest name, ${name}, $$, numbers
// without leading zeros, missing or unmatched groups empty, a malformed $ kept literally.
checkReplace(
  [
    ['(\\w+)\\.(\\w+)', '$1.$2', 'web.prod', 'web.prod'],
    ['(\\w+)\\.(\\w+)', '$2-$1', 'web.prod', 'prod-web'],
    ['(?P<name>\\w+)', '<$name>', 'a b', '<a> <b>'],
    ['(?P<name>\\w+)', '<${name}>', 'a b', '<a> <b>'],
    ['(?<name>\\w+)', '${name}_$1', 'ab', 'ab_ab'], // (?<name>…): Go 1.22 on, and re2js
    ['(a)', '$1x', 'a', ''],
    ['(a)', '${1}x', 'a', 'ax'],
    ['(a)', '$$1', 'a', '$1'],
    ['(a)', '$01', 'a', ''], // leading zero: the group *named* "01"
    ['(a)', '$9', 'a', ''], // out of range
    ['(a)|(b)', '[$2]', 'a', '[]'], // unmatched
    ['(a)', '$nope', 'a', ''],
    ['(a)', '$.', 'a', '$.'],
    ['(a)', '${1', 'a', '${1'],
    ['(a)', '${}', 'a', '${}'],
    ['(a)', 'x$', 'a', 'x$'],
    ['(a)', '${1}${1}', 'a', 'aa'],
    ['(a)', '$0$0', 'a', 'aa'],
  ],
  'expand',
);

// Go's Expand with a name used twice: the first group of that name that took part in the match
// (re2js refuses such names; compileGoRegexp compiles without them and keeps them itself).
checkReplace(
  [
    ['(?P<x>a)(?P<x>b)', '[$x|${x}|$1|$2]', 'ab', '[a|a|a|b]'],
    ['(?P<x>a)?(?P<x>b)', '[$x]', 'b', '[b]'],
    ['(?<x>a)(?P<x>b)', '[$x]', 'ab', '[a]'],
    ['(?P<x>a)(?:(?P<y>b)|(?P<x>c))(?P<y>d)', '[$x|$y]', 'acd abd', '[a|d] [a|b]'],
    // Group syntax inside a class or \Q…\E is text, not a group.
    ['[(?P<x>)](?P<x>a)(?P<x>b)', '[$x|$1|$2]', '(ab', '[a|a|b]'],
    ['\\Q(?P<x>\\E(?P<x>a)(?P<x>b)', '[$x|$1|$2]', '(?P<x>ab', '[a|a|b]'],
    ['[]](?P<x>a)|[^]](?P<x>b)', '[$x]', ']a.b', '[a][b]'],
    ['[[:alpha:]](?P<x>a)(?P<x>b)', '[$x]', 'zab', '[a]'],
  ],
  'duplicate names',
);

// Where the JavaScript translation this module replaced went wrong.
checkReplace(
  [
    // A repeated group keeps the last value it took (JS reset it on each iteration).
    ['(?:(a)|b)+', '[$1]', 'ab', '[a]'],
    ['(?:(a)|(b))+', '[$1|$2]', 'abab', '[a|b]'],
    // (?i) anywhere, for the rest of its group.
    ['a(?i)b', '<$0>', 'aB AB', '<aB> AB'],
    ['(?i)a(?-i)b', '<$0>', 'Ab AB', '<Ab> AB'],
    ['x(?i:k)y', '<$0>', 'x\u212ay xKY', '<x\u212ay> xKY'],
  ],
  'RE2 semantics',
);

test('a nested quantifier on a hostile name takes linear time (a JS RegExp backtracked for hours)', () => {
  const re = compileGoRegexp('^([a-z0-9]+-?)+\\.(.*)$');
  for (const n of [32, 320, 3200]) {
    const name = `t1a2b3c4d-${'a'.repeat(n)}_`;
    assert.equal(goMatch(re, name), false);
    assert.equal(goReplaceAll(re, name, '$2'), name);
  }
  assert.equal(goReplaceAll(re, 't1-web.t1-api', '$2'), 't1-api');
});

test('one compiled regexp serves many names and calls', () => {
  const re = compileGoRegexp('(?P<app>[a-z]+)-(\\d+)');
  assert.equal(goMatch(re, 'web-1'), true);
  assert.equal(goReplaceAll(re, 'web-1 db-2', '${2}$app'), '1web 2db');
  assert.equal(goMatch(re, 'nope'), false);
  assert.equal(goReplaceAll(re, 'api-3', '$app'), 'api');
  assert.deepEqual(re.names, ['', 'app', '']);
});

type MatchRow = readonly [pattern: string, input: string, matches: boolean];
function checkMatch(rows: readonly MatchRow[], label: string): void {
  for (const [pattern, input, matches] of rows) {
    const verb = matches ? 'matches' : 'does not match';
    const name = `${label}: ${JSON.stringify(pattern)} ${verb} ${JSON.stringify(input)}`;
    test(name, () => {
      assert.equal(goMatch(compileGoRegexp(pattern), input), matches);
    });
  }
}

// Flags (go doc regexp/syntax: i, m, s, U) and Go's `.`, `\s`, `^`, `$`, `\A`, `\z`.
checkMatch(
  [
    ['(?i)abc', 'xABCx', true],
    ['abc', 'ABC', false],
    ['a(?i)b', 'aB', true],
    ['a(?i)b', 'AB', false],
    ['(?i:a)b', 'AB', false],
    ['(?i)k', '\u212a', true], // Kelvin sign, folded as Go folds
    ['(?i)[[:lower:]]+$', 'ABC', true],
    ['(?i)^[[:^lower:]]$', 'A', false], // Go folds, then negates
    ['(?i)^[[:^lower:]]$', '1', true],
    ['(?is)^a.b$', 'A\nB', true],
    ['a.b', 'a\nb', false],
    ['(?s)a.b', 'a\nb', true],
    ['a(?s:.)b', 'a\nb', true],
    ['a.b', 'a\rb', true], // Go's . excludes only \n
    ['^b', 'a\nb', false],
    ['(?m)^b', 'a\nb', true],
    ['(?m)^b', 'a\rb', false], // Go's lines end at \n only
    ['a$', 'a\n', false], // without m, $ is the end of the text
    ['(?m)a$', 'a\nb', true],
    ['(?m)a$', 'a\rb', false],
    ['(?m)\\Ab', 'a\nb', false],
    ['(?m)a\\z', 'a\nb', false],
    ['\\Aa', 'ba', false],
    ['\\Aa', 'ab', true],
    ['a\\z', 'ba', true],
    ['a\\z', 'a\n', false],
    ['\\s', '\v', false], // Go's \s is [\t\n\f\r ]
    ['\\s', '\u00a0', false],
    ['\\s', '\t', true],
    ['\\S', '\v', true],
    ['^\\w+$', 'caf\u00e9', false], // ASCII only
    ['\\bb', 'a b', true],
  ],
  'flags and anchors',
);

test('flag U swaps greedy and lazy', () => {
  assert.equal(goReplaceAll(compileGoRegexp('(?U)a+'), 'aaa', 'X'), 'XXX');
  assert.equal(goReplaceAll(compileGoRegexp('(?U)a+?'), 'aaa', 'X'), 'X');
  assert.equal(goReplaceAll(compileGoRegexp('a+?'), 'aaa', 'X'), 'XXX');
});

// POSIX classes (go doc regexp/syntax, "ASCII character classes").
checkMatch(
  [
    ['^[[:alpha:]]+$', 'abcXYZ', true],
    ['[[:alpha:]]', '1_-', false],
    ['^[[:digit:]]+$', '0123456789', true],
    ['[[:digit:]]', '\u0663', false], // ARABIC-INDIC DIGIT THREE
    ['^[[:space:]]+$', ' \t\n\v\f\r', true],
    ['^[[:alnum:]]+$', 'a1B2', true],
    ['[[:alnum:]]', '_', false],
    ['^[[:upper:]]+$', 'ABC', true],
    ['[[:upper:]]', 'abc', false],
    ['^[[:lower:]]+$', 'abc', true],
    ['^[[:punct:]]+$', '!-/:-@[-`{-~', true],
    ['[[:punct:]]', 'a1 ', false],
    ['^[[:word:]]+$', 'a_1', true],
    ['[[:word:]]', '-', false],
    ['^[[:xdigit:]]+$', '09afAF', true],
    ['[[:xdigit:]]', 'g', false],
    ['^[[:^digit:]]+$', 'abc\n', true],
    ['[[:^digit:]]', '5', false],
    ['^[[:digit:][:upper:]_]+$', '9Z_', true],
  ],
  'POSIX classes',
);

// Escapes in and out of classes, \Q…\E, literal braces (go doc regexp/syntax; Go's goodRe list in
// src/regexp/all_test.go has `[a-abc-c\-\]\[]` and `\!\\`).
checkMatch(
  [
    ['^[^.]+$', 'abc', true],
    ['[^.]', '...', false],
    ['^[\\w-]+$', 'a-b_c', true],
    ['^[a-abc-c\\-\\]\\[]+$', 'abc-][', true],
    ['^\\!\\\\$', '!\\', true],
    ['^a\\-b\\_c$', 'a-b_c', true],
    ['^\\Qa.b*\\E$', 'a.b*', true],
    ['^\\Qa.b\\E$', 'axb', false],
    ['^\\Qab\\E+$', 'abbb', true], // + applies to the last quoted character, as in Go
    ['^x\\Q(y)', 'x(y)', true], // no \E: quoted to the end
    ['^a{,2}$', 'a{,2}', true], // not a repeat in Go, so literal
    ['^a{2}$', 'aa', true],
    ['^a{01}$', 'a{01}', true], // leading zero: not a repeat in Go
    ['^\\x41\\x{1F600}\\101$', 'A\u{1f600}A', true],
    ['^[\\x{1F600}-\\x{1F64F}]$', '\u{1f601}', true],
    ['^\\pL+$', 'h\u00e9llo', true],
    ['^\\p{Greek}+$', '\u03b1\u03b2', true],
    ['\\PL', 'abc', false],
    ['^\\p{^Greek}+$', 'abc', true],
    ['(?m)^*a', 'a', true], // Go lets an assertion be repeated
  ],
  'escapes',
);

// What RE2 rejects (Go's badRe in src/regexp/all_test.go, go doc regexp/syntax "NOT SUPPORTED"),
// in Go's words, with a hint where another engine's syntax was likely meant.
const rejected: Array<[string, RegExp]> = [
  ['*', /missing argument to repetition operator: `\*`/],
  ['+', /missing argument/],
  ['?', /missing argument/],
  ['(abc', /missing closing \)/],
  ['abc)', /unexpected \)/],
  ['x[a-z', /missing closing \]/],
  ['[z-a]', /invalid character class range: `z-a`/],
  ['abc\\', /trailing backslash/],
  ['a**', /invalid nested repetition operator: `\*\*`$/],
  ['a*+', /nested repetition.*no possessive quantifiers/],
  ['a++', /no possessive quantifiers/],
  ['a{2}+', /no possessive quantifiers/],
  ['a{2}{3}', /invalid nested repetition operator/],
  ['\\x', /invalid escape sequence: `\\x`$/],
  ['\\1', /invalid escape sequence: `\\1` \(RE2 \(Go regexps\) has no backreferences\)/],
  ['(a)\\1', /no backreferences/],
  ['\\8', /no backreferences/],
  ['\\k<a>', /no named backreferences/],
  ['(?P<a>x)(?P=a)', /no named backreferences/],
  ['(?=a)', /unsupported Perl syntax: `\(\?=` \(RE2 \(Go regexps\) has no lookahead\)/],
  ['(?!a)', /no lookahead/],
  ['(?<=a)b', /no lookbehind/],
  ['(?<!a)b', /no lookbehind/],
  ['(?>a)', /no atomic groups/],
  ['(?#comment)', /invalid or unsupported Perl syntax/],
  ["(?'n'a)", /a named group is \(\?P<name>re\)/],
  ['(?P<a-b>x)', /invalid named capture/],
  ['(?P<>x)', /invalid named capture/],
  ['(?P<\u00e9>x)', /invalid named capture/],
  ['(?P<x>a)(?P<x>b)(?P<a-b>c)', /invalid named capture: `\(\?P<a-b>`/],
  ['(?P<x>a)(?P<x>b)(', /missing closing \)/],
  ['(?x)a', /invalid or unsupported Perl syntax: `\(\?x`/],
  ['(?-)a', /invalid or unsupported Perl syntax/],
  ['a{1001}', /invalid repeat count/],
  ['a{2,1}', /invalid repeat count/],
  ['(a{500}){3}', /invalid repeat count/],
  ['[[:foo:]]', /invalid character class range: `\[:foo:\]`/],
  ['\\e', /invalid escape sequence: `\\e`/],
  ['\\Z', /use \\z/],
  ['\\C', /invalid escape sequence/],
  ['[\\b]', /invalid escape sequence/],
  ['\\p{NoSuchScript}', /invalid character class range/],
  ['\\x{110000}', /invalid escape sequence/],
];
for (const [pattern, message] of rejected) {
  test(`rejects ${JSON.stringify(pattern)}`, () => {
    assert.throws(
      () => compileGoRegexp(pattern),
      (err: unknown) => err instanceof GoRegexpError && err.name === 'GoRegexpError' && message.test(err.message),
    );
  });
}

test('accepted as Go accepts them: (?i) anywhere, duplicate and digit-led group names, (?)', () => {
  for (const p of [
    '(?i)(?s)a.b',
    'a(?i)b',
    '(?i:a)b',
    '(?i)a(?-i)b',
    '(?)a',
    '(a{500}){2}',
    '(?P<a>x)(?P<a>y)',
    '(?P<1x>a)',
  ]) {
    assert.doesNotThrow(() => compileGoRegexp(p), p);
  }
});

test('GoRegexpError keeps the pattern and a stable code', () => {
  try {
    compileGoRegexp('(a)\\1');
    assert.fail('expected a GoRegexpError');
  } catch (err) {
    assert.ok(err instanceof GoRegexpError);
    assert.equal(err.code, 'ERR_GO_REGEXP');
    assert.equal(err.pattern, '(a)\\1');
  }
});

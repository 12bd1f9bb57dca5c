import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DurationError, parseDuration } from '../../src/config/duration.js';

const NS = 1n;
const US = 1_000n;
const MS = 1_000_000n;
const S = 1_000_000_000n;
const M = 60n * S;
const H = 60n * M;
const toMs = (ns: bigint): number => Number(ns) / 1e6;

// Go's parseDurationTests (src/time/time_test.go, current Go: the -1<<63 cases are valid since
// golang.org/issue/48629), in nanoseconds as Go writes them.
const goAccepted: Array<[string, bigint]> = [
  ['0', 0n],
  ['5s', 5n * S],
  ['30s', 30n * S],
  ['1478s', 1478n * S],
  ['-5s', -5n * S],
  ['+5s', 5n * S],
  ['-0', 0n],
  ['+0', 0n],
  ['5.0s', 5n * S],
  ['5.6s', 5n * S + 600n * MS],
  ['5.s', 5n * S],
  ['.5s', 500n * MS],
  ['1.0s', 1n * S],
  ['1.00s', 1n * S],
  ['1.004s', 1n * S + 4n * MS],
  ['1.0040s', 1n * S + 4n * MS],
  ['100.00100s', 100n * S + 1n * MS],
  ['10ns', 10n * NS],
  ['11us', 11n * US],
  ['12\u00b5s', 12n * US], // U+00B5
  ['12\u03bcs', 12n * US], // U+03BC
  ['13ms', 13n * MS],
  ['14s', 14n * S],
  ['15m', 15n * M],
  ['16h', 16n * H],
  ['3h30m', 3n * H + 30n * M],
  ['10.5s4m', 4n * M + 10n * S + 500n * MS],
  ['-2m3.4s', -(2n * M + 3n * S + 400n * MS)],
  ['1h2m3s4ms5us6ns', 1n * H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n * NS],
  ['39h9m14.425s', 39n * H + 9n * M + 14n * S + 425n * MS],
  ['52763797000ns', 52763797000n * NS],
  ['0.3333333333333333333h', 20n * M],
  ['9007199254740993ns', (1n << 53n) + 1n],
  ['9223372036854775807ns', (1n << 63n) - 1n],
  ['9223372036854775.807us', (1n << 63n) - 1n],
  ['9223372036s854ms775us807ns', (1n << 63n) - 1n],
  ['-9223372036854775808ns', -(1n << 63n)],
  ['-9223372036854775.808us', -(1n << 63n)],
  ['-9223372036s854ms775us808ns', -(1n << 63n)],
  ['-2562047h47m16.854775808s', -(1n << 63n)],
  ['0.100000000000000000000h', 6n * M],
  ['0.830103483285477580700h', 49n * M + 48n * S + 372539827n * NS],
];

// Go's parseDurationErrorTests, same file.
const goRejected = [
  '',
  '3',
  '-',
  's',
  '.',
  '-.',
  '.s',
  '+.s',
  '\x85\x85',
  '\xffff',
  'hello \xffff world',
  '\uFFFD',
  '\uFFFD hello \uFFFD world',
  '9223372036854775810ns',
  '9223372036854775808ns',
  '-9223372036854775809ns',
  '9223372036854776us',
  '3000000h',
  '9223372036854775.808us',
  '9223372036854ms775us808ns',
];

for (const [input, ns] of goAccepted) {
  test(`Go syntax ${JSON.stringify(input)} → ${ns}ns`, () => {
    assert.equal(parseDuration(input), toMs(ns));
  });
}

for (const input of goRejected) {
  test(`Go rejects ${JSON.stringify(input)}`, () => {
    assert.throws(() => parseDuration(input), DurationError);
  });
}

test('results are milliseconds as floats, never -0', () => {
  assert.equal(parseDuration('10us'), 0.01);
  assert.equal(parseDuration('10ns'), 0.00001);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.ok(Object.is(parseDuration('-0'), 0));
  assert.ok(Object.is(parseDuration('-0s'), 0));
});

// Forms of the `ms` package that carry a unit; tried only after Go's syntax fails.
const phrases: Array<[string, number]> = [
  ['1 minute', 60_000],
  ['2 hours', 7_200_000],
  ['1.5 h', 5_400_000],
  ['10 seconds', 10_000],
  ['3 days', 259_200_000],
  ['1d', 86_400_000],
  ['2 weeks', 1_209_600_000],
  ['500 ms', 500],
  ['1 s', 1000],
  ['.5 hours', 1_800_000],
  ['1 Minute', 60_000],
  ['10 SECONDS', 10_000],
  ['-1 minute', -60_000],
  ['1y', 31_557_600_000],
];
for (const [input, ms] of phrases) {
  test(`phrase ${JSON.stringify(input)} → ${ms}ms`, () => {
    assert.equal(parseDuration(input), ms);
  });
}

test('surrounding whitespace is trimmed for both grammars', () => {
  assert.equal(parseDuration('  90s\n'), 90_000);
  assert.equal(parseDuration('\t1 minute '), 60_000);
  assert.throws(() => parseDuration('   '), /" {3}" is empty/);
});

const rejected: Array<[string, RegExp]> = [
  ['60', /"60" has no unit; /],
  ['1.5', /has no unit/],
  ['-60', /has no unit/],
  ['abc', /is not a duration/],
  ['1M', /is not a duration/], // single-letter units must be lower case: M could be a month
  ['5S', /is not a duration/],
  ['1h 30m', /is not a duration/],
  ['1 fortnight', /is not a duration/],
  ['3000000h', /is out of range/],
  ['300000 years', /is out of range/],
];
for (const [input, message] of rejected) {
  test(`rejects ${JSON.stringify(input)}`, () => {
    assert.throws(() => parseDuration(input), message);
  });
}

test('DurationError says what was wrong and what is allowed', () => {
  try {
    parseDuration('abc');
    assert.fail('expected a DurationError');
  } catch (err) {
    assert.ok(err instanceof DurationError);
    assert.equal(err.name, 'DurationError');
    assert.equal(err.code, 'ERR_DURATION');
    assert.equal(err.input, 'abc');
    assert.equal(
      err.message,
      '"abc" is not a duration; use Go syntax like 90s, 1m30s, 500ms, 10us, 2h, or a phrase like "1 minute"',
    );
  }
});

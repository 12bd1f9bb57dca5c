import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sanitizePath, sanitizeSegment } from '../../src/naming/sanitize.js';

const paths: Array<[string, string]> = [
  ['web.frontend-1.cpu_total', 'web.frontend-1.cpu_total'],
  ['my container.cpu', 'my_container.cpu'],
  ['a\nb', 'a_b'],
  ['a\r\nb.c', 'a__b.c'],
  ['tab\there', 'tab_here'],
  ['caf\u00e9.ok', 'caf_.ok'],
  ['\u{1f600}x', '_x'], // one code point, one underscore
  ['a..b', 'a.b'],
  ['.leading.trailing.', 'leading.trailing'],
  ['...', ''],
  ['a/b.c', 'a_b.c'],
  ['k8s_POD_x;rm -rf', 'k8s_POD_x_rm_-rf'],
  ['metric 1 1700000000\nevil.path', 'metric_1_1700000000_evil.path'],
  ['', ''],
];

for (const [input, want] of paths) {
  test(`sanitizePath(${JSON.stringify(input)}) → ${JSON.stringify(want)}`, () => {
    assert.equal(sanitizePath(input), want);
  });
}

const segments: Array<[string, string]> = [
  ['host.example.com', 'host_example_com'],
  ['eth0', 'eth0'],
  ['veth1a2b@if5', 'veth1a2b_if5'],
  ['a\nb', 'a_b'],
  ['..', '__'],
  ['', ''],
];

for (const [input, want] of segments) {
  test(`sanitizeSegment(${JSON.stringify(input)}) → ${JSON.stringify(want)}`, () => {
    assert.equal(sanitizeSegment(input), want);
  });
}

test('no output ever holds a character outside [A-Za-z0-9_.-] or an empty segment', () => {
  const samples = ['a\nb', ' . ', 'x\u2028y', '\u0000', 'a.\n.b', '\u00a0', 'tab\t.dot.'];
  for (const s of samples) {
    const path = sanitizePath(s);
    assert.match(path, /^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$/);
    assert.match(sanitizeSegment(s), /^[A-Za-z0-9_-]*$/);
  }
});

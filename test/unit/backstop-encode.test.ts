import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBackstopBatch } from '../../src/sinks/backstop-encode.js';

describe('encodeBackstopBatch', () => {
  it('is the JSON array Backstop expects, identical to JSON.stringify of the items', () => {
    const items = [
      { path: 'web.cpu.total', value: 27603521172, time: 1795332257 },
      { path: 'web.cpu.percent', value: 49.51234, time: 1795332257 },
      { path: 'h.containers.total', value: 0, time: 1795332300 },
      { path: 'big', value: 1e21, time: 1 },
      { path: 'neg', value: -3.5, time: 2 },
      { path: 'needs "escaping"\n', value: 1, time: 3 },
    ];
    const expected = JSON.stringify(items.map((m) => ({ metric: m.path, value: m.value, measure_time: m.time })));
    assert.equal(encodeBackstopBatch(items).toString('utf8'), expected);
    assert.deepEqual(JSON.parse(encodeBackstopBatch(items).toString('utf8'))[5], {
      metric: 'needs "escaping"\n',
      value: 1,
      measure_time: 3,
    });
  });

  it('sizes its buffer for the worst paths: control characters, non-ASCII, extreme numbers', () => {
    const items = [
      { path: '\u0001'.repeat(40), value: -1.2345678901234567e-308, time: -1.7976931348623157e308 },
      { path: '€😀"\\'.repeat(40), value: Number.MAX_VALUE, time: 1795332257 },
    ];
    const expected = JSON.stringify(items.map((m) => ({ metric: m.path, value: m.value, measure_time: m.time })));
    assert.equal(encodeBackstopBatch(items).toString('utf8'), expected);
  });

  it('encodes an empty batch as an empty array', () => {
    assert.equal(encodeBackstopBatch([]).toString('utf8'), '[]');
  });
});

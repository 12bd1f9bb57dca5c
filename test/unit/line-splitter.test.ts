import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from '../../src/docker/line-splitter.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks and splits chunks holding several lines', () => {
    const lines: string[] = [];
    const s = new LineSplitter(1024, (l) => lines.push(l));
    assert.ok(s.push(Buffer.from('{"a":')));
    assert.ok(s.push(Buffer.from('1}\n{"b":2}\n{"c"')));
    assert.ok(s.push(Buffer.from(':3}\n')));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a multi-byte character split between chunks intact', () => {
    const lines: string[] = [];
    const s = new LineSplitter(1024, (l) => lines.push(l));
    const bytes = Buffer.from('{"n":"é"}\n');
    s.push(bytes.subarray(0, 7));
    s.push(bytes.subarray(7));
    assert.deepEqual(lines, ['{"n":"é"}']);
  });

  it('skips blank lines and CRLF endings', () => {
    const lines: string[] = [];
    const s = new LineSplitter(1024, (l) => lines.push(l));
    s.push(Buffer.from('\r\n{"a":1}\r\n\n'));
    assert.deepEqual(lines, ['{"a":1}']);
  });

  it('reports a line that grows past the bound, whether in one chunk or many', () => {
    const one = new LineSplitter(10, () => {});
    assert.equal(one.push(Buffer.from(`${'x'.repeat(11)}\n`)), false);
    const object = new LineSplitter(10, () => {});
    assert.equal(object.push(Buffer.from(`{"a":"${'x'.repeat(3)}"}\n`)), false, 'a JSON object of 11 bytes');
    const fits = new LineSplitter(10, () => {});
    assert.equal(fits.push(Buffer.from(`{"a":"${'x'.repeat(2)}"}\n`)), true, 'one of 10 bytes');
    const many = new LineSplitter(10, () => {});
    assert.equal(many.push(Buffer.from('x'.repeat(6))), true);
    assert.equal(many.push(Buffer.from('x'.repeat(6))), false);
  });
});

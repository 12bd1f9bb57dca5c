import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLines } from '../../src/docker/json-lines.js';

/** A reader that records what it hands on. */
function reader(maxLineBytes = 1024): {
  lines: JsonLines;
  objects: unknown[];
  skips: Array<[string, boolean]>;
} {
  const objects: unknown[] = [];
  const skips: Array<[string, boolean]> = [];
  const lines = new JsonLines(
    maxLineBytes,
    (o) => objects.push(o),
    (line, first) => skips.push([line, first]),
  );
  return { lines, objects, skips };
}

describe('JsonLines', () => {
  it('joins lines split across chunks and splits chunks holding several lines', () => {
    const r = reader();
    assert.ok(r.lines.push(Buffer.from('{"a":')));
    assert.ok(r.lines.push(Buffer.from('1}\n{"b":2}\n{"c"')));
    assert.ok(r.lines.push(Buffer.from(':3}\n')));
    assert.deepEqual(r.objects, [{ a: 1 }, { b: 2 }, { c: 3 }]);
    assert.deepEqual(r.skips, []);
  });

  it('keeps a multi-byte character split between chunks intact', () => {
    const r = reader();
    const bytes = Buffer.from('{"n":"é"}\n');
    r.lines.push(bytes.subarray(0, 7));
    r.lines.push(bytes.subarray(7));
    assert.deepEqual(r.objects, [{ n: 'é' }]);
  });

  it('skips blank lines and CRLF endings without counting them', () => {
    const r = reader();
    r.lines.push(Buffer.from('\r\n{"a":1}\r\n\n  \n'));
    assert.deepEqual(r.objects, [{ a: 1 }]);
    assert.deepEqual(r.skips, []);
  });

  it('skips every line that is not a JSON object, each one reported, the first one as first', () => {
    const r = reader();
    const bad = ['this is not JSON', '{"read": "x", "cpu_stats": {', '42', 'null', '"a string"', 'true', '[1,2]'];
    r.lines.push(Buffer.from(`${bad.slice(0, 3).join('\n')}\n{"ok":1}\n${bad.slice(3).join('\n')}\n`));
    assert.deepEqual(r.objects, [{ ok: 1 }]);
    assert.deepEqual(
      r.skips,
      bad.map((line, i) => [line, i === 0]),
    );
  });

  it('reports a line that grows past the bound, whether in one chunk or many', () => {
    assert.equal(reader(10).lines.push(Buffer.from(`${'x'.repeat(11)}\n`)), false);
    assert.equal(reader(10).lines.push(Buffer.from(`{"a":"${'x'.repeat(3)}"}\n`)), false, 'a JSON object of 11 bytes');
    const fits = reader(10);
    assert.equal(fits.lines.push(Buffer.from(`{"a":"${'x'.repeat(2)}"}\n`)), true, 'one of 10 bytes');
    assert.deepEqual(fits.objects, [{ a: 'xx' }]);
    const many = reader(10);
    assert.equal(many.lines.push(Buffer.from('x'.repeat(6))), true);
    assert.equal(many.lines.push(Buffer.from('x'.repeat(6))), false);
  });
});

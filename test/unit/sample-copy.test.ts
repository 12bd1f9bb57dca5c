import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import { copySample, overwriteSample, SCALAR_KEYS } from '../../src/reduce/sample-copy.js';
import { loadSamples } from '../helpers/fixtures.js';

/** Every real sample of every fixture: streams of API 1.17 to today, cgroup v1 and v2, Podman, no network. */
const FILES = [
  'busy-stream.jsonl',
  'constructed-cgroup-v2.json',
  'idle-api1.17-stream.jsonl',
  'idle-limited-stream.jsonl',
  'idle-oneshot.json',
  'nonet-stream.jsonl',
  'podman-4.3-stream.jsonl',
];
const values: SampleValues[] = FILES.flatMap((f) => loadSamples(f).map((s) => sampleValues(s))).filter(
  (v): v is SampleValues => v !== undefined,
);

/** Every object inside a value, the value included. */
function objectsOf(o: unknown, out = new Set<object>()): Set<object> {
  if (o !== null && typeof o === 'object' && !out.has(o)) {
    out.add(o);
    for (const v of Object.values(o)) objectsOf(v, out);
  }
  return out;
}

describe('copySample / overwriteSample', () => {
  it('has samples of every shape to work on', () => {
    assert.ok(values.length >= 10);
    assert.ok(values.some((v) => v.interfaces.length === 0) && values.some((v) => v.interfaces.length > 0));
    assert.ok(values.some((v) => v.blkioRead === undefined) && values.some((v) => v.blkioRead !== undefined));
  });

  it('a copy equals its sample and shares no object with it', () => {
    for (const v of values) {
      const c = copySample(v);
      assert.deepEqual(c, v);
      const mine = objectsOf(v);
      for (const o of objectsOf(c))
        if (o !== (v.interfaces.length === 0 ? v.interfaces : undefined)) assert.ok(!mine.has(o), 'shared object');
    }
  });

  it('writing any sample over a copy of any other gives exactly the later sample', () => {
    for (const a of values) {
      for (const b of values) {
        const held = copySample(a);
        overwriteSample(held, b);
        assert.deepEqual(held, b);
      }
    }
  });

  it('writes a sample of the same shape in place: no object of the new sample is kept', () => {
    const [first, second] = loadSamples('busy-stream.jsonl').map((s) => sampleValues(s)!);
    const held = copySample(first!);
    const before = objectsOf(held);
    overwriteSample(held, second!);
    assert.deepEqual(held, second);
    assert.deepEqual(objectsOf(held), before, 'the same objects, rewritten');
  });

  it('writes every scalar field (a field added to SampleValues and not to overwriteSample fails here)', () => {
    const [first] = loadSamples('busy-stream.jsonl').map((s) => sampleValues(s)!);
    const held = copySample(first!);
    const other = first!.cpuPercentBase === 'system' ? 'wall-clock' : 'system';
    const mark = (k: string, i: number): unknown => (k === 'cpuPercentBase' ? other : 1e15 + i);
    const marked = Object.fromEntries(SCALAR_KEYS.map((k, i) => [k, mark(k, i)])) as unknown as SampleValues;
    overwriteSample(held, { ...first!, ...marked });
    for (const k of SCALAR_KEYS) assert.equal(held[k], marked[k], k);
    assert.deepEqual(Object.keys(held).sort(), Object.keys(first!).sort());
  });

  it('leaves the sample it copies from untouched', () => {
    const [first, second] = loadSamples('busy-stream.jsonl').map((s) => sampleValues(s)!);
    const snapshot = structuredClone(second!);
    overwriteSample(copySample(first!), second!);
    assert.deepEqual(second, snapshot);
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * What may import what (docs/architecture.md §1), checked on the source: every relative import of
 * every file under src/, static, type-only and dynamic.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** src-relative path → the src-relative paths it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
      relative(SRC, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
    );
    graph.set(relative(SRC, file), [...new Set(targets)]);
  }
  return graph;
}

/** The part a file belongs to: its folder under src/, or its own name for a file at the top. */
const part = (file: string): string =>
  file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.ts$/, '');

/**
 * Each part and the parts it may import, stated once, by part: there is no rule for a single file.
 * The model (src/model/) is the plain data every later stage shares; the base is what every part
 * may use.
 */
const BASE = ['clock', 'errors', 'log', 'redact'];
const MAY_IMPORT: Record<string, readonly string[]> = {
  clock: [],
  errors: [],
  log: ['redact'],
  redact: [],
  model: [...BASE],
  docker: [...BASE, 'model'],
  cgroup: [...BASE, 'model'],
  reduce: [...BASE, 'model'],
  naming: [...BASE, 'model'],
  sinks: [...BASE, 'model', 'naming'],
  pipeline: [...BASE, 'sinks'],
  daemon: [...BASE, 'model', 'config', 'docker', 'cgroup', 'reduce', 'naming', 'pipeline', 'sinks'],
  cli: [],
  config: [...BASE, 'model', 'cli', 'docker', 'naming', 'reduce', 'sinks'],
  main: [...BASE, 'model', 'cli', 'config', 'daemon', 'docker', 'cgroup', 'reduce', 'naming', 'pipeline', 'sinks'],
};

describe('architecture: what may import what', () => {
  const graph = importGraph();

  it('every part is known, and every rule names parts', () => {
    for (const file of graph.keys())
      assert.ok(part(file) in MAY_IMPORT, `${file}: a part docs/architecture.md does not name`);
    for (const [from, allowed] of Object.entries(MAY_IMPORT)) {
      for (const to of allowed) assert.ok(to in MAY_IMPORT && to !== from, `${from} may import ${to}: not a part`);
    }
  });

  it('imports run one way (model ← {docker, cgroup, reduce, naming, sinks}; daemon → pipeline → sinks)', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = part(file);
      const allowed = MAY_IMPORT[from] ?? [];
      for (const target of targets) {
        const to = part(target);
        if (to === from || allowed.includes(to)) continue;
        wrong.push(`${file} → ${target}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });
});

#!/usr/bin/env node
// Fails when a line of src/, test/ or bench/ (.ts, .mjs, .js) is longer than 120 characters, because
// Biome's formatter breaks code but leaves long comments, strings and template literals as they are.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 120;
const ROOTS = ['src', 'test', 'bench', 'scripts'];
const SOURCE = /\.(ts|mjs|js)$/;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (SOURCE.test(entry.name)) yield path;
  }
}

let long = 0;
for (const root of ROOTS) {
  for (const path of files(root)) {
    const lines = readFileSync(path, 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      // Code points, not UTF-16 units: an arrow or a dash counts as one character.
      const length = [...line].length;
      if (length > MAX) {
        long++;
        console.error(`${path}:${i + 1}: ${length} characters (at most ${MAX})`);
      }
    }
  }
}
if (long > 0) {
  console.error(`line-length: ${long} line(s) over ${MAX} characters`);
  process.exit(1);
}

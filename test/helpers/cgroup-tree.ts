import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CgroupPaths } from '../../src/cgroup/locate.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/cgroup/', import.meta.url));

/**
 * A fake host for the cgroup reader in a temporary directory: `proc/` stands for the host's /proc
 * and `sys/fs/cgroup/` for its cgroup tree. Built from a captured fixture and/or files written
 * by the test; `remove` deletes it.
 */
export class CgroupTree {
  readonly root = mkdtempSync(join(tmpdir(), 'dstb-cgroup-'));
  readonly paths: CgroupPaths = { hostProc: join(this.root, 'proc'), cgroupRoot: join(this.root, 'sys/fs/cgroup') };

  /** Copies test/fixtures/cgroup/<name>/{proc,sys} into the tree. */
  fixture(name: string): this {
    for (const part of ['proc', 'sys']) cpSync(join(FIXTURES, name, part), join(this.root, part), { recursive: true });
    return this;
  }

  /** Writes files, relative to the tree's root, creating their directories. */
  write(files: Record<string, string>): this {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.root, path)), { recursive: true });
      writeFileSync(join(this.root, path), text);
    }
    return this;
  }

  /** An absolute path in the tree. */
  at(path: string): string {
    return join(this.root, path);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A fixture's own file (engine-before.json, container, …). */
export function fixtureText(name: string, file: string): string {
  return readFileSync(join(FIXTURES, name, file), 'utf8');
}

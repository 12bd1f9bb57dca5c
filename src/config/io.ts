// The file system that parseConfig checks and reads, through node:fs: used by main.ts only.
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigIo } from '../config.js';

/** Node's file system for parseConfig; `pid` names the probe file, so that two daemons do not share one. */
export function nodeConfigIo(pid: number): ConfigIo {
  return {
    exists: existsSync,
    readFile: (path) => readFileSync(path, 'utf8'),
    readBytes: (path) => readFileSync(path),
    isDirectory: (path) => {
      try {
        return statSync(path).isDirectory();
      } catch {
        return false;
      }
    },
    // The spool folder is proven writable now rather than during an outage.
    prepareDir: (dir) => {
      mkdirSync(dir, { recursive: true });
      const probe = join(dir, `.write-test-${pid}`);
      writeFileSync(probe, '');
      unlinkSync(probe);
    },
  };
}

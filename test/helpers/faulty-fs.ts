import { rmSync } from 'node:fs';
import { nodeSpoolFs, type SpoolFs } from '../../src/pipeline/spool-fs.js';

/** The operations faults are armed on (a string write counts as `writeSync`). */
export type FsOp = Exclude<keyof SpoolFs, 'writeStringSync'>;

/** What the next matching call does instead of (or before) its real work. */
export type Fault =
  /** Writes only the first `bytes` bytes for real and reports that many written. */
  | { readonly kind: 'short'; readonly bytes: number }
  /** Throws an error with this code (ENOSPC, EROFS, EIO, ENOENT, EACCES, …) without doing anything. */
  | { readonly kind: 'error'; readonly code: string };

interface Armed {
  readonly op: FsOp;
  readonly fault: Fault;
  /** How many more calls it hits; Infinity until cleared. */
  times: number;
}

/**
 * The real file system with faults on demand, for the spool's tests: `fail('writeSync', {kind:
 * 'error', code: 'ENOSPC'})` makes the next write throw as a full disk would, `short` writes part
 * of a buffer for real (as a filling disk does), `removeDir` deletes the spool under a running
 * writer. Counts every call by name, so that tests can see what was attempted.
 */
export class FaultyFs implements SpoolFs {
  readonly calls = new Map<FsOp, number>();
  #armed: Armed[] = [];

  /** Arms a fault for the next `times` calls of `op` (Infinity: until `clear`). */
  fail(op: FsOp, fault: Fault, times = 1): this {
    this.#armed.push({ op, fault, times });
    return this;
  }

  /** Fails every call of these operations with `code` until `clear` (a file system gone read-only). */
  failAll(ops: readonly FsOp[], code: string): this {
    for (const op of ops) this.fail(op, { kind: 'error', code }, Infinity);
    return this;
  }

  clear(): void {
    this.#armed = [];
  }

  /** Deletes a folder and everything in it, as an operator's `rm -rf` would. */
  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
  }

  count(op: FsOp): number {
    return this.calls.get(op) ?? 0;
  }

  #fault(op: FsOp): Fault | undefined {
    this.calls.set(op, this.count(op) + 1);
    const armed = this.#armed.find((a) => a.op === op);
    if (!armed) return undefined;
    armed.times -= 1;
    if (armed.times <= 0) this.#armed = this.#armed.filter((a) => a !== armed);
    if (armed.fault.kind === 'error') {
      throw Object.assign(new Error(`${armed.fault.code}: injected fault, ${op}`), { code: armed.fault.code });
    }
    return armed.fault;
  }

  mkdirSync(path: string, opts: { recursive: true }): unknown {
    this.#fault('mkdirSync');
    return nodeSpoolFs.mkdirSync(path, opts);
  }
  readdirSync(path: string): string[] {
    this.#fault('readdirSync');
    return nodeSpoolFs.readdirSync(path);
  }
  lstatSync(path: string): { isFile(): boolean; size: number } {
    this.#fault('lstatSync');
    return nodeSpoolFs.lstatSync(path);
  }
  openSync(path: string, flags: string): number {
    this.#fault('openSync');
    return nodeSpoolFs.openSync(path, flags);
  }
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    const fault = this.#fault('writeSync');
    if (fault?.kind === 'short') return nodeSpoolFs.writeSync(fd, buffer, offset, Math.min(length, fault.bytes));
    return nodeSpoolFs.writeSync(fd, buffer, offset, length);
  }
  /** Armed and counted as `writeSync`: to the spool both are one write. */
  writeStringSync(fd: number, text: string): number {
    const fault = this.#fault('writeSync');
    if (fault?.kind === 'short') {
      const bytes = Buffer.from(text);
      return nodeSpoolFs.writeSync(fd, bytes, 0, Math.min(bytes.length, fault.bytes));
    }
    return nodeSpoolFs.writeStringSync(fd, text);
  }
  fdatasyncSync(fd: number): void {
    this.#fault('fdatasyncSync');
    nodeSpoolFs.fdatasyncSync(fd);
  }
  ftruncateSync(fd: number, length: number): void {
    this.#fault('ftruncateSync');
    nodeSpoolFs.ftruncateSync(fd, length);
  }
  fstatSync(fd: number): { nlink: number } {
    this.#fault('fstatSync');
    return nodeSpoolFs.fstatSync(fd);
  }
  closeSync(fd: number): void {
    this.#fault('closeSync');
    nodeSpoolFs.closeSync(fd);
  }
  readFileSync(path: string): Buffer {
    this.#fault('readFileSync');
    return nodeSpoolFs.readFileSync(path);
  }
  writeFileSync(path: string, data: string): void {
    this.#fault('writeFileSync');
    nodeSpoolFs.writeFileSync(path, data);
  }
  renameSync(from: string, to: string): void {
    this.#fault('renameSync');
    nodeSpoolFs.renameSync(from, to);
  }
  unlinkSync(path: string): void {
    this.#fault('unlinkSync');
    nodeSpoolFs.unlinkSync(path);
  }
}

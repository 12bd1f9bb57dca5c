import * as fs from 'node:fs';

/**
 * The synchronous file calls the spool makes, so that tests can hand it a file system that fails on
 * demand (test/helpers/faulty-fs.ts). Each behaves as its node:fs namesake, throwing errors with a `code`.
 */
export interface SpoolFs {
  mkdirSync(path: string, opts: { recursive: true }): unknown;
  readdirSync(path: string): string[];
  lstatSync(path: string): { isFile(): boolean; size: number };
  openSync(path: string, flags: string): number;
  /** May write fewer bytes than asked: the return value says how many. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** A string as UTF-8, at the end of a file opened for appending; may also write fewer bytes than it holds. */
  writeStringSync(fd: number, text: string): number;
  fdatasyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): { nlink: number };
  closeSync(fd: number): void;
  readFileSync(path: string): Buffer;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

/** The real file system. */
export const nodeSpoolFs: SpoolFs = {
  mkdirSync: (path, opts) => fs.mkdirSync(path, opts),
  readdirSync: (path) => fs.readdirSync(path),
  lstatSync: (path) => fs.lstatSync(path),
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  writeStringSync: (fd, text) => fs.writeSync(fd, text),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  readFileSync: (path) => fs.readFileSync(path),
  writeFileSync: (path, data) => fs.writeFileSync(path, data),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
};

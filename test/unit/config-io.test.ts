import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig, type ConfigInputs } from '../../src/config.js';
import { nodeConfigIo } from '../../src/config/io.js';

const problemsOf = (inputs: Partial<ConfigInputs> & { argv: string[] }): readonly string[] => {
  const out = parseConfig({ env: {}, hostname: 'h', homedir: '/nonexistent', exists: () => true, ...inputs });
  return out.kind === 'invalid' ? out.problems : [];
};

describe('parseConfig checks the file system only through what it is given', () => {
  it('--spool-dir: a folder the given prepareDir refuses is a problem naming the flag', () => {
    const refuse = (): void => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    assert.deepEqual(problemsOf({ argv: ['--spool-dir=/s'], prepareDir: refuse }), [
      '--spool-dir: cannot write to "/s" (EACCES: permission denied); give a writable folder for the spool',
    ]);
    assert.deepEqual(problemsOf({ argv: ['--spool-dir=/s'] }), [], 'without prepareDir: not checked');
  });

  it('--host-proc, --cgroup-root: with --mode cgroup, a path the given isDirectory denies is a problem', () => {
    const argv = ['--mode=cgroup', '--host-proc=/hp', '--cgroup-root=/cg'];
    const problems = problemsOf({ argv, isDirectory: (p) => p === '/cg' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^--host-proc: "\/hp" is not a directory/);
    const otherMode = problemsOf({ argv: ['--host-proc=/hp'], isDirectory: () => false });
    assert.deepEqual(otherMode, [], 'other modes: not checked');
  });

  it('DOCKER_CERT_PATH: its files are read through exists and readBytes', () => {
    const env = { DOCKER_HOST: 'tcp://e:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' };
    const files: Record<string, string> = { '/c/ca.pem': 'CA', '/c/cert.pem': 'CERT', '/c/key.pem': 'KEY' };
    const readBytes = (p: string): Buffer => Buffer.from(files[p]!);
    const out = parseConfig({ argv: [], env, hostname: 'h', homedir: '/', exists: (p) => p in files, readBytes });
    assert.ok(out.kind === 'config' && out.config.docker.kind === 'tcp');
    assert.equal(out.config.docker.tls?.cert?.toString(), 'CERT');
    const none = parseConfig({ argv: [], env, hostname: 'h', homedir: '/', exists: () => false, readBytes });
    assert.match(none.kind === 'invalid' ? none.problems[0]! : '', /^DOCKER_CERT_PATH: "\/c" holds no cert.pem/);
  });
});

describe('nodeConfigIo', () => {
  it('prepareDir creates the folder and leaves no probe file; isDirectory tells folders from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstb-io-'));
    try {
      const io = nodeConfigIo(4242);
      io.prepareDir(join(dir, 'a', 'b'));
      assert.deepEqual(readdirSync(join(dir, 'a', 'b')), []);
      writeFileSync(join(dir, 'f'), '');
      assert.equal(io.isDirectory(dir), true);
      assert.equal(io.isDirectory(join(dir, 'f')), false);
      assert.equal(io.isDirectory(join(dir, 'missing')), false);
      assert.throws(() => io.prepareDir(join(dir, 'f', 'under-a-file')), /ENOTDIR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};

/**
 * The npm package: `npm pack` of the built checkout, installed globally into a temporary prefix the
 * way a user installs it (the registry is reachable; npm's cache is used where it can be, but
 * nothing here depends on what an earlier install left in it), gives a working command.
 */
describe('npm package', () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dstb-pack-'));
    const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed!.filename);
    files = packed!.files.map((f) => f.path);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the compiled code, the bin, README and license only', () => {
    const bin = pkg.bin['docker-stats-to-backstop'];
    assert.equal(bin, 'dist/main.js');
    assert.ok(files.includes(bin), 'the bin');
    assert.deepEqual(files.filter((f) => !f.startsWith('dist/')).sort(), ['LICENSE', 'README.md', 'package.json']);
    assert.deepEqual(
      files.filter((f) => !/\.js(\.map)?$/.test(f) && f.startsWith('dist/')),
      [],
      'only compiled JavaScript under dist/',
    );
  });

  it('installed globally, gives a working docker-stats-to-backstop --help and --version', async () => {
    const prefix = join(dir, 'prefix');
    await exec(
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { maxBuffer: 16 << 20 },
    );
    const command = join(prefix, 'bin', 'docker-stats-to-backstop');
    const help = await exec(command, ['--help']);
    assert.match(help.stdout, /^docker-stats-to-backstop \d+\.\d+\.\d+/);
    assert.match(help.stdout, /Usage: docker-stats-to-backstop \[options\]/);
    assert.match(help.stdout, /--backstop URL/);
    assert.equal((await exec(command, ['--version'])).stdout.trim(), pkg.version);
  });
});

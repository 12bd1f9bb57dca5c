import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs one of the project's scripts; resolves with its trimmed stdout (its stderr is kept for errors). */
export async function runScript(name: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec('bash', [join(ROOT, 'scripts', name)], {
    env: { ...process.env, ...env },
    maxBuffer: 16 << 20,
  });
  return stdout.trim();
}

/**
 * Builds the repository's Dockerfile into `tag` where nothing can be pulled: against the local
 * Node base image scripts/make-node-base-image.sh makes, with NPM_DEPS=context and a copy of this
 * checkout's node_modules (what `npm ci` installed from the lock file) as docker-deps/, in a
 * temporary build context holding what .dockerignore lets through. The checkout is not touched.
 * The final image carries the label dstb.test-image=1; no untagged image of ours is left behind.
 */
export async function buildImage(tag: string): Promise<void> {
  const base = await runScript('make-node-base-image.sh');
  const context = mkdtempSync(join(tmpdir(), 'dstb-image-'));
  try {
    for (const entry of [
      'Dockerfile',
      '.dockerignore',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'src',
      'README.md',
      'LICENSE',
    ]) {
      cpSync(join(ROOT, entry), join(context, entry), { recursive: true });
    }
    mkdirSync(join(context, 'docker-deps'));
    // realpath: node_modules may itself be a link (a git worktree sharing another checkout's).
    cpSync(realpathSync(join(ROOT, 'node_modules')), join(context, 'docker-deps', 'node_modules'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    await exec(
      'docker',
      [
        'build',
        '-q',
        '--force-rm',
        '-t',
        tag,
        '--build-arg',
        `NODE_IMAGE=${base}`,
        '--build-arg',
        'NPM_DEPS=context',
        '--label',
        'dstb.test-image=1',
        context,
      ],
      { maxBuffer: 16 << 20 },
    );
    // Left untagged: the image this tag named before (label dstb.test-image) and the build
    // stage's image (the base image's label dstb.node). Remove both kinds, and only those, so that
    // runs of other checkouts do not pile up build stages; the next build makes its stage again.
    await exec('docker', ['image', 'prune', '--force', '--filter', 'label=dstb.test-image=1']);
    await exec('docker', ['image', 'prune', '--force', '--filter', 'label=dstb.node']);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

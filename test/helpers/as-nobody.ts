import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs a command of this checkout as user nobody (uid 65534), from root, in a mount namespace of
 * its own. The checkout may sit under a folder only root can enter (a clone in a `mktemp -d`
 * folder): inside the namespace it is bind-mounted at a path anybody can reach, and the bind is
 * gone with the namespace. Needs root, unshare, mount and setpriv (util-linux).
 */
export class AsNobody {
  readonly #dir = mkdtempSync(join(tmpdir(), 'dstb-nobody-'));
  /** Where nobody sees the checkout. */
  readonly root = join(this.#dir, 'checkout');

  constructor() {
    chmodSync(this.#dir, 0o755);
    mkdirSync(this.root, { mode: 0o755 });
  }

  /** A path of the checkout (absolute) as nobody sees it. */
  path(inCheckout: string): string {
    return join(this.root, relative(ROOT, inCheckout));
  }

  /**
   * The argv (for `unshare`, first) that runs `command` as nobody with group `gid` and no other,
   * in the checkout as nobody sees it; /proc is mounted anew with `procOptions` when given.
   */
  argv(command: readonly string[], opts: { gid: number; procOptions?: string }): string[] {
    const proc = opts.procOptions ? `mount -t proc -o ${opts.procOptions} proc /proc && ` : '';
    const script =
      `mount --bind "$0" "$1" && ${proc}cd "$1" && shift && ` +
      `exec setpriv --reuid 65534 --regid ${opts.gid} --clear-groups "$@"`;
    return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, ROOT, this.root, ...command];
  }

  dispose(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

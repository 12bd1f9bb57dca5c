import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startBackstopReceiver, type BackstopReceiver } from './backstop-receiver.js';
import { DaemonProcess } from './daemon.js';
import { TestContainers } from './docker.js';
import { freePort } from './services.js';

/** A file system of the test's own, mounted at `dir`. */
export interface TestMount {
  readonly dir: string;
}

/** An ext4 image on a loop device, mounted with errors=remount-ro. */
export interface Ext4Mount extends TestMount {
  /** Makes ext4 record an error, which remounts it read-only at once (as a failing disk would). */
  fail(): void;
}

/**
 * What the delivery and fault tests share: the built daemon at `--poll 1s` scoped to the test's
 * containers, Backstop receivers, temporary folders and mounts, all undone by cleanup() (for an
 * after hook: daemons first, so that nothing holds a mount when it is unmounted).
 */
export class DeliveryRig {
  readonly containers = new TestContainers();
  readonly #daemons: DaemonProcess[] = [];
  readonly #receivers: BackstopReceiver[] = [];
  readonly #tmp: string[] = [];
  readonly #mounts: string[] = [];

  /** The daemon on the local Engine, following only this rig's containers, ticking every second. */
  daemon(args: readonly string[]): DaemonProcess {
    const scope = ['--docker', 'unix:///var/run/docker.sock', '--label', this.containers.label, '--poll', '1s'];
    const d = new DaemonProcess([...scope, ...args]);
    this.#daemons.push(d);
    return d;
  }

  /**
   * A receiver, on `port` to come back where a closed one was; else on a free port outside the
   * kernel's ephemeral range (freePort), where no other file's connection takes it while it is down.
   */
  async receiver(port?: number): Promise<BackstopReceiver> {
    const r = await startBackstopReceiver({ port: port ?? (await freePort()) });
    this.#receivers.push(r);
    return r;
  }

  tempDir(prefix = 'dstb-delivery-'): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.#tmp.push(d);
    return d;
  }

  /** A tmpfs of `size` (mount's syntax: 96k, 1m) on a fresh folder. */
  tmpfs(size: string): TestMount {
    const dir = this.tempDir('dstb-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    this.#mounts.push(dir);
    return { dir };
  }

  /** A fresh ext4 file system of `sizeMiB` on a loop device (freed on unmount), errors=remount-ro. */
  ext4(sizeMiB: number): Ext4Mount {
    const image = join(this.tempDir('dstb-ext4-'), 'fs.img');
    execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image]);
    const dir = this.tempDir('dstb-ext4-mnt-');
    execFileSync('mount', ['-o', 'loop,errors=remount-ro', image, dir]);
    this.#mounts.push(dir);
    const device = basename(execFileSync('findmnt', ['-n', '-o', 'SOURCE', dir], { encoding: 'utf8' }).trim());
    return {
      dir,
      fail: () => execFileSync('sh', ['-c', `echo 1 > /sys/fs/ext4/${device}/trigger_fs_error`]),
    };
  }

  /** Whether writing a file in `dir` fails with EROFS (ext4's emergency read-only still lists `rw` in /proc/mounts). */
  static readOnly(dir: string): boolean {
    try {
      writeFileSync(join(dir, '.probe'), '');
      rmSync(join(dir, '.probe'));
      return false;
    } catch (err) {
      return (err as { code?: string }).code === 'EROFS';
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#daemons.map((d) => d.kill()));
    await Promise.all(this.#receivers.map((r) => r.close()));
    for (const m of this.#mounts.reverse()) execFileSync('umount', ['-l', m]);
    for (const d of this.#tmp.reverse()) rmSync(d, { recursive: true, force: true });
    await this.containers.cleanup();
  }
}

/** The seconds a set of receivers got a point of `path` for, sorted, without duplicates. */
export function secondsOf(path: string, ...receivers: readonly BackstopReceiver[]): number[] {
  const seconds = new Set(
    receivers.flatMap((r) => r.points.filter((p) => p.metric === path).map((p) => p.measure_time)),
  );
  return [...seconds].sort((a, b) => a - b);
}

/** The seconds after which a sorted list of seconds skips some. */
export function gaps(seconds: readonly number[]): number[] {
  return seconds.filter((s, i) => i > 0 && s - seconds[i - 1]! > 1);
}

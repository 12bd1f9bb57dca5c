import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The local image scripts/ensure-docker.sh builds from the host's busybox. */
export const IMAGE = process.env['DSTB_IMAGE'] ?? 'dstb-busybox:latest';

/** Runs the docker CLI; resolves with its trimmed stdout. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await exec('docker', args, { maxBuffer: 16 << 20 });
  return stdout.trim();
}

/**
 * The whole disk holding `path` (`/dev/vda`, not a partition), or undefined when it is on no block
 * device. With cgroup v1 the kernel counts a group's block I/O (`blkio.throttle.*`, which the
 * Engine reports too) only once blk-throttle is active on the device, which a container given a
 * `--device-write-bps` limit on it turns on (and leaves on: seen on Linux 6.18, where the first CI
 * run on a machine just booted saw no block I/O): tests that assert block I/O give their container
 * a limit on this disk far above what it writes.
 */
export async function diskOf(path: string): Promise<string | undefined> {
  const source = (await exec('findmnt', ['-nvo', 'SOURCE', '-T', path])).stdout.trim();
  if (!source.startsWith('/dev/')) return undefined;
  const [type, parent] = (await exec('lsblk', ['-ndo', 'TYPE,PKNAME', source])).stdout.trim().split(/\s+/);
  return type === 'part' && parent ? `/dev/${parent}` : source;
}

/** The whole disk under Docker's root dir, where a container's own files are (diskOf). */
export async function dockerDisk(): Promise<string | undefined> {
  return diskOf(await docker('info', '--format', '{{.DockerRootDir}}'));
}

/** A stats stream of the test's own on a container: how many samples the Engine has sent on it. */
export interface StatsWatch {
  readonly samples: number;
  close(): void;
}

/**
 * Opens `GET /containers/<name>/stats?stream=true` on the local Engine and counts its lines. The
 * Engine sends each sample it takes to every open stream of that container at once, so a count
 * on this stream says what the daemon's stream of the same container has been sent too.
 */
export function watchStats(name: string, socketPath = '/var/run/docker.sock'): StatsWatch {
  let samples = 0;
  const req = get({ socketPath, path: `/containers/${encodeURIComponent(name)}/stats?stream=true` }, (res) => {
    res.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) samples += 1;
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  return {
    get samples() {
      return samples;
    },
    close: () => req.destroy(),
  };
}

/**
 * Containers of one test file: all carry the label `dstb.test=<run id>`, and the daemons under
 * test are scoped to that label, so tests never see or touch anything else. `cleanup` removes
 * every container the run created.
 */
export class TestContainers {
  readonly run = `t${randomBytes(4).toString('hex')}`;
  readonly label = `dstb.test=${this.run}`;

  /** A unique container name: `<run>-<suffix>` (dots allowed, for rewrite rules). */
  name(suffix: string): string {
    return `${this.run}-${suffix}`;
  }

  /** Starts a detached container running `cmd` (default: sleep forever); returns its id. */
  async start(name: string, opts: { args?: string[]; cmd?: string[] } = {}): Promise<string> {
    return docker(
      'run',
      '-d',
      '--label',
      this.label,
      '--name',
      name,
      ...(opts.args ?? []),
      IMAGE,
      ...(opts.cmd ?? ['sleep', '2147483647']),
    );
  }

  /**
   * Starts sleeping containers named `c<from>` … `c<to - 1>`, ten at a time (as cleanup() removes
   * them); returns their ids in that order.
   */
  async startMany(from: number, to: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = from; i < to; i += 10) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(10, to - i) }, (_, j) => this.start(this.name(`c${i + j}`))),
        )),
      );
    }
    return ids;
  }

  /** Each running container's id and init PID, in the order given. */
  async initPids(ids: readonly string[]): Promise<{ id: string; pid: number }[]> {
    return (await docker('inspect', '-f', '{{.Id}} {{.State.Pid}}', ...ids)).split('\n').map((line) => {
      const [id, pid] = line.split(' ');
      return { id: id!, pid: Number(pid) };
    });
  }

  /**
   * Ten at a time: `docker rm -f` removes the containers it is given all at once, and Docker
   * 20.10 hung here removing a hundred that way (every removal waiting in libnetwork's
   * releaseNetwork, the Engine answering nothing until restarted).
   */
  async cleanup(): Promise<void> {
    const ids = (await docker('ps', '-aq', '--filter', `label=${this.label}`)).split('\n').filter((id) => id !== '');
    for (let i = 0; i < ids.length; i += 10) await docker('rm', '-f', ...ids.slice(i, i + 10));
  }
}

/**
 * How to read a cgroup sample's files: cost per container sample on the real kernel files of real
 * containers (N busybox containers, label-scoped, removed afterwards). Each strategy reads, for
 * every container in turn, the files src/cgroup/reader.ts reads for one sample (the group's
 * files, /proc/<pid>/net/dev and /proc/stat), for R rounds; a run repeats the strategies in turn K
 * times so that a noisy neighbour on the shared cores shows as spread. Reported: wall µs and CPU µs
 * (user + system of this process) per container sample, median and range over the K repeats.
 *
 *   npx tsx bench/cgroup-read.ts [N=100] [R=20] [K=5] [paced]
 *
 * `paced`: each round a second after the last, as the daemon reads (caches are cold then: a
 * file's read costs several times what it does in back-to-back rounds), with only the kept-fd
 * strategies and reader.read().
 *
 * Strategies:
 * - readFileSync: fs.readFileSync(path, 'latin1') per file (open, fstat, read…, close)
 * - open+read+close: openSync, readSync into one shared buffer until EOF, closeSync
 * - kept fd + pread 0: every file opened once, then readSync(fd, buf, 0, len, 0) each round
 * - kept fd, net/dev opened each round: the same, but /proc/<pid>/net/dev opened, read, closed
 * - promises.readFile: await fs.promises.readFile per file, a container's files in parallel
 * - kept FileHandle + read 0: FileHandle.read at position 0, a container's files in parallel
 * - reader.read(): the module itself, parsing and computing included (its choice: kept fds)
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { openCgroupReader, type CgroupReader } from '../src/cgroup/reader.js';
import type { CgroupTarget } from '../src/cgroup/locate.js';
import { TestContainers } from '../test/helpers/docker.js';
import { log, median, round, sleepMs } from './lib.js';

const N = Number(process.argv[2] ?? 100);
const R = Number(process.argv[3] ?? 20);
const K = Number(process.argv[4] ?? 5);
const PACED = process.argv[5] === 'paced';

interface Strategy {
  readonly name: string;
  /** Reads every container's files once; files[c] are container c's paths. */
  run(files: readonly (readonly string[])[]): void | Promise<void>;
  close?(): Promise<void> | void;
}

const buf = Buffer.allocUnsafe(64 * 1024);

function readOpenClose(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n <= 0) break;
      length += n;
    }
    return buf.toString('latin1', 0, length);
  } finally {
    closeSync(fd);
  }
}

function keptFds(reopenNetDev = false): Strategy {
  const fds = new Map<string, number>();
  return {
    name: reopenNetDev ? 'kept fd, net/dev opened each round' : 'kept fd + pread 0',
    run(files) {
      for (const list of files) {
        for (const path of list) {
          if (reopenNetDev && path.endsWith('/net/dev')) {
            readOpenClose(path);
            continue;
          }
          let fd = fds.get(path);
          if (fd === undefined) {
            fd = openSync(path, 'r');
            fds.set(path, fd);
          }
          const n = readSync(fd, buf, 0, buf.length, 0);
          buf.toString('latin1', 0, n);
        }
      }
    },
    close() {
      for (const fd of fds.values()) closeSync(fd);
    },
  };
}

function keptHandles(): Strategy {
  const handles = new Map<string, FileHandle>();
  const bufs = new Map<string, Buffer>();
  return {
    name: 'kept FileHandle + read 0',
    async run(files) {
      for (const list of files) {
        await Promise.all(
          list.map(async (path) => {
            let fh = handles.get(path);
            if (fh === undefined) {
              fh = await open(path, 'r');
              handles.set(path, fh);
            }
            let b = bufs.get(path);
            if (b === undefined) {
              b = Buffer.allocUnsafe(16 * 1024);
              bufs.set(path, b);
            }
            const { bytesRead } = await fh.read(b, 0, b.length, 0);
            b.toString('latin1', 0, bytesRead);
          }),
        );
      }
    },
    async close() {
      await Promise.all([...handles.values()].map((h) => h.close()));
    },
  };
}

function strategies(reader: CgroupReader, targets: readonly CgroupTarget[]): Strategy[] {
  const readerRead: Strategy = {
    name: 'reader.read() (parse included)',
    run() {
      for (const t of targets) {
        const r = reader.read(t);
        if (r.kind !== 'sample') throw new Error(`${t.containerId}: ${JSON.stringify(r)}`);
      }
    },
  };
  if (PACED) return [keptFds(), keptFds(true), readerRead];
  return [
    {
      name: 'readFileSync',
      run(files) {
        for (const list of files) for (const path of list) readFileSync(path, 'latin1');
      },
    },
    {
      name: 'open+read+close',
      run(files) {
        for (const list of files) for (const path of list) readOpenClose(path);
      },
    },
    keptFds(),
    {
      name: 'promises.readFile',
      async run(files) {
        for (const list of files) await Promise.all(list.map((path) => readFile(path, 'latin1')));
      },
    },
    keptHandles(),
    readerRead,
  ];
}

async function main(): Promise<void> {
  const opened = openCgroupReader({ hostProc: '/proc', cgroupRoot: '/sys/fs/cgroup', now: Date.now });
  if (opened.kind !== 'ready') throw new Error(`cgroup reader: ${JSON.stringify(opened)}`);
  const reader = opened.reader;
  const containers = new TestContainers();
  try {
    log(`starting ${N} containers (label ${containers.label})…`);
    const ids = await containers.startMany(0, N);
    const targets: CgroupTarget[] = [];
    for (const { id, pid } of await containers.initPids(ids)) {
      const located = reader.locate(id, pid);
      if (located.kind !== 'located') throw new Error(`${id}: ${JSON.stringify(located)}`);
      targets.push(located.target);
    }
    const files = targets.map((t) => [
      ...(t.netDev ? [t.netDev] : []),
      ...t.files.map((f) => f.path),
      join('/proc', 'stat'),
    ]);
    const pacing = PACED ? ', a round a second' : '';
    log(`cgroup v${reader.version}, ${files[0]!.length} files per sample; ${R} rounds × ${K} repeats${pacing}`);

    const list = strategies(reader, targets);
    const figures = new Map<string, { wall: number[]; cpu: number[] }>(
      list.map((s) => [s.name, { wall: [], cpu: [] }]),
    );
    for (const s of list) await s.run(files); // warm-up (and the kept strategies open their files)
    for (let k = 0; k < K; k++) {
      for (const s of list) {
        let wallMs = 0;
        let cpuUs = 0;
        for (let r = 0; r < R; r++) {
          if (PACED) await sleepMs(1000);
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await s.run(files);
          wallMs += performance.now() - t0;
          const c = process.cpuUsage(c0);
          cpuUs += c.user + c.system;
        }
        figures.get(s.name)!.wall.push((wallMs * 1000) / (R * N));
        figures.get(s.name)!.cpu.push(cpuUs / (R * N));
      }
    }
    for (const s of list) await s.close?.();

    const out = [
      `| strategy (${N} containers, ${files[0]!.length} files per sample${pacing}) ` +
        '| wall µs per sample, median (range) | CPU µs per sample, median (range) |',
      '|---|---|---|',
    ];
    for (const [name, f] of figures) {
      const fmt = (xs: number[]): string =>
        `${round(median(xs), 0)} (${round(Math.min(...xs), 0)}–${round(Math.max(...xs), 0)})`;
      out.push(`| ${name} | ${fmt(f.wall)} | ${fmt(f.cpu)} |`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    log('removing the containers…');
    await containers.cleanup();
  }
}

await main();

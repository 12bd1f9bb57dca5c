/**
 * Container churn on the real Engine, for the record (test/integration/churn.test.ts is the short,
 * asserting version): the built daemon follows this run's label with --poll 1s while N short-lived
 * labelled containers are started, stopped and removed, P at a time; each cycle waits until the
 * daemon has opened the container's stats stream. Prints the daemon's open descriptors
 * (/proc/<pid>/fd), RSS and streams_open self-metric before, every 100 cycles, and after the churn
 * once things settled. Fails nothing; removes its containers.
 *
 *   npm run --silent build && npx tsx bench/churn.ts [cycles=1000] [parallel=6]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { docker, TestContainers } from '../test/helpers/docker.js';
import { waitFor } from '../test/helpers/wait.js';

const cycles = Number(process.argv[2] ?? 1000);
const parallel = Number(process.argv[3] ?? 6);
const SELF = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}.docker_stats_to_backstop.`;

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

const containers = new TestContainers();
const anchor = containers.name('anchor');
const daemon = new DaemonProcess([
  '--docker',
  'unix:///var/run/docker.sock',
  '--label',
  containers.label,
  '--poll',
  '1s',
  '--verbose',
]);
const pid = daemon.child.pid!;

// Followed line by line: the latest self-metrics, and the containers whose stream was opened.
const self = new Map<string, { value: number; time: number }>();
const opened = new Set<string>();
let outRest = '';
let errRest = '';
daemon.child.stdout!.on('data', (b: Buffer) => {
  const parts = (outRest + b.toString()).split('\n');
  outRest = parts.pop()!;
  for (const line of parts) {
    if (!line.startsWith(SELF)) continue;
    const [path, value, time] = line.split(' ');
    self.set(path!.slice(SELF.length), { value: Number(value), time: Number(time) });
  }
});
daemon.child.stderr!.on('data', (b: Buffer) => {
  const parts = (errRest + b.toString()).split('\n');
  errRest = parts.pop()!;
  for (const line of parts) {
    const m = /stats stream open container=(\S+)/.exec(line);
    if (m) opened.add(m[1]!);
  }
});
const streamsOpen = (since = 0): number | undefined => {
  const m = self.get('streams_open');
  return m && m.time >= since ? m.value : undefined;
};
const figures = (label: string): void => {
  console.log(
    `${label.padEnd(22)} fds ${String(fdCount(pid)).padStart(4)}  RSS ${rssMb(pid).toFixed(1).padStart(6)} MB  ` +
      `streams_open ${streamsOpen() ?? '?'}  stream_restarts ${self.get('stream_restarts')?.value ?? '?'}`,
  );
};

try {
  await containers.start(anchor);
  await waitFor(() => opened.has(anchor), "the anchor container's stream", 60_000);
  const cycle = async (i: number): Promise<void> => {
    const name = containers.name(`churn-${i}`);
    await containers.start(name);
    await waitFor(() => opened.has(name), `the stream of ${name}`);
    await docker('stop', '-t', '0', name);
    await docker('rm', name);
  };
  let next = 0;
  let done = 0;
  const worker = async (to: number): Promise<void> => {
    while (next < to) {
      await cycle(next++);
      done += 1;
    }
  };
  // Warm-up, then settle for a few ticks before the baseline.
  next = -parallel;
  await Promise.all(Array.from({ length: parallel }, () => worker(0)));
  const settledAt = Math.ceil(Date.now() / 1000);
  await waitFor(() => streamsOpen(settledAt + 2) !== undefined, 'the streams_open self-metric', 60_000).catch(() => {
    console.log('(no streams_open self-metric printed by this build)');
  });
  figures('baseline');
  const started = Date.now();
  next = 0;
  done = 0;
  let reported = 0;
  const progress = setInterval(() => {
    if (done >= reported + 100) {
      reported = done - (done % 100);
      figures(`after ${reported} cycles`);
    }
  }, 250);
  await Promise.all(Array.from({ length: parallel }, () => worker(cycles)));
  clearInterval(progress);
  const seconds = (Date.now() - started) / 1000;
  figures(`churn done (${cycles})`);
  const endedAt = Math.ceil(Date.now() / 1000);
  await waitFor(() => streamsOpen(endedAt + 2) !== undefined, 'a tick after the churn', 30_000).catch(() => {});
  await new Promise((r) => setTimeout(r, 5_000));
  figures('settled (+5 s)');
  const peakMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  console.log(
    `${cycles} cycles, ${parallel} at a time, in ${seconds.toFixed(1)} s ` +
      `(${(cycles / seconds).toFixed(1)} cycles/s); ` +
      `${[...opened].filter((n) => n.includes('-churn-')).length} streams opened; ` +
      `daemon exit code so far ${daemon.child.exitCode}; peak RSS (VmHWM) ${peakMb.toFixed(1)} MB`,
  );
} finally {
  await daemon.stop();
  await containers.cleanup();
}

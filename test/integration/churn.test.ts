import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, TestContainers } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';
import { HOST_PATH } from '../helpers/host-path.js';

/**
 * Container churn on the real Engine: many short-lived labelled containers are started, stopped
 * and removed while the daemon (scoped to this run's label) follows them. Afterwards its open
 * streams, file descriptors and memory must come back to where they were before the churn.
 *
 * DSTB_CHURN_CYCLES (default 60) cycles, DSTB_CHURN_PARALLEL (default 4) at a time. Each cycle
 * waits until the daemon has opened the container's stats stream (its debug log), so that every
 * cycle really opens and closes a stream. bench/churn.ts does the same with 1,000 cycles.
 */

const CYCLES = Number(process.env['DSTB_CHURN_CYCLES'] ?? 60);
const PARALLEL = Number(process.env['DSTB_CHURN_PARALLEL'] ?? 4);
const FD_SLACK = 3;
const RSS_SLACK = 30 * 1024 * 1024;
const MB = 1024 * 1024;
const SELF = `${HOST_PATH}.docker_stats_to_backstop.`;

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const rssBytes = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

/**
 * Follows the daemon's output line by line (not by rescanning everything it printed): the latest
 * value and time of each self-metric, and the containers whose stats stream it opened.
 */
class Follow {
  readonly self = new Map<string, { value: number; time: number }>();
  readonly opened = new Map<string, number>();
  #out = '';
  #err = '';

  constructor(d: DaemonProcess) {
    d.child.stdout!.on(
      'data',
      (b: Buffer) => (this.#out = this.#lines(this.#out + b.toString(), (l) => this.#stdout(l))),
    );
    d.child.stderr!.on(
      'data',
      (b: Buffer) => (this.#err = this.#lines(this.#err + b.toString(), (l) => this.#stderr(l))),
    );
  }

  #lines(text: string, each: (line: string) => void): string {
    const parts = text.split('\n');
    const rest = parts.pop()!;
    for (const line of parts) each(line);
    return rest;
  }

  #stdout(line: string): void {
    if (!line.startsWith(SELF)) return;
    const [path, value, time] = line.split(' ');
    this.self.set(path!.slice(SELF.length), { value: Number(value), time: Number(time) });
  }

  #stderr(line: string): void {
    const m = /stats stream open container=(\S+)/.exec(line);
    if (m) this.opened.set(m[1]!, (this.opened.get(m[1]!) ?? 0) + 1);
  }
}

describe('container churn on the real Engine', () => {
  const containers = new TestContainers();
  let daemon: DaemonProcess | undefined;

  after(async () => {
    await daemon?.kill();
    await containers.cleanup();
  });

  it(`${CYCLES} start/stop/remove cycles leave no stream, descriptor or memory behind`, async () => {
    // One long-lived container, so that the baseline already has a stream and a Docker connection.
    const anchor = containers.name('anchor');
    await containers.start(anchor);
    daemon = new DaemonProcess([
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      containers.label,
      '--poll',
      '1s',
      '--verbose',
    ]);
    const d = daemon;
    const pid = d.child.pid!;
    const follow = new Follow(d);
    const selfValue = (name: string, since = 0): number | undefined => {
      const m = follow.self.get(name);
      return m && m.time >= since ? m.value : undefined;
    };

    const cycle = async (i: number): Promise<void> => {
      const name = containers.name(`churn-${i}`);
      await containers.start(name);
      await waitFor(
        () => follow.opened.has(name),
        () => `the daemon to open the stream of ${name}; stderr:\n${d.stderr.slice(-2000)}`,
      );
      await docker('stop', '-t', '0', name);
      await docker('rm', name);
    };
    const churn = async (from: number, to: number): Promise<void> => {
      let next = from;
      const worker = async (): Promise<void> => {
        while (next < to) await cycle(next++);
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
    };

    // Settle: the anchor's stream open, two warm-up cycles (first-use allocations are not leaks),
    // then a few ticks of quiet.
    await waitFor(
      () => follow.opened.has(anchor),
      () => `the anchor's stream; stderr:\n${d.stderr}`,
      60_000,
    );
    await churn(-2, 0);
    const settledAt = Math.ceil(Date.now() / 1000);
    const baseStreams = await waitFor(
      () => {
        const v = selfValue('streams_open', settledAt + 2);
        return v !== undefined ? { v } : undefined;
      },
      () =>
        `the streams_open self-metric after the warm-up (latest ${JSON.stringify(follow.self.get('streams_open'))})`,
    ).then((r) => r.v);
    assert.equal(baseStreams, 1, 'the anchor alone');
    const baseFds = fdCount(pid);
    const baseRss = rssBytes(pid);

    const started = Date.now();
    let peakRss = baseRss;
    let peakFds = baseFds;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssBytes(pid));
        peakFds = Math.max(peakFds, fdCount(pid));
      } catch {
        // exited: asserted below
      }
    }, 200);
    try {
      await churn(0, CYCLES);
    } finally {
      clearInterval(sampler);
    }
    const churnSeconds = (Date.now() - started) / 1000;
    assert.equal(d.child.exitCode, null, 'the daemon is still running');

    const endedAt = Math.ceil(Date.now() / 1000);
    const streamsAfter = await waitFor(
      () => {
        const v = selfValue('streams_open', endedAt + 1);
        return v === baseStreams ? { v } : undefined;
      },
      () => `streams_open back to ${baseStreams} (latest ${JSON.stringify(follow.self.get('streams_open'))})`,
      60_000,
    ).then((r) => r.v);
    let fdsAfter = fdCount(pid);
    try {
      const fdsBack = (): boolean => {
        fdsAfter = fdCount(pid);
        return fdsAfter <= baseFds + FD_SLACK;
      };
      await waitFor(fdsBack, `fds back to ${baseFds} + ${FD_SLACK}`, 30_000);
    } catch {
      // reported with the figures below
    }
    let rssAfter = rssBytes(pid);
    try {
      const rssBack = (): boolean => {
        rssAfter = rssBytes(pid);
        return rssAfter <= baseRss + RSS_SLACK;
      };
      await waitFor(rssBack, 'RSS back within slack', 30_000);
    } catch {
      // reported with the figures below
    }
    const opens = [...follow.opened].filter(([name]) => name.includes('-churn-')).length;
    const restarts = selfValue('stream_restarts');
    console.log(
      `# churn: ${CYCLES} cycles (${PARALLEL} at a time) in ${churnSeconds.toFixed(1)} s; ${opens} streams opened; ` +
        `streams_open ${baseStreams} -> ${streamsAfter}; stream_restarts ${restarts}`,
    );
    console.log(`# churn: fds ${baseFds} before, ${peakFds} peak, ${fdsAfter} after`);
    console.log(
      `# churn: RSS ${(baseRss / MB).toFixed(1)} MB before, ${(peakRss / MB).toFixed(1)} MB peak, ` +
        `${(rssAfter / MB).toFixed(1)} MB after`,
    );
    assert.ok(
      fdsAfter <= baseFds + FD_SLACK,
      `open descriptors back to baseline: ${baseFds} before, ${fdsAfter} after`,
    );
    assert.ok(
      rssAfter <= baseRss + RSS_SLACK,
      `RSS grew by ${((rssAfter - baseRss) / MB).toFixed(1)} MB (allowed ${RSS_SLACK / MB} MB)`,
    );
    assert.equal(opens, CYCLES + 2, 'one stream per churned container (warm-up included)');
    // A listener left on a socket, a stream or an abort signal per stream shows up as Node's warning.
    assert.doesNotMatch(d.stderr, /MaxListenersExceededWarning|\(node:\d+\) \w*Warning/, 'no warning from Node');
    assert.equal(
      await docker('ps', '-aq', '--filter', `label=${containers.label}`, '--filter', 'name=churn').then((s) => s),
      '',
    );
  });
});

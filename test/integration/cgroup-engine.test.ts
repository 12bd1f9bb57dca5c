import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CgroupTarget } from '../../src/cgroup/locate.js';
import { openCgroupReader, type CgroupReader } from '../../src/cgroup/reader.js';
import type { DockerStats } from '../../src/docker/stats-types.js';
import { cpuPercent } from '../../src/reduce/docker-math.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import { stealShare } from '../helpers/host-steal.js';
import { diskOf, docker, TestContainers } from '../helpers/docker.js';

/**
 * The cgroup reader against the real Engine on this host: for real containers, the values read from
 * the kernel and the Engine's own stats (GET /containers/{id}/stats, one-shot) taken just before
 * and just after. Counters must lie between the Engine's two readings; limits must be equal; the
 * CPU % over one second must agree with the Engine's over the same second within a few points.
 */

/** One real sample from the Engine, at once (one-shot: no precpu, not needed here). */
function engineSample(id: string): Promise<SampleValues> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: '/var/run/docker.sock', path: `/v1.41/containers/${id}/stats?stream=false&one-shot=true` },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const values = sampleValues(JSON.parse(body) as DockerStats);
          if (values) resolve(values);
          else reject(new Error(`no real sample for ${id}: ${body.slice(0, 200)}`));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('cgroup reader against the Engine, on this host', () => {
  const containers = new TestContainers();
  const vol = mkdtempSync(join(tmpdir(), 'dstb-cgroup-vol-'));
  let reader: CgroupReader;
  let busy: string;
  let limited: string;

  before(async () => {
    const opened = openCgroupReader({ hostProc: '/proc', cgroupRoot: '/sys/fs/cgroup', now: Date.now });
    assert.equal(opened.kind, 'ready', JSON.stringify(opened));
    reader = (opened as { reader: CgroupReader }).reader;
    busy = await containers.start(containers.name('busy'), {
      args: ['--cpus', '0.5'],
      cmd: ['sh', '-c', 'while :; do :; done'],
    });
    // A write limit far above what it writes: the kernel counts block I/O only once blk-throttle is
    // active on the device (diskOf), and on a machine just booted nothing else may have made it so.
    const disk = await diskOf(vol);
    limited = await containers.start(containers.name('limited'), {
      args: [
        '--memory',
        '64m',
        '--pids-limit',
        '50',
        '-v',
        `${vol}:/data`,
        ...(disk ? ['--device-write-bps', `${disk}:1gb`] : []),
      ],
      cmd: [
        'sh',
        '-c',
        'dd if=/dev/zero of=/data/f bs=1M count=4 oflag=direct 2>/dev/null; ' +
          'dd if=/data/f of=/dev/null bs=1M iflag=direct 2>/dev/null; ' +
          'gw=$(ip route | awk "/default/ {print \\$3}"); ping -c 3 -i 0.2 "$gw" >/dev/null; ' +
          'touch /tmp/done; exec sleep 2147483647',
      ],
    });
    for (
      let i = 0;
      !(await docker('exec', limited, 'ls', '/tmp/done').then(
        () => true,
        () => false,
      ));
      i++
    ) {
      assert.ok(i < 120, 'the limited container finished its I/O and pings within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  after(async () => {
    await containers.cleanup();
    rmSync(vol, { recursive: true, force: true });
  });

  const locate = async (id: string): Promise<CgroupTarget> => {
    const l = reader.locate(id, (await containers.initPids([id]))[0]!.pid);
    assert.equal(l.kind, 'located', JSON.stringify(l));
    return (l as { target: CgroupTarget }).target;
  };

  const read = (target: CgroupTarget): SampleValues => {
    const r = reader.read(target);
    assert.equal(r.kind, 'sample', JSON.stringify(r));
    return (r as { values: SampleValues }).values;
  };

  /** Engine, reader, Engine: the reader's counters between the Engine's, its limits equal. */
  async function compare(id: string): Promise<SampleValues> {
    const target = await locate(id);
    const e1 = await engineSample(id);
    const ours = read(target);
    const e2 = await engineSample(id);
    const between = (
      name: keyof SampleValues | string,
      v: number | undefined,
      a: number | undefined,
      b: number | undefined,
    ): void => {
      assert.ok(v !== undefined && a !== undefined && b !== undefined, `${name}: ${v} ${a} ${b}`);
      assert.ok(Math.min(a, b) <= v && v <= Math.max(a, b), `${name}: ${v} not within the Engine's [${a}, ${b}]`);
    };
    for (const key of [
      'cpuSystem',
      'cpuTotal',
      'cpuKernel',
      'cpuUser',
      'throttledPeriods',
      'throttledTime',
      'memoryPgfault',
      'memoryPgmajfault',
    ] as const) {
      between(key, ours[key], e1[key], e2[key]);
    }
    for (const key of ['cpuOnline', 'memoryLimit', 'pidsLimit', 'pidsCurrent', 'memoryMaxUsage'] as const) {
      assert.equal(ours[key], e2[key], key);
    }
    // Memory in use moves by a few pages between readings (per-CPU charge batching): within 10 %.
    for (const key of ['memoryUsage', 'memoryCache', 'memoryRss', 'memoryInactiveFile'] as const) {
      const [v, a, b] = [ours[key], e1[key], e2[key]];
      assert.ok(v !== undefined && a !== undefined && b !== undefined, key);
      const lo = Math.min(a, b) * 0.9;
      const hi = Math.max(a, b) * 1.1;
      assert.ok(lo <= v && v <= hi, `${key}: ${v} not within 10 % of the Engine's [${a}, ${b}]`);
    }
    assert.deepEqual(
      ours.interfaces.map((i) => i.name),
      e2.interfaces.map((i) => i.name),
    );
    for (const field of ['rx_bytes', 'rx_packets', 'tx_bytes', 'tx_packets', 'rx_dropped', 'tx_dropped'] as const) {
      between(`network.${field}`, ours.network?.[field], e1.network?.[field], e2.network?.[field]);
    }
    assert.deepEqual(ours.blkioRead, e2.blkioRead);
    assert.deepEqual(ours.blkioWrite, e2.blkioWrite);
    return ours;
  }

  it("a busy container under a CPU quota: CPU counters and throttling between the Engine's readings", async () => {
    // Whether it is throttled at all depends on what else runs on the shared cores: not asserted.
    const ours = await compare(busy);
    assert.ok(ours.cpuTotal! > 0 && ours.throttledPeriods !== undefined);
  });

  it('a container with limits, block I/O and traffic: limits equal, counters between', async () => {
    const ours = await compare(limited);
    assert.equal(ours.memoryLimit, 64 * 1024 * 1024);
    assert.equal(ours.pidsLimit, 50);
    assert.ok(ours.blkioWrite!.total >= 4 * 1024 * 1024, 'the direct writes were counted');
    assert.ok(ours.network!.tx_packets! >= 3, 'the pings were counted');
  });

  it("CPU % over one second agrees with the Engine's over the same second", async () => {
    const target = await locate(busy);
    const stealSince = stealShare();
    const [e1, o1] = [await engineSample(busy), read(target)];
    await new Promise((r) => setTimeout(r, 1000));
    const [e2, o2] = [await engineSample(busy), read(target)];
    const ours = cpuPercent(o1, o2)!;
    const engine = cpuPercent(e1, e2)!;
    // At most the quota; how much of it depends on what else runs on the shared cores. Docker's
    // formula leaves the host's steal out, which raises both figures alike (stealShare).
    const steal = stealSince();
    assert.ok(
      ours > 5 && ours < 60 / (1 - steal),
      `ours ${ours} % (--cpus 0.5), host steal ${(steal * 100).toFixed(1)} %`,
    );
    assert.ok(Math.abs(ours - engine) < 5, `ours ${ours} % vs the Engine's ${engine} %`);
  });

  it('a stopped container is gone; once started again it is found under its new PID', async () => {
    const target = await locate(limited);
    read(target);
    await docker('stop', '-t', '0', limited);
    assert.equal(reader.read(target).kind, 'gone');
    assert.equal(reader.locate(limited, target.pid).kind, 'gone');
    await docker('start', limited);
    const again = await locate(limited);
    assert.notEqual(again.pid, target.pid);
    read(again);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerStats } from '../../src/docker/stats-types.js';
import { hasPodmanPseudoInterface, isPodmanSample } from '../../src/docker/podman.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import { cpuPercent, wallClockCpuPercent } from '../../src/reduce/docker-math.js';
import { fixtureFiles, loadSamples } from '../helpers/fixtures.js';

const podman = loadSamples('podman-4.3-stream.jsonl')[0]!;

/** The captured Podman sample with the CPU fields of another moment. */
function sampleAt(read: string, totalUsage: number, systemUsage: number): DockerStats {
  const cpu = podman.cpu_stats!;
  return {
    ...podman,
    read,
    cpu_stats: { ...cpu, cpu_usage: { ...cpu.cpu_usage, total_usage: totalUsage }, system_cpu_usage: systemUsage },
  };
}

/** Its values, as the store holds them. */
const at = (read: string, totalUsage: number, systemUsage: number): SampleValues =>
  sampleValues(sampleAt(read, totalUsage, systemUsage))!;

// Two consecutive samples of a busy loop (one CPU fully used) on an otherwise quiet 2-CPU host,
// streamed by Podman 4.3.1 five seconds apart (values as it sent them).
const busyFrom = at('2026-11-22T19:40:39.072667032Z', 22_260_307_958, 1_623_344_329_999);
const busyTo = at('2026-11-22T19:40:44.079988556Z', 27_252_046_753, 1_628_871_069_407);

describe('Podman stats', () => {
  it("are recognised by Podman's spellings, and no Docker capture is taken for one", () => {
    assert.equal(isPodmanSample(podman), true);
    for (const file of fixtureFiles().filter((f) => !f.startsWith('podman'))) {
      for (const sample of loadSamples(file)) assert.equal(isPodmanSample(sample), false, file);
    }
  });

  it("give a CPU % from wall-clock time: the busy loop reads 100 %, where Docker's formula reads 180 %", () => {
    const wall = wallClockCpuPercent(busyFrom, busyTo)!;
    assert.ok(Math.abs(wall - 99.69) < 0.01, String(wall));
    // The reducer's cpuPercent recognises Podman's sample and uses wall-clock time too.
    assert.equal(cpuPercent(busyFrom, busyTo), wall);
    // Docker's formula on Podman's system_cpu_usage (busy time only) would read about 180 %.
    const t = (s: SampleValues) => s.cpuTotal!;
    const sys = (s: SampleValues) => s.cpuSystem!;
    const naive = ((t(busyTo) - t(busyFrom)) / (sys(busyTo) - sys(busyFrom))) * 2 * 100;
    assert.ok(naive > 175 && naive < 185, `Docker's formula on Podman's system_cpu_usage: ${naive}`);
  });

  it('give no CPU % without elapsed time or with a counter that went back', () => {
    assert.equal(wallClockCpuPercent(busyFrom, busyFrom), undefined);
    assert.equal(wallClockCpuPercent(busyTo, at('2026-11-22T19:40:49Z', 1_000, 1)), undefined);
    // A stopped container's placeholder has no values at all, so no CPU % either.
    assert.equal(sampleValues(sampleAt('0001-01-01T00:00:00Z', 27_252_046_753, 1_628_871_069_407)), undefined);
  });

  it('carry one pseudo-interface `network`, which is not a real interface', () => {
    assert.equal(hasPodmanPseudoInterface(podman), true);
    const docker = loadSamples('busy-stream.jsonl')[1]!;
    assert.equal(hasPodmanPseudoInterface(docker), false);
    assert.equal(hasPodmanPseudoInterface({ ...podman, networks: { eth0: {}, network: {} } }), false);
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import { containerRef, cpuLimit, cpusetSize } from '../../src/docker/container.js';
import type { ContainerRef } from '../../src/model/container.js';
import { EngineClient, type ContainerSummary } from '../../src/docker/engine.js';
import { countStates, healthFromStatus } from '../../src/docker/states.js';
import { OOM_REPEAT_MS } from '../../src/docker/tracker.js';
import { createLogger } from '../../src/log.js';
import { CarbonPaths, relativePath } from '../../src/naming/carbon-path.js';
import { SinkRunner } from '../../src/pipeline/sink-runner.js';
import { containerMetrics, DEFAULT_METRIC_OPTIONS } from '../../src/reduce/container-metrics.js';
import { exitMetrics, percentOfLimit, stateMetrics } from '../../src/reduce/lifecycle.js';
import type { Metric } from '../../src/model/metric.js';
import type { Sink, Tick } from '../../src/sinks/sink.js';
import { sampleValues } from '../../src/docker/sample-values.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import type { DockerStats } from '../../src/docker/stats-types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { loadSamples } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

describe('cpu.limit from inspect', () => {
  const cases: [string, Parameters<typeof cpuLimit>[0], number | undefined][] = [
    ['NanoCpus (--cpus 1.5)', { NanoCpus: 1_500_000_000, CpuQuota: 0, CpuPeriod: 0, CpusetCpus: '' }, 1.5],
    [
      'NanoCpus wins over quota and cpuset',
      { NanoCpus: 500_000_000, CpuQuota: 300_000, CpuPeriod: 100_000, CpusetCpus: '0-3' },
      0.5,
    ],
    ['quota/period (--cpu-quota 50000 --cpu-period 20000)', { NanoCpus: 0, CpuQuota: 50_000, CpuPeriod: 20_000 }, 2.5],
    ['quota with the default period', { CpuQuota: 150_000, CpuPeriod: 0 }, 1.5],
    ['quota -1 is unlimited: the cpuset', { CpuQuota: -1, CpuPeriod: 100_000, CpusetCpus: '1' }, 1],
    ['cpuset 0-2,4', { CpusetCpus: '0-2,4' }, 4],
    ['unlimited', { NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0, CpusetCpus: '', MemoryReservation: 0 }, undefined],
    ['no HostConfig at all', undefined, undefined],
    [
      'numbers the Engine never sends',
      { NanoCpus: Number.NaN, CpuQuota: Number.POSITIVE_INFINITY, CpusetCpus: 'x' },
      undefined,
    ],
  ];
  for (const [what, host, expected] of cases) it(what, () => assert.equal(cpuLimit(host), expected));

  it('cpuset sizes: ranges, singles, overlaps counted once; garbage is absent', () => {
    const table: [unknown, number | undefined][] = [
      ['0', 1],
      ['0-3', 4],
      ['0-2,4', 4],
      ['4,0-2', 4],
      [' 0-1 , 3 ', 3],
      ['0-3,2-5', 6],
      ['1,1,1', 1],
      ['0-3,1-2', 4],
      ['', undefined],
      ['3-1', undefined],
      ['0-', undefined],
      ['-1', undefined],
      ['a-b', undefined],
      ['0,,1', undefined],
      ['0-2;4', undefined],
      ['1e3', undefined],
      ['0-9999999', undefined],
      ['0-1'.repeat(2000), undefined],
      [42, undefined],
      [null, undefined],
    ];
    for (const [text, size] of table) assert.equal(cpusetSize(text), size, JSON.stringify(text));
  });

  it('inspect facts: limits, and memory.reservation only when set', () => {
    const ref = containerRef('c1', {
      Name: '/web',
      State: { Running: true },
      HostConfig: { NanoCpus: 1_500_000_000, MemoryReservation: 64 << 20 },
    });
    assert.equal(ref.facts.cpuLimit, 1.5);
    assert.equal(ref.facts.memoryReservation, 64 << 20);
    const none = containerRef('c2', { Name: '/db', State: { Running: true }, HostConfig: { MemoryReservation: 0 } });
    assert.deepEqual([none.facts.cpuLimit, none.facts.memoryReservation], [undefined, undefined]);
  });
});

describe('cpu.percent_of_limit', () => {
  it('cpu.percent over the limit, clamped to 0–100, absent without both', () => {
    assert.equal(percentOfLimit(75, 1.5), 50);
    assert.equal(percentOfLimit(150, 1.5), 100);
    assert.equal(percentOfLimit(190, 1.5), 100, 'a burst past the quota within one interval');
    assert.equal(percentOfLimit(-1, 2), 0);
    assert.equal(percentOfLimit(undefined, 2), undefined);
    assert.equal(percentOfLimit(50, undefined), undefined);
    assert.equal(percentOfLimit(50, 0), undefined);
  });

  it('the reducer sends cpu.limit, cpu.percent_of_limit and memory.reservation with the cpu and memory groups', () => {
    const samples = (loadSamples('busy-stream.jsonl') as unknown as DockerStats[])
      .map((s) => sampleValues(s))
      .filter((v): v is SampleValues => !!v);
    const first = samples[0]!;
    const latest = samples.at(-1)!;
    const facts = { cpuLimit: 0.5, memoryReservation: 1 << 20, oomEvents: 2 };
    const stamp = { subject: { kind: 'host' } as const, time: 1 };
    const byName = (ms: Metric[]): Map<string, number> => new Map(ms.map((m) => [m.name, m.value]));
    const all = byName(containerMetrics(first, latest, facts, DEFAULT_METRIC_OPTIONS, stamp));
    const percent = all.get('cpu.percent')!;
    assert.ok(percent > 0);
    assert.equal(all.get('cpu.limit'), 0.5);
    assert.equal(all.get('cpu.percent_of_limit'), Math.min(100, percent / 0.5));
    assert.equal(all.get('memory.reservation'), 1 << 20);
    assert.equal(all.get('oom_kills'), 2);
    const bare = byName(
      containerMetrics(first, latest, facts, { ...DEFAULT_METRIC_OPTIONS, groups: new Set(['network']) }, stamp),
    );
    assert.deepEqual(
      ['cpu.limit', 'cpu.percent_of_limit', 'memory.reservation'].filter((n) => bare.has(n)),
      [],
    );
    assert.equal(bare.get('oom_kills'), 2, 'oom_kills whatever --metrics says');
  });
});

describe('containers_state and containers_health from one list', () => {
  it('health from the Status text', () => {
    const table: [unknown, string | undefined][] = [
      ['Up 5 minutes (healthy)', 'healthy'],
      ['Up 2 seconds (health: starting)', 'starting'],
      ['Up 3 hours (unhealthy)', 'unhealthy'],
      ['Up 5 minutes', undefined],
      ['Up 5 minutes (Paused)', undefined],
      ['Exited (3) 2 seconds ago', undefined],
      ['Up (healthy) 5 minutes', undefined],
      ['(healthy', undefined],
      ['', undefined],
      [undefined, undefined],
      [42, undefined],
    ];
    for (const [status, health] of table) assert.equal(healthFromStatus(status), health, String(status));
  });

  it('counts only the entries that pass the filter; all keys, 0 included; odd entries skipped', () => {
    const entry = (
      name: string,
      State: string,
      Status: string,
      Labels: Record<string, string> = { t: '1' },
    ): ContainerSummary => ({
      Id: name,
      Names: [`/${name}`],
      Labels,
      State,
      Status,
    });
    const list = [
      entry('web.1', 'running', 'Up 1 minute (healthy)'),
      entry('web.2', 'running', 'Up 1 minute (health: starting)'),
      entry('web.3', 'paused', 'Up 1 minute (Paused)'),
      entry('job.1', 'exited', 'Exited (3) 1 second ago'),
      entry('job.2', 'dead', 'Dead'),
      entry('job.3', 'removing', 'Removal In Progress'),
      entry('skip.1', 'running', 'Up 1 minute (unhealthy)'),
      entry('other.1', 'running', 'Up 1 minute (unhealthy)', { t: '2' }),
      { Id: 'x', Names: null, Labels: null, State: 'created', Status: 'Created' },
      { Id: 'l', Names: ['/web.1/alias', '/linked.1'], Labels: { t: '1' }, State: 'restarting', Status: 'Restarting' },
      { Id: 'k', Names: ['/skip.1/alias', '/skip.2'], Labels: { t: '1' }, State: 'restarting', Status: 'Restarting' },
      null as unknown as ContainerSummary,
      { Id: 'y', State: '__proto__', Status: 42 } as unknown as ContainerSummary,
    ];
    const filter = { include: [], exclude: [/^skip\./], labels: [{ key: 't', value: '1' }] };
    assert.deepEqual(countStates(list, filter), {
      state: { running: 2, paused: 1, restarting: 1, exited: 1, created: 0, dead: 1 },
      health: { healthy: 1, unhealthy: 0, starting: 1 },
      ids: new Set(['web.1', 'web.2', 'web.3', 'job.1', 'job.2', 'job.3', 'l']),
    });
    const open = { include: [], exclude: [], labels: [] };
    assert.equal(countStates(list, open).state.created, 1);
  });

  it('host metrics: containers_state.<state> and containers_health.<health>, at the tick', () => {
    const metrics = stateMetrics(
      {
        state: { running: 2, paused: 1, restarting: 0, exited: 1, created: 0, dead: 0 },
        health: { healthy: 1, unhealthy: 0, starting: 0 },
        ids: new Set(),
      },
      1000,
    );
    assert.deepEqual(
      metrics.map((m) => `${relativePath(m)}=${m.value}@${m.time}`),
      [
        'containers_state.running=2@1000',
        'containers_state.paused=1@1000',
        'containers_state.restarting=0@1000',
        'containers_state.exited=1@1000',
        'containers_state.created=0@1000',
        'containers_state.dead=0@1000',
        'containers_health.healthy=1@1000',
        'containers_health.unhealthy=0@1000',
        'containers_health.starting=0@1000',
      ],
    );
    assert.ok(metrics.every((m) => m.subject.kind === 'host' && m.kind === 'gauge'));
  });
});

describe('exit metrics', () => {
  it('exit_code and oom_killed, stamped with the second it died; exit code alone when unknown', () => {
    const container: ContainerRef = { id: 'c', name: 'job', image: 'i', labels: {}, facts: {} };
    const metrics = exitMetrics([
      { container, exitCode: 3, oomKilled: false, atMs: 1_000_999 },
      { container, exitCode: 137, oomKilled: true, atMs: 1_002_000 },
      { container, exitCode: 1, oomKilled: undefined, atMs: 1_004_500 },
    ]);
    assert.deepEqual(
      metrics.map((m) => `${m.name}=${m.value}@${m.time}`),
      ['exit_code=3@1000', 'oom_killed=0@1000', 'exit_code=137@1002', 'oom_killed=1@1002', 'exit_code=1@1004'],
    );
    assert.ok(
      metrics.every((m) => m.subject.kind === 'container' && m.subject.container === container && m.kind === 'gauge'),
    );
  });
});

/** Runs the daemon (stream mode, 10 s poll) on the fake clock against the fake Engine, recording every tick. */
function recordingDaemon(argv: string[], clock: FakeClock, lines: string[] = []): { daemon: Daemon; ticks: Tick[] } {
  const outcome = parseConfig({ argv: [...argv, '--poll', '10s'], env: {}, hostname: 'h1', homedir: '/nonexistent' });
  assert.equal(outcome.kind, 'config', JSON.stringify(outcome));
  const config = (outcome as { config: Config }).config;
  const ticks: Tick[] = [];
  const sink: Sink<never> = {
    description: 'ticks',
    maxBatchItems: 1,
    encode: (tick) => {
      ticks.push({ ...tick, metrics: [...tick.metrics] });
      return [];
    },
    itemBytes: () => 0,
    send: async () => {},
    close: async () => {},
  };
  const logger = createLogger((line) => lines.push(line), { level: 'info' });
  const daemon = new Daemon({
    config,
    engine: new EngineClient(config.docker),
    runners: [new SinkRunner(sink, { maxItems: 10, clock, logger })],
    paths: new CarbonPaths({ rules: config.rules, pathPrefix: config.pathPrefix, hostPath: config.hostPath }),
    clock,
    logger,
  });
  return { daemon, ticks };
}

const of = (tick: Tick, container: string, name: string): Metric[] =>
  [...tick.metrics].filter(
    (m) => m.subject.kind === 'container' && m.subject.container.name === container && m.name === name,
  );
const host = (tick: Tick, name: string): Record<string, number> =>
  Object.fromEntries(
    [...tick.metrics].filter((m) => m.subject.kind === 'host' && m.name === name).map((m) => [m.per!.value, m.value]),
  );

describe('lifecycle through the daemon (fake Engine, fake clock)', () => {
  const engines: FakeEngine[] = [];
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });
  const start = async (...args: Parameters<typeof FakeEngine.start>): Promise<FakeEngine> => {
    const e = await FakeEngine.start(...args);
    engines.push(e);
    return e;
  };
  /** Advances to the next tick and waits for it. */
  const nextTick = async (clock: FakeClock, ticks: Tick[], ms = 10_000): Promise<Tick> => {
    const n = ticks.length;
    await clock.advance(ms);
    await waitFor(() => ticks.length === n + 1, `tick ${n + 1}`);
    return ticks[n]!;
  };

  it('a stop reports exit_code and oom_killed once, at the die time; a restart loop one exit per die', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const engine = await start({
      containers: [{ name: 'job.1' }, { name: 'web.1' }],
      intervalMs: 100,
      now: () => clock.now(),
    });
    const { daemon, ticks } = recordingDaemon(['--docker', engine.url], clock);
    const job = engine.container('job.1');
    const inspects = (): number => engine.requests.filter((r) => r.path === `/containers/${job.id}/json`).length;
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 2 && engine.streams.every((s) => s.lines >= 2), 'samples of both');
      const first = await nextTick(clock, ticks, 5_000);
      assert.deepEqual([...of(first, 'job.1', 'exit_code'), ...of(first, 'web.1', 'exit_code')], []);
      await clock.advance(2_000);
      const diedAt = clock.now();
      const before = inspects();
      engine.stopContainer(job.id, { exitCode: 3 });
      await waitFor(() => inspects() === before + 1, 'the inspect after the die');
      const seen: Metric[] = [];
      for (let i = 0; i < 3; i++) {
        const tick = await nextTick(clock, ticks, i === 0 ? 8_000 : 10_000);
        seen.push(...of(tick, 'job.1', 'exit_code'), ...of(tick, 'job.1', 'oom_killed'));
      }
      assert.deepEqual(
        seen.map((m) => `${m.name}=${m.value}@${m.time}`),
        [`exit_code=3@${Math.floor(diedAt / 1000)}`, `oom_killed=0@${Math.floor(diedAt / 1000)}`],
      );
      assert.deepEqual(
        ticks.flatMap((t) => of(t, 'web.1', 'exit_code')),
        [],
        'only the container that stopped',
      );

      // A restart loop, OOM-killed each time: one exit per die.
      for (let round = 0; round < 3; round++) {
        engine.restartContainer(job.id);
        await waitFor(() => inspects() === before + 2 + round * 2, 'the inspect after the start');
        await clock.advance(1_000);
        engine.stopContainer(job.id, { exitCode: 137, oomKilled: true });
        await waitFor(() => inspects() === before + 3 + round * 2, 'the inspect after the die');
      }
      const loop: Metric[] = [];
      for (let i = 0; i < 2; i++) {
        const tick = await nextTick(clock, ticks);
        loop.push(...of(tick, 'job.1', 'exit_code'), ...of(tick, 'job.1', 'oom_killed'));
      }
      assert.deepEqual(loop.map((m) => `${m.name}=${m.value}`).sort(), [
        ...Array(3).fill('exit_code=137'),
        ...Array(3).fill('oom_killed=1'),
      ]);
      assert.equal(new Set(loop.map((m) => m.time)).size, 3, 'each stamped with its own die');
    } finally {
      await daemon.stop();
    }
  });

  it('--mode oneshot reports an exit once too', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const engine = await start({ containers: [{ name: 'job.1' }], now: () => clock.now() });
    const { daemon, ticks } = recordingDaemon(['--docker', engine.url, '--mode', 'oneshot'], clock);
    const id = engine.container('job.1').id;
    const inspects = (): number => engine.requests.filter((r) => r.path === `/containers/${id}/json`).length;
    try {
      daemon.start();
      await waitFor(() => inspects() === 1, 'the container inspected');
      assert.deepEqual(of(await nextTick(clock, ticks, 5_000), 'job.1', 'exit_code'), []);
      engine.stopContainer(id, { exitCode: 42 });
      await waitFor(() => inspects() === 2, 'the inspect after the die');
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const tick = await nextTick(clock, ticks);
        seen.push(
          ...[...of(tick, 'job.1', 'exit_code'), ...of(tick, 'job.1', 'oom_killed')].map((m) => `${m.name}=${m.value}`),
        );
      }
      assert.deepEqual(seen, ['exit_code=42', 'oom_killed=0']);
    } finally {
      await daemon.stop();
    }
  });

  it('a container removed before the inspect (--rm) reports its exit code alone', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const engine = await start({ containers: [{ name: 'gone.1' }], intervalMs: 100, now: () => clock.now() });
    const { daemon, ticks } = recordingDaemon(['--docker', engine.url], clock);
    const id = engine.container('gone.1').id;
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples');
      await nextTick(clock, ticks, 5_000);
      engine.containers.delete(id);
      engine.emit('die', { id, name: 'gone.1' }, { exitCode: '2' });
      await waitFor(
        () => engine.requests.filter((r) => r.path === `/containers/${id}/json`).length === 2,
        'the inspect after the die',
      );
      const seen: string[] = [];
      for (let i = 0; i < 2; i++) {
        const tick = await nextTick(clock, ticks);
        seen.push(
          ...[...of(tick, 'gone.1', 'exit_code'), ...of(tick, 'gone.1', 'oom_killed')].map(
            (m) => `${m.name}=${m.value}`,
          ),
        );
      }
      assert.deepEqual(seen, ['exit_code=2']);
    } finally {
      await daemon.stop();
    }
  });

  it('oom_kills counts oom events, repeats within the window left out; 0 again when it starts again', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const engine = await start({ containers: [{ name: 'hog.1' }], intervalMs: 100, now: () => clock.now() });
    const { daemon, ticks } = recordingDaemon(['--docker', engine.url], clock);
    const hog = engine.container('hog.1');
    const last = (tick: Tick): number | undefined => of(tick, 'hog.1', 'oom_kills').at(-1)?.value;
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples');
      assert.equal(last(await nextTick(clock, ticks, 5_000)), 0);
      // Three kills as the Engine reported them here: bursts of events, each burst one kill.
      const t = clock.now();
      const offsets = [
        0,
        4,
        60,
        315,
        700,
        OOM_REPEAT_MS - 1,
        OOM_REPEAT_MS + 500,
        OOM_REPEAT_MS + 520,
        2 * OOM_REPEAT_MS + 600,
      ];
      for (const ms of offsets) engine.emit('oom', hog, {}, t + ms);
      const counts: (number | undefined)[] = [];
      for (let i = 0; i < 4 && counts.at(-1) !== 3; i++) counts.push(last(await nextTick(clock, ticks)));
      assert.equal(counts.at(-1), 3, `oom_kills per tick: ${counts.join(', ')}`);
      assert.ok(counts.every((c) => c === undefined || c <= 3));
      engine.stopContainer(hog.id, { exitCode: 137, oomKilled: true });
      engine.restartContainer(hog.id);
      const after: (number | undefined)[] = [];
      for (let i = 0; i < 4 && after.at(-1) !== 0; i++) after.push(last(await nextTick(clock, ticks)));
      assert.equal(after.at(-1), 0, `oom_kills per tick after the restart: ${after.join(', ')}`);
    } finally {
      await daemon.stop();
    }
  });

  it('cpu.limit and memory.reservation follow docker update', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const hostConfig = { NanoCpus: 1_500_000_000, MemoryReservation: 64 << 20 };
    const engine = await start({
      containers: [{ name: 'cpu.1', hostConfig }, { name: 'free.1' }],
      intervalMs: 100,
      now: () => clock.now(),
    });
    const { daemon, ticks } = recordingDaemon(['--docker', engine.url], clock);
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 2 && engine.streams.every((s) => s.lines >= 2), 'samples');
      await nextTick(clock, ticks, 5_000);
      // Samples a second apart, so that the next tick has a CPU rate.
      const cpu = engine.container('cpu.1').id;
      const lines = (): number => engine.streams.find((s) => s.containerId === cpu)!.lines;
      const now = lines();
      await waitFor(() => lines() >= now + 2, 'samples at 12:00:10');
      await clock.advance(1_000);
      await waitFor(() => lines() >= now + 4, 'samples at 12:00:11');
      const first = await nextTick(clock, ticks, 9_000);
      assert.deepEqual(
        of(first, 'cpu.1', 'cpu.limit').map((m) => m.value),
        [1.5],
      );
      assert.deepEqual(
        of(first, 'cpu.1', 'memory.reservation').map((m) => m.value),
        [64 << 20],
      );
      const percent = of(first, 'cpu.1', 'cpu.percent')[0]!.value;
      assert.deepEqual(
        of(first, 'cpu.1', 'cpu.percent_of_limit').map((m) => m.value),
        [Math.min(100, percent / 1.5)],
      );
      assert.deepEqual(
        ['cpu.limit', 'cpu.percent_of_limit', 'memory.reservation'].flatMap((n) => of(first, 'free.1', n)),
        [],
        'unlimited',
      );
      engine.updateContainer('cpu.1', { NanoCpus: 0, CpuQuota: 50_000, CpuPeriod: 100_000 });
      const limits: number[] = [];
      for (let i = 0; i < 4 && limits.at(-1) !== 0.5; i++)
        limits.push(...of(await nextTick(clock, ticks), 'cpu.1', 'cpu.limit').map((m) => m.value));
      assert.equal(limits.at(-1), 0.5, `cpu.limit per tick: ${limits.join(', ')}`);
    } finally {
      await daemon.stop();
    }
  });

  it('containers_state/_health over every container passing the filters; none while the Engine is away', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const mine = { t: '1' };
    const engine = await start({
      containers: [
        { name: 'web.1', labels: mine, health: 'healthy' },
        { name: 'web.2', labels: mine, health: 'starting' },
        { name: 'paused.1', labels: mine },
        { name: 'done.1', labels: mine },
        { name: 'skip.1', labels: mine, health: 'unhealthy' },
        { name: 'other.1', labels: { t: '2' }, health: 'unhealthy' },
      ],
      intervalMs: 100,
      now: () => clock.now(),
    });
    engine.container('paused.1').paused = true;
    engine.stopContainer('done.1', { exitCode: 1 });
    const lines: string[] = [];
    const { daemon, ticks } = recordingDaemon(
      ['--docker', engine.url, '--label', 't=1', '--exclude', 'skip.*'],
      clock,
      lines,
    );
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 3, 'the running containers followed');
      const first = await nextTick(clock, ticks, 5_000);
      assert.deepEqual(host(first, 'containers_state'), {
        running: 2,
        paused: 1,
        restarting: 0,
        exited: 1,
        created: 0,
        dead: 0,
      });
      assert.deepEqual(host(first, 'containers_health'), { healthy: 1, unhealthy: 0, starting: 1 });
      assert.ok([...first.metrics].filter((m) => m.name.startsWith('containers_')).every((m) => m.time === first.time));
      const lists = engine.requests.filter((r) => r.path === '/containers/json' && /all=1/.test(r.url));
      assert.equal(lists.length, 1, 'one list per tick');
      assert.match(decodeURIComponent(lists[0]!.url), /"label":\["t=1"\]/, 'the label filter passed to the Engine');
      engine.pauseContainer('paused.1', false);
      const second = await nextTick(clock, ticks);
      assert.deepEqual(host(second, 'containers_state'), {
        running: 3,
        paused: 0,
        restarting: 0,
        exited: 1,
        created: 0,
        dead: 0,
      });

      // An Engine that takes the list and never answers: the tick goes out half an interval late, without states.
      engine.hangListAll = true;
      await clock.advance(10_000);
      await clock.advance(4_999);
      assert.equal(ticks.length, 2, 'the tick waits for the list');
      const hung = await nextTick(clock, ticks, 1);
      assert.deepEqual(host(hung, 'containers_state'), {});
      assert.ok(
        lines.some((l) => l.includes('cannot list every container') && l.includes('did not answer')),
        lines.join('\n'),
      );
      engine.hangListAll = false;
      assert.deepEqual(host(await nextTick(clock, ticks, 5_000), 'containers_state')['running'], 3);
      assert.ok(lines.some((l) => l.includes('listing every container works again')));
      lines.length = 0;

      await engine.close();
      const away = [await nextTick(clock, ticks), await nextTick(clock, ticks)];
      assert.deepEqual(
        away.map((t) => host(t, 'containers_state')),
        [{}, {}],
      );
      assert.equal(lines.filter((l) => l.includes('cannot list every container')).length, 1, lines.join('\n'));
    } finally {
      await daemon.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import type { ContainerRef } from '../../src/model/container.js';
import { EngineClient } from '../../src/docker/engine.js';
import type { SampleValues } from '../../src/model/sample-values.js';
import { StreamCollector } from '../../src/docker/stream-collector.js';
import { createLogger } from '../../src/log.js';
import { CarbonPaths } from '../../src/naming/carbon-path.js';
import { SinkRunner, type TickRunner } from '../../src/pipeline/sink-runner.js';
import type { Sink, Tick } from '../../src/sinks/sink.js';
import type { Metric } from '../../src/model/metric.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The parts that keep time, on a fake clock (test/helpers/fake-clock.ts) against the fake Engine
 * (real HTTP on a Unix socket): stall detection and reopening, and ticks on multiples of --poll.
 */
describe('time-driven behaviour on a fake clock', () => {
  const engines: FakeEngine[] = [];
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });
  const start = async (...args: Parameters<typeof FakeEngine.start>): Promise<FakeEngine> => {
    const e = await FakeEngine.start(...args);
    engines.push(e);
    return e;
  };

  it('a stream silent for the stall timeout is closed and, after its backoff, opened again', async () => {
    const engine = await start({ containers: [{ name: 'quiet', behaviour: 'stall' }] });
    const clock = new FakeClock();
    const lines: string[] = [];
    const samples: [ContainerRef, SampleValues | undefined][] = [];
    const collector = new StreamCollector({
      engine: new EngineClient({ kind: 'unix', socketPath: engine.socketPath, display: 'fake' }),
      where: 'fake',
      filter: { include: [], exclude: [], labels: [] },
      clock,
      logger: createLogger((l) => lines.push(l), { level: 'debug' }),
      stallTimeoutMs: 30_000,
      onSample: (c, v) => samples.push([c, v]),
      random: () => 1,
    });
    try {
      collector.start();
      await waitFor(() => samples.length === 1, 'the one sample the stalling stream sends');
      assert.equal(collector.status().streamsOpen, 1);
      await clock.advance(29_000);
      assert.equal(collector.status().streamsOpen, 1, 'not stalled before the timeout');
      assert.ok(!lines.some((l) => l.includes('stalled')));
      engine.setBehaviour('quiet', 'normal');
      // The check runs every quarter of the timeout: the one at 37.5 s finds 37.5 s of silence.
      await clock.advance(8_500);
      await waitFor(
        () => lines.some((l) => /stats stream stalled; reopening it container=quiet silentMs=3\d{4}/.test(l)),
        'the stall noticed',
      );
      await waitFor(() => engine.streams[0]!.closedAt !== undefined, 'the stalled stream closed at the Engine');
      // The reopen waits out its backoff (1 s here) on the clock, then asks the Engine again.
      await waitFor(() => clock.pending > 0 && engine.streams.length === 1, 'the reopen scheduled');
      await clock.advance(1_000);
      await waitFor(() => engine.streams.length === 2, 'a new stream');
      await waitFor(() => samples.length >= 3, 'samples from the new stream');
      assert.equal(collector.status().streamRestarts, 1);
    } finally {
      await collector.stop();
    }
  });

  it("ticks land on multiples of --poll, each with the interval's samples", async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 3, 250));
    const engine = await start({ containers: [{ name: 'web.1' }], intervalMs: 100, now: () => clock.now() });
    const { daemon, ticks } = tickRecordingDaemon(['--docker', `unix://${engine.socketPath}`, '--poll', '10s'], clock, {
      level: 'error',
    });
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples arriving');
      await clock.advance(6_749);
      assert.equal(ticks.length, 0, 'no tick before 12:00:10');
      await clock.advance(1);
      await waitFor(() => ticks.length === 1, 'the tick at 12:00:10');
      await waitFor(() => engine.streams[0]!.lines >= 4, 'more samples');
      await clock.advance(10_000);
      await waitFor(() => ticks.length === 2, 'the tick at 12:00:20');
      assert.deepEqual(
        ticks.map((t) => t.time),
        [Date.UTC(2026, 10, 30, 12, 0, 10) / 1000, Date.UTC(2026, 10, 30, 12, 0, 20) / 1000],
      );
      for (const tick of ticks) {
        assert.ok(
          tick.metrics.some(
            (m) => m.subject.kind === 'container' && m.subject.container.name === 'web.1' && m.name === 'cpu.total',
          ),
        );
        assert.deepEqual(
          tick.followed.map((c) => c.name),
          ['web.1'],
        );
        const total = tick.metrics.find((m) => m.subject.kind === 'host' && m.per?.value === 'total');
        assert.deepEqual([total?.value, total?.time], [1, tick.time]);
      }
    } finally {
      await daemon.stop();
    }
  });
  it('a carbon path collision is said once and counted while it lasts; forgotten three ticks after', async () => {
    // y sends one sample and then nothing: the ticks after the first hold x alone.
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const engine = await start({
      containers: [{ name: 'bar.rep.x.1' }, { name: 'bar.rep.y.1', behaviour: 'stall' }],
      intervalMs: 100,
      now: () => clock.now(),
    });
    const rule = '{"regexp":"^bar\\\\.rep\\\\..*\\\\.(.*)$","into":"bar.rep.$1"}';
    const argv = [
      '--docker',
      `unix://${engine.socketPath}`,
      '--poll',
      '10s',
      '--stall-timeout',
      '10m',
      '--prefix',
      rule,
    ];
    const warnings: string[] = [];
    const { daemon, ticks } = tickRecordingDaemon(argv, clock, { level: 'warn', lines: warnings });
    const collisions = (tick: RecordedTick): number | undefined =>
      tick.metrics.find((m) => m.subject.kind === 'daemon' && m.name === 'path_collisions')?.value;
    const names = (tick: RecordedTick): string[] =>
      [
        ...new Set(tick.metrics.flatMap((m) => (m.subject.kind === 'container' ? [m.subject.container.name] : []))),
      ].sort();
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 2 && engine.streams.every((s) => s.lines >= 1), 'a sample of each');
      for (let i = 1; i <= 5; i++) {
        await clock.advance(i === 1 ? 5_000 : 10_000);
        await waitFor(() => ticks.length === i, `tick ${i}`);
        await waitFor(() => engine.streams[0]!.lines >= 2 * i, 'x streaming on');
      }
      assert.deepEqual(names(ticks[0]!), ['bar.rep.x.1', 'bar.rep.y.1']);
      for (const tick of ticks.slice(1)) assert.deepEqual(names(tick), ['bar.rep.x.1']);
      assert.deepEqual(ticks.map(collisions), [1, 1, 1, 0, 0], 'counted until three ticks in a row have not seen it');
      const said = warnings.filter((l) => l.includes('containers share one carbon path'));
      assert.equal(said.length, 1, warnings.join('\n'));
      assert.match(said[0]!, /path=bar\.rep\.1 containers="bar\.rep\.x\.1, bar\.rep\.y\.1"/);
    } finally {
      await daemon.stop();
    }
  });

  /** One container `web.1` on the fake Engine; a daemon at --poll 10s whose timers fire 1 ms early, recorded. */
  const earlyWebAt10s = async (startMs: number) => {
    const clock = new FakeClock(startMs);
    clock.earlyMs = 1;
    const engine = await start({ containers: [{ name: 'web.1' }], intervalMs: 100, now: () => clock.now() });
    const warnings: string[] = [];
    const argv = ['--docker', `unix://${engine.socketPath}`, '--poll', '10s'];
    return { clock, engine, warnings, ...tickRecordingDaemon(argv, clock, { level: 'warn', lines: warnings }) };
  };

  it('a timer that fires early waits for the rest: each tick is built once, on its multiple of --poll', async () => {
    const { clock, engine, warnings, daemon, ticks } = await earlyWebAt10s(Date.UTC(2026, 10, 30, 12, 0, 3, 250));
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples arriving');
      for (let i = 1; i <= 4; i++) {
        await clock.advance(i === 1 ? 6_750 : 10_000);
        await waitFor(() => ticks.length >= i, `tick ${i}`);
        await moreSamples(engine);
      }
      await clock.advance(5_000);
      assert.deepEqual(
        ticks.map((t) => t.time - ticks[0]!.time),
        [0, 10, 20, 30],
        'each tick once, 10 s apart',
      );
      assert.equal(ticks[0]!.time, Date.UTC(2026, 10, 30, 12, 0, 10) / 1000);
      for (const tick of ticks) assert.deepEqual(containerNames(tick), ['web.1'], "with its interval's samples");
      // Building the tick at the early timer and again 1 ms later would send it twice, or skip it as overlapping.
      assert.deepEqual(warnings, []);
      assert.deepEqual(
        ticks.map((t) => selfMetric(t, 'ticks_skipped')),
        [0, 0, 0, 0],
      );
    } finally {
      await daemon.stop();
    }
  });

  it('after the wall clock steps back 10 s, the next tick waits for it to pass the last one, said once', async () => {
    const { clock, engine, warnings, daemon, ticks } = await earlyWebAt10s(Date.UTC(2026, 10, 30, 12, 0, 5));
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples arriving');
      await clock.advance(5_000);
      await waitFor(() => ticks.length === 1, 'the tick at 12:00:10');
      await moreSamples(engine);
      await clock.advance(2_500);
      clock.stepWall(-10_000);
      await clock.advance(7_500);
      await clock.advance(5_000);
      assert.equal(ticks.length, 1, 'no tick while the wall clock is behind the last one');
      const said = warnings.filter((l) => l.includes('the clock went back'));
      assert.equal(said.length, 1, warnings.join('\n'));
      await clock.advance(5_000);
      await waitFor(() => ticks.length === 2, 'the tick at 12:00:20 of the stepped clock');
      await moreSamples(engine);
      await clock.advance(10_000);
      await waitFor(() => ticks.length === 3, 'the tick after it');
      assert.deepEqual(
        ticks.map((t) => t.time),
        [10, 20, 30].map((s) => Date.UTC(2026, 10, 30, 12, 0, s) / 1000),
      );
      assert.deepEqual(containerNames(ticks[1]!), ['web.1'], 'the samples of the wait went to the next tick');
      assert.equal(warnings.filter((l) => l.includes('the clock went back')).length, 1, 'said once');
      assert.deepEqual(
        ticks.map((t) => selfMetric(t, 'ticks_skipped')),
        [0, 0, 0],
      );
    } finally {
      await daemon.stop();
    }
  });

  it('after the wall clock jumps 1 h forward, the missed ticks are skipped (said, counted), not sent', async () => {
    const { clock, engine, warnings, daemon, ticks } = await earlyWebAt10s(Date.UTC(2026, 10, 30, 12, 0, 5));
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples arriving');
      await clock.advance(5_000);
      await waitFor(() => ticks.length === 1, 'the tick at 12:00:10');
      await clock.advance(2_500);
      clock.stepWall(3_600_000);
      await moreSamples(engine);
      await clock.advance(7_500);
      await waitFor(() => ticks.length === 2, 'the first tick after the jump');
      await moreSamples(engine);
      await clock.advance(10_000);
      await waitFor(() => ticks.length === 3, 'the tick after it');
      const at = (h: number, s: number): number => Date.UTC(2026, 10, 30, h, 0, s) / 1000;
      assert.deepEqual(
        ticks.map((t) => t.time),
        [at(12, 10), at(13, 20), at(13, 30)],
        'one tick per timer, no burst',
      );
      assert.deepEqual(
        ticks.map((t) => selfMetric(t, 'ticks_skipped')),
        [0, 360, 360],
        'from 12:00:20 to 13:00:10',
      );
      const said = warnings.filter((l) => l.includes('the clock jumped forward'));
      assert.equal(said.length, 1, warnings.join('\n'));
      assert.match(said[0]!, /skipped=360/);
      for (const tick of ticks) assert.deepEqual(containerNames(tick), ['web.1']);
    } finally {
      await daemon.stop();
    }
  });

  it('the last partial interval at stop is stamped with the tick it was collected for, never one sent', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 0, 500));
    const engine = await start({ containers: [{ name: 'web.1' }], intervalMs: 100, now: () => clock.now() });
    const argv = ['--docker', `unix://${engine.socketPath}`, '--poll', '1s'];
    const { daemon, ticks } = tickRecordingDaemon(argv, clock, { level: 'error' });
    daemon.start();
    await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples arriving');
    await clock.advance(500);
    await waitFor(() => ticks.length === 1, 'the tick at 12:00:01');
    await moreSamples(engine);
    // Past the streams' read round at 12:00:01.5, short of the next tick.
    await clock.advance(600);
    await daemon.stop();
    assert.deepEqual(
      ticks.map((t) => t.time),
      [1, 2].map((s) => Date.UTC(2026, 10, 30, 12, 0, s) / 1000),
    );
    assert.deepEqual(containerNames(ticks[1]!), ['web.1']);
  });

  // A Swarm task replaced by another (a new name the rule gives the same path), a container recreated under its name.
  for (const [what, before, after] of [
    ['a container replaced by another on its path', 'bar.rep.x.1', 'bar.rep.y.1'],
    ['a container recreated under its name', 'bar.rep.x.1', 'bar.rep.x.1'],
  ] as const) {
    it(`${what} is not a carbon path collision`, async () => {
      const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
      const containers = [{ name: before }, { name: 'db.1' }];
      const engine = await start({ containers, intervalMs: 100, now: () => clock.now() });
      const warnings: string[] = [];
      const rule = '{"regexp":"^bar\\\\.rep\\\\..*\\\\.(.*)$","into":"bar.rep.$1"}';
      const argv = ['--docker', `unix://${engine.socketPath}`, '--poll', '10s', '--prefix', rule];
      const { daemon, ticks } = tickRecordingDaemon(argv, clock, { level: 'warn', lines: warnings });
      try {
        daemon.start();
        const both = (): boolean => engine.streams.length === 2 && engine.streams.every((s) => s.lines >= 2);
        await waitFor(both, 'samples of both');
        await clock.advance(5_000);
        await waitFor(() => ticks.length === 1, 'the first tick');
        const old = engine.container(before);
        await moreSamples(engine, old.id);
        // The streams' read round at 12:00:11 takes them in.
        await clock.advance(1_000);
        engine.stopContainer(old.id);
        engine.removeContainer(old.id);
        const replacement = engine.startContainer({ name: after });
        const fresh = (): boolean => engine.streams.some((s) => s.containerId === replacement.id && s.lines >= 2);
        await waitFor(fresh, `samples of the new ${after}`);
        for (let i = 2; i <= 4; i++) {
          await clock.advance(i === 2 ? 9_000 : 10_000);
          await waitFor(() => ticks.length === i, `tick ${i}`);
        }
        const ids = (tick: RecordedTick): Set<string> =>
          new Set(tick.metrics.flatMap((m) => (m.subject.kind === 'container' ? [m.subject.container.id] : [])));
        const db = engine.container('db.1').id;
        assert.deepEqual(ids(ticks[1]!), new Set([old.id, replacement.id, db]), 'both in the second tick');
        assert.deepEqual(
          ticks.map((t) => selfMetric(t, 'path_collisions')),
          [0, 0, 0, 0],
        );
        assert.deepEqual(
          warnings.filter((l) => l.includes('share one carbon path')),
          [],
        );
      } finally {
        await daemon.stop();
      }
    });
  }

  it("spool_errors is the sum of the runners' spool errors", async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const engine = await start({ containers: [{ name: 'web.1' }], intervalMs: 100, now: () => clock.now() });
    const argv = ['--docker', `unix://${engine.socketPath}`, '--poll', '10s'];
    const others = [new SpoolFailingRunner(2, clock), new SpoolFailingRunner(3, clock)];
    const { daemon, ticks } = tickRecordingDaemon(argv, clock, { level: 'error' }, others);
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 2, 'samples arriving');
      await clock.advance(5_000);
      await waitFor(() => ticks.length === 1, 'a tick');
      assert.equal(selfMetric(ticks[0]!, 'spool_errors'), 5);
    } finally {
      await daemon.stop();
    }
  });

  it('a sample stamped far ahead of the clock is dropped, counted in bad_samples; one just ahead is kept', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    let aheadMs = 3_600_000;
    const engine = await start({ containers: [{ name: 'web.1' }], intervalMs: 100, now: () => clock.now() + aheadMs });
    const warnings: string[] = [];
    const argv = ['--docker', `unix://${engine.socketPath}`, '--poll', '10s'];
    const { daemon, ticks } = tickRecordingDaemon(argv, clock, { level: 'warn', lines: warnings });
    try {
      daemon.start();
      await waitFor(() => engine.streams.length === 1 && engine.streams[0]!.lines >= 3, 'samples arriving');
      await clock.advance(5_000);
      await waitFor(() => ticks.length === 1, 'the first tick');
      assert.deepEqual(containerNames(ticks[0]!), [], 'samples an hour ahead are not used');
      const bad = selfMetric(ticks[0]!, 'bad_samples')!;
      assert.ok(bad >= 3, `counted (${bad})`);
      // Within one interval and the margin for another host's clock.
      aheadMs = 30_000;
      await moreSamples(engine);
      await clock.advance(10_000);
      await waitFor(() => ticks.length === 2, 'the second tick');
      assert.deepEqual(containerNames(ticks[1]!), ['web.1']);
      assert.ok(selfMetric(ticks[1]!, 'bad_samples')! <= bad + 1, 'at most the one in flight when the stamps changed');
      const said = warnings.filter((l) => l.includes('ahead of the clock'));
      assert.equal(said.length, 1, warnings.join('\n'));
      assert.match(said[0]!, /container=web\.1 aheadMs=3600000/);
    } finally {
      await daemon.stop();
    }
  });
});

/** A runner of a sink that takes everything, whose stats say its spool failed `errors` times. */
class SpoolFailingRunner extends SinkRunner<never> {
  readonly #errors: number;

  constructor(errors: number, clock: FakeClock) {
    const sink: Sink<never> = {
      description: 'spool-failing',
      maxBatchItems: 1,
      encode: () => [],
      itemBytes: () => 0,
      send: async () => {},
      close: async () => {},
    };
    super(sink, { maxItems: 10, clock, logger: createLogger(() => {}, { level: 'error' }) });
    this.#errors = errors;
  }

  override get stats(): SinkRunner<never>['stats'] {
    return { ...super.stats, spoolErrors: this.#errors };
  }
}

/** A tick with its metrics read once, as the sink was given them. */
type RecordedTick = Omit<Tick, 'metrics'> & { readonly metrics: readonly Metric[] };

/**
 * Waits for three more samples on the container's open stream (the first by default): those
 * before the last have had a sample period to reach the daemon, which reads them at its next
 * read round (once a second of the clock) or tick.
 */
async function moreSamples(engine: FakeEngine, containerId?: string): Promise<void> {
  const open = engine.streams.filter((s) => s.closedAt === undefined);
  const stream = open.find((s) => (containerId ?? s.containerId) === s.containerId);
  assert.ok(stream, 'an open stats stream');
  const seen = stream.lines;
  await waitFor(() => stream.lines >= seen + 3, 'more samples');
}

/** The names of the containers with metrics in a tick, sorted. */
const containerNames = (tick: RecordedTick): string[] =>
  [...new Set(tick.metrics.flatMap((m) => (m.subject.kind === 'container' ? [m.subject.container.name] : [])))].sort();

/** The value of one of the daemon's own metrics in a tick. */
const selfMetric = (tick: RecordedTick, name: string): number | undefined =>
  tick.metrics.find((m) => m.subject.kind === 'daemon' && m.name === name)?.value;

/** A daemon on `clock` whose one sink records every tick it is given; `log` gets its lines. */
function tickRecordingDaemon(
  argv: string[],
  clock: FakeClock,
  log: { level: 'warn' | 'error'; lines?: string[] },
  others: readonly TickRunner[] = [],
): { daemon: Daemon; ticks: RecordedTick[] } {
  const outcome = parseConfig({ argv, env: {}, hostname: 'h1', homedir: '/nonexistent' });
  assert.equal(outcome.kind, 'config', JSON.stringify(outcome));
  const config = (outcome as { config: Config }).config;
  const ticks: RecordedTick[] = [];
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
  const logger = createLogger((line) => log.lines?.push(line), { level: log.level });
  const runner = new SinkRunner(sink, { maxItems: 10, clock, logger });
  const daemon = new Daemon({
    config,
    engine: new EngineClient(config.docker),
    runners: [runner, ...others],
    paths: new CarbonPaths({ rules: config.rules, pathPrefix: config.pathPrefix, hostPath: config.hostPath }),
    clock,
    logger,
  });
  return { daemon, ticks };
}

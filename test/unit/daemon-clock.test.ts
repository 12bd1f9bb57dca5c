import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import type { ContainerRef } from '../../src/docker/container.js';
import { EngineClient } from '../../src/docker/engine.js';
import type { SampleValues } from '../../src/docker/sample-values.js';
import { StreamCollector } from '../../src/docker/stream-collector.js';
import { createLogger } from '../../src/log.js';
import { CarbonPaths } from '../../src/naming/carbon-path.js';
import { SinkRunner } from '../../src/pipeline/sink-runner.js';
import type { Sink, Tick } from '../../src/sinks/sink.js';
import type { Metric } from '../../src/reduce/metric.js';
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
      await waitFor(() => lines.some((l) => /stats stream stalled; reopening it container=quiet silentMs=3\d{4}/.test(l)), 'the stall noticed');
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

  it('ticks land on multiples of --poll, each with the interval\'s samples', async () => {
    const engine = await start({ containers: [{ name: 'web.1' }], intervalMs: 100 });
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 3, 250));
    const { daemon, ticks } = tickRecordingDaemon(['--docker', `unix://${engine.socketPath}`, '--poll', '10s'], clock, { level: 'error' });
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
      assert.deepEqual(ticks.map((t) => t.time), [Date.UTC(2026, 10, 30, 12, 0, 10) / 1000, Date.UTC(2026, 10, 30, 12, 0, 20) / 1000]);
      for (const tick of ticks) {
        assert.ok(tick.metrics.some((m) => m.subject.kind === 'container' && m.subject.container.name === 'web.1' && m.name === 'cpu.total'));
        assert.deepEqual(tick.followed.map((c) => c.name), ['web.1']);
        const total = tick.metrics.find((m) => m.subject.kind === 'host' && m.per?.value === 'total');
        assert.deepEqual([total?.value, total?.time], [1, tick.time]);
      }
    } finally {
      await daemon.stop();
    }
  });
  it('a carbon path collision is said once and counted while its containers come and go from ticks; forgotten after three ticks without it', async () => {
    // y sends one sample and then nothing: the ticks after the first hold x alone.
    const engine = await start({ containers: [{ name: 'bar.rep.x.1' }, { name: 'bar.rep.y.1', behaviour: 'stall' }], intervalMs: 100 });
    const clock = new FakeClock(Date.UTC(2026, 10, 30, 12, 0, 5));
    const rule = '{"regexp":"^bar\\\\.rep\\\\..*\\\\.(.*)$","into":"bar.rep.$1"}';
    const argv = ['--docker', `unix://${engine.socketPath}`, '--poll', '10s', '--stall-timeout', '10m', '--prefix', rule];
    const warnings: string[] = [];
    const { daemon, ticks } = tickRecordingDaemon(argv, clock, { level: 'warn', lines: warnings });
    const collisions = (tick: RecordedTick): number | undefined =>
      tick.metrics.find((m) => m.subject.kind === 'daemon' && m.name === 'path_collisions')?.value;
    const names = (tick: RecordedTick): string[] =>
      [...new Set(tick.metrics.flatMap((m) => (m.subject.kind === 'container' ? [m.subject.container.name] : [])))].sort();
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
});

/** A tick with its metrics read once, as the sink was given them. */
type RecordedTick = Omit<Tick, 'metrics'> & { readonly metrics: readonly Metric[] };

/** A daemon on `clock` whose one sink records every tick it is given; `log` gets its lines. */
function tickRecordingDaemon(argv: string[], clock: FakeClock, log: { level: 'warn' | 'error'; lines?: string[] }): { daemon: Daemon; ticks: RecordedTick[] } {
  const outcome = parseConfig({ argv, env: {}, hostname: 'h1', homedir: '/nonexistent' });
  assert.equal(outcome.kind, 'config', JSON.stringify(outcome));
  const config = (outcome as { config: Config }).config;
  const ticks: RecordedTick[] = [];
  const sink: Sink<never> = {
    description: 'ticks',
    maxBatchItems: 1,
    encode: (tick) => (ticks.push({ ...tick, metrics: [...tick.metrics] }), []),
    itemBytes: () => 0,
    send: async () => {},
    close: async () => {},
  };
  const logger = createLogger((line) => log.lines?.push(line), { level: log.level });
  const runner = new SinkRunner(sink, { maxItems: 10, clock, logger });
  const daemon = new Daemon({
    config,
    engine: new EngineClient(config.docker),
    runners: [runner],
    paths: new CarbonPaths({ rules: config.rules, pathPrefix: config.pathPrefix, hostPath: config.hostPath }),
    clock,
    logger,
  });
  return { daemon, ticks };
}

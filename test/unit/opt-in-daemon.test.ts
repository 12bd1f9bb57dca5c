import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import { EngineClient } from '../../src/docker/engine.js';
import { createLogger } from '../../src/log.js';
import { CarbonPaths } from '../../src/naming/carbon-path.js';
import { SinkRunner } from '../../src/pipeline/sink-runner.js';
import type { Metric } from '../../src/model/metric.js';
import type { Sink } from '../../src/sinks/sink.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The opt-in groups through the daemon's ticks, on a fake clock against the fake Engine: each
 * measurement is sent at most once, in a tick after it was asked for, stamped with that time; disk
 * at most every --disk-interval, swarm at every tick.
 */
describe("opt-in groups in the daemon's ticks", () => {
  let engine: FakeEngine | undefined;
  after(async () => {
    await engine?.close();
  });

  it('swarm every tick, disk every --disk-interval, each sent once with the time it was asked for', async () => {
    engine = await FakeEngine.start({ containers: [{ name: 'web' }], intervalMs: 100 });
    const fake = engine;
    fake.swarm = { manager: true, services: [{ name: 'st_api', running: 1, desired: 2 }] };
    fake.sizes.set(fake.container('web').id, { rw: 4096, root: 9000 });
    const clock = new FakeClock();
    const t0 = clock.now() / 1000;
    const argv = ['--docker', fake.url, '--poll', '10s', '--metrics', '+swarm,+disk', '--disk-interval', '30s'];
    const outcome = parseConfig({ argv, env: {}, hostname: 'h1', homedir: '/nonexistent' });
    assert.equal(outcome.kind, 'config', JSON.stringify(outcome));
    const config = (outcome as { config: Config }).config;
    const ticks: { time: number; metrics: Metric[] }[] = [];
    const sink: Sink<never> = {
      description: 'ticks',
      maxBatchItems: 1,
      encode: (tick) => {
        ticks.push({ time: tick.time, metrics: [...tick.metrics] });
        return [];
      },
      itemBytes: () => 0,
      send: async () => {},
      close: async () => {},
    };
    const logger = createLogger(() => {}, { level: 'error' });
    const daemon = new Daemon({
      config,
      engine: new EngineClient(config.docker),
      runners: [new SinkRunner(sink, { maxItems: 10, clock, logger })],
      paths: new CarbonPaths({ rules: [], pathPrefix: '', hostPath: 'h1' }),
      clock,
      logger,
    });
    const asked = (path: string, query = ''): number =>
      fake.requests.filter((r) => r.path === path && r.url.includes(query)).length;
    try {
      daemon.start();
      await waitFor(
        () => asked('/services') === 1 && asked('/containers/json', 'size=true') === 1,
        'the first listings',
      );
      for (let i = 1; i <= 4; i++) {
        await clock.advance(10_000);
        await waitFor(() => ticks.length === i, `tick ${i}`);
        await waitFor(() => asked('/services') === i + 1, `the listing of tick ${i}`);
        await waitFor(() => asked('/containers/json', 'size=true') === (i < 3 ? 1 : 2), `the sizes after tick ${i}`);
      }
      await clock.advance(10_000);
      await waitFor(() => ticks.length === 5, 'tick 5');

      const swarm = ticks.flatMap((t) =>
        t.metrics.filter((m) => m.name === 'swarm.services.running').map((m) => ({ tick: t.time, m })),
      );
      const swarmTimes = swarm.map(({ m }) => m.time - t0);
      assert.equal(new Set(swarmTimes).size, swarmTimes.length, `each listing once: ${swarmTimes.join(', ')}`);
      // A listing not yet sent when the next one ends gives way to it: the newest is sent.
      assert.equal(swarm.length, ticks.length, 'every tick carries a listing');
      for (const { tick, m } of swarm)
        assert.ok(m.time <= tick && m.time >= tick - 10, `listed at ${m.time} for ${tick}`);
      assert.ok(
        swarmTimes.every((s) => s % 10 === 0),
        `asked at the ticks: ${swarmTimes.join(', ')}`,
      );
      assert.deepEqual(swarm.map(({ m }) => [m.subject.kind, m.per, m.value]).at(0), [
        'host',
        { key: 'service', value: 'st_api' },
        1,
      ]);
      const desired = ticks.flatMap((t) => t.metrics.filter((m) => m.name === 'swarm.services.desired'));
      assert.ok(desired.length === swarm.length && desired.every((m) => m.value === 2));

      const disk = ticks.flatMap((t) => t.metrics.filter((m) => m.name === 'disk.rw_bytes'));
      assert.deepEqual(
        disk.map((m) => [m.time - t0, m.value]),
        [
          [0, 4096],
          [30, 4096],
        ],
        'at start, then 30 s later',
      );
      assert.ok(disk.every((m) => m.subject.kind === 'container' && m.subject.container.name === 'web'));
      assert.equal(ticks.flatMap((t) => t.metrics.filter((m) => m.name === 'disk.root_bytes')).length, 2);
    } finally {
      await daemon.stop();
    }
  });
});

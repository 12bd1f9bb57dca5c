import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ContainerRef } from '../../src/model/container.js';
import { BackgroundProbe } from '../../src/docker/background-probe.js';
import { diskProbe } from '../../src/docker/disk-probe.js';
import { EngineClient } from '../../src/docker/engine.js';
import { MANAGER_RECHECK_MS, swarmProbe } from '../../src/docker/swarm-probe.js';
import { createLogger } from '../../src/log.js';
import { diskMetrics, swarmMetrics } from '../../src/reduce/opt-in-metrics.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeEngine } from '../helpers/fake-engine.js';

/** The opt-in groups' background measurements against the fake Engine (real HTTP), on a fake clock. */
describe('opt-in groups: swarm and disk probes', () => {
  const engines: FakeEngine[] = [];
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });
  const rig = async () => {
    const engine = await FakeEngine.start({ containers: [{ name: 'web', labels: { team: 'a' } }, { name: 'db' }] });
    engines.push(engine);
    const lines: string[] = [];
    return {
      engine,
      clock: new FakeClock(),
      lines,
      client: new EngineClient({ kind: 'unix', socketPath: engine.socketPath, display: 'fake' }),
      logger: createLogger((l) => lines.push(l), { level: 'debug' }),
    };
  };
  const calls = (engine: FakeEngine, path: string) => engine.requests.filter((r) => r.path === path).length;

  it('swarm: nothing from a node that is not a manager, and /info asked again only every few minutes', async () => {
    const { engine, clock, client, logger, lines } = await rig();
    const probe = swarmProbe({ engine: client, clock, logger });
    for (let i = 0; i < 5; i++) {
      probe.kick();
      await probe.settle();
      assert.equal(probe.take(), undefined);
      await clock.advance(60_000);
    }
    assert.equal(calls(engine, '/info'), 1, 'asked once within the recheck interval');
    assert.equal(calls(engine, '/services'), 0);
    assert.equal(lines.filter((l) => /not a swarm manager/.test(l)).length, 1, 'said once');

    engine.swarm = {
      manager: true,
      services: [
        { name: 'st_web', running: 2, desired: 3 },
        { name: 'st_db', running: 1, desired: 1 },
      ],
    };
    await clock.advance(MANAGER_RECHECK_MS);
    probe.kick();
    await probe.settle();
    const reading = probe.take();
    assert.deepEqual(reading?.value, [
      { service: 'st_web', running: 2, desired: 3 },
      { service: 'st_db', running: 1, desired: 1 },
    ]);
    assert.equal(reading?.timeMs, clock.now());
    assert.equal(probe.take(), undefined, 'handed out once');
    assert.ok(
      engine.requests.some((r) => r.path === '/services' && /status=true/.test(r.url)),
      'asked with status=true',
    );
    probe.stop();
  });

  it('swarm: one /services per kick on a manager; a failure sends nothing and asks /info again', async () => {
    const { engine, clock, client, logger, lines } = await rig();
    engine.swarm = { manager: true, services: [{ name: 'x', running: 1, desired: 1 }] };
    const probe = swarmProbe({ engine: client, clock, logger });
    for (let i = 0; i < 3; i++) {
      probe.kick();
      await probe.settle();
      assert.equal(probe.take()?.value.length, 1);
      await clock.advance(1_000);
    }
    assert.deepEqual([calls(engine, '/info'), calls(engine, '/services')], [1, 3]);
    engine.swarm.manager = false;
    probe.kick();
    await probe.settle();
    assert.equal(probe.take(), undefined);
    assert.ok(
      lines.some((l) => /cannot list the swarm services.*503.*not a swarm manager/.test(l)),
      lines.join('\n'),
    );
    probe.kick();
    await probe.settle();
    assert.equal(calls(engine, '/info'), 2, 'the failure made it ask /info again');
    assert.equal(calls(engine, '/services'), 4, 'and it is not asked while the node is no manager');
    probe.stop();
  });

  it('disk: at most every interval, with the label filters, whatever the ticks do', async () => {
    const { engine, clock, client, logger } = await rig();
    const web = engine.container('web');
    engine.sizes.set(web.id, { rw: 4096, root: 1_200_000 });
    const probe = diskProbe({
      engine: client,
      clock,
      logger,
      filter: { include: [], exclude: [], labels: [{ key: 'team', value: 'a' }] },
      intervalMs: 60_000,
    });
    probe.kick();
    await probe.settle();
    const first = probe.take();
    assert.deepEqual(
      first?.value.find((c) => c.id === web.id),
      { id: web.id, rwBytes: 4096, rootBytes: 1_200_000 },
    );
    for (let i = 0; i < 6; i++) {
      await clock.advance(10_000);
      probe.kick();
      await probe.settle();
      if (i < 5) assert.equal(probe.take(), undefined, `no measurement ${(i + 1) * 10} s after the last`);
    }
    assert.ok(probe.take(), 'measured again once the interval passed');
    const sized = engine.requests.filter((r) => r.path === '/containers/json' && /size=true/.test(r.url));
    assert.equal(sized.length, 2);
    const filters = JSON.parse(new URL(sized[0]!.url, 'http://x').searchParams.get('filters')!);
    assert.deepEqual(filters, { status: ['running'], label: ['team=a'] });
    probe.stop();
  });

  it('a background probe never overlaps runs, stamps each with its start, hands out nothing once stopped', async () => {
    const clock = new FakeClock();
    let started = 0;
    let finish: (n: number) => void = () => {};
    const measure = (): Promise<number> => {
      started += 1;
      return new Promise((resolve) => {
        finish = resolve;
      });
    };
    const probe = new BackgroundProbe<number>({ clock, due: () => true, measure });
    const t0 = clock.now();
    probe.kick();
    await clock.advance(5_000);
    probe.kick();
    assert.equal(started, 1);
    finish(7);
    await probe.settle();
    assert.deepEqual(probe.take(), { timeMs: t0, value: 7 }, 'stamped with the time it was asked for');
    probe.kick();
    probe.stop();
    finish(8);
    await probe.settle();
    assert.equal(probe.take(), undefined);
  });
});

describe('opt-in groups: the metrics', () => {
  const ref = (id: string, name: string): ContainerRef => ({ id, name, image: 'img', labels: {}, facts: {} });

  it('swarm: running and desired per service, host metrics stamped with the listing time', () => {
    const m = swarmMetrics([{ service: 'st web', running: 0, desired: 2 }], 1_795_000_000_900);
    assert.deepEqual(
      m.map((x) => [x.subject.kind, x.name, x.per, x.kind, x.value, x.time]),
      [
        ['host', 'swarm.services.running', { key: 'service', value: 'st web' }, 'gauge', 0, 1_795_000_000],
        ['host', 'swarm.services.desired', { key: 'service', value: 'st web' }, 'gauge', 2, 1_795_000_000],
      ],
    );
  });

  it('disk: only followed containers, absent sizes left out, stamped with the measurement time', () => {
    const a = ref('a'.repeat(64), 'a');
    const m = diskMetrics(
      [
        { id: a.id, rwBytes: 10, rootBytes: undefined },
        { id: 'b'.repeat(64), rwBytes: 5, rootBytes: 6 },
      ],
      1_795_000_001_000,
      [a],
    );
    assert.deepEqual(
      m.map((x) => [x.subject.kind === 'container' && x.subject.container.name, x.name, x.value, x.time]),
      [['a', 'disk.rw_bytes', 10, 1_795_000_001]],
    );
  });
});

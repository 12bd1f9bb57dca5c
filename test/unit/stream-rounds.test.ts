import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/clock.js';
import { EngineClient } from '../../src/docker/engine.js';
import { StreamCollector } from '../../src/docker/stream-collector.js';
import { silentLogger } from '../../src/log.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { waitFor } from '../helpers/wait.js';

/** Groups of moments less than `gapMs` apart: how many separate bursts the samples came in. */
function bursts(times: readonly number[], gapMs: number): number {
  let n = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t - last > gapMs) n += 1;
    last = t;
  }
  return n;
}

/**
 * The stats streams are read in rounds (StatsStreams): the fake Engine (real HTTP on a Unix socket)
 * writes eight streams' samples at eight different phases, about 90 moments a second, and the
 * collector still takes them in one burst a second, loses none, and has every one sent before a
 * tick's collect() when it resolves.
 */
describe('stats streams read in rounds', () => {
  it('takes every stream\'s samples once a second, all of them, and all of them before a tick', async () => {
    const engine = await FakeEngine.start({
      containers: Array.from({ length: 8 }, (_, i) => ({ name: `round-${i}` })),
      intervalMs: 90,
    });
    const times: number[] = [];
    let samples = 0;
    const collector = new StreamCollector({
      engine: new EngineClient({ kind: 'unix', socketPath: engine.socketPath, display: 'fake' }),
      where: 'fake',
      filter: { include: [], exclude: [], labels: [] },
      clock: systemClock,
      logger: silentLogger,
      stallTimeoutMs: 30_000,
      onSample: () => {
        samples += 1;
        times.push(performance.now());
      },
    });
    const sent = (): number => engine.streams.reduce((sum, s) => sum + s.lines, 0);
    try {
      collector.start();
      await waitFor(() => engine.openStreams() === 8 && samples >= 8, 'eight streams open, each with its first sample');
      // From one round on, a window of 3.3 s: three rounds, against about 290 writes of the fake.
      await collector.collect();
      times.length = 0;
      const written = sent();
      await sleep(3_300);
      const writes = sent() - written;
      const seen = bursts(times, 30);
      assert.ok(writes >= 200, `the fake wrote ${writes} samples in 3.3 s`);
      assert.ok(seen >= 3 && seen <= 4, `samples came in ${seen} bursts (of ${times.length} samples), expected one a round`);

      // Nothing is lost, and a tick's collect() takes everything sent before it.
      const before = sent();
      await collector.collect();
      assert.ok(samples >= before, `after collect(): ${samples} samples taken, ${before} sent before it`);
      assert.ok(samples <= sent(), `no sample counted twice: ${samples} taken, ${sent()} sent`);
    } finally {
      await collector.stop();
      await engine.close();
    }
  });
});

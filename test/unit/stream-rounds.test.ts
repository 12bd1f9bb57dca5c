import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineClient } from '../../src/docker/engine.js';
import { StreamCollector } from '../../src/docker/stream-collector.js';
import { silentLogger } from '../../src/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { waitFor } from '../helpers/wait.js';

/** StatsStreams' round: held streams are read once a second (the stall timeout here is long). */
const ROUND_MS = 1_000;
const STREAMS = 8;

/**
 * The stats streams are read in rounds (StatsStreams): the fake Engine (real HTTP on a Unix socket)
 * writes eight streams' samples at eight different phases, about 90 moments a second, in real
 * time, while the collector's clock is the test's own. So a round happens exactly when the test
 * moves the clock by one, and between rounds the fake's writes must wait in the kernel: every
 * round takes all of them in one burst, none arrives between rounds, and a tick's collect()
 * takes everything sent before it.
 */
describe('stats streams read in rounds', () => {
  it("takes every stream's samples once a round, all of them, and all of them before a tick", async () => {
    const engine = await FakeEngine.start({
      containers: Array.from({ length: STREAMS }, (_, i) => ({ name: `round-${i}` })),
      intervalMs: 90,
    });
    const clock = new FakeClock();
    /** Which round the collector is in (-1: between rounds), and the samples taken in each. */
    let round = -1;
    const perRound: number[] = [];
    let between = 0;
    let samples = 0;
    const collector = new StreamCollector({
      engine: new EngineClient({ kind: 'unix', socketPath: engine.socketPath, display: 'fake' }),
      where: 'fake',
      filter: { include: [], exclude: [], labels: [] },
      clock,
      logger: silentLogger,
      stallTimeoutMs: 30_000,
      onSample: () => {
        samples += 1;
        if (round >= 0) perRound[round] = (perRound[round] ?? 0) + 1;
        else between += 1;
      },
    });
    const sent = (): number => engine.streams.reduce((sum, s) => sum + s.lines, 0);
    const linesOf = (): number[] => engine.streams.map((s) => s.lines);
    try {
      collector.start();
      // Until the first read, a new stream is not held yet: its samples come as they are written.
      await waitFor(
        () => engine.openStreams() === STREAMS && samples >= STREAMS,
        'eight streams open, each with its first sample',
      );
      await collector.collect();
      between = 0;

      for (let r = 0; r < 3; r++) {
        // Every stream writes, each at its own phase, while the clock stands still: nothing comes.
        const taken = samples;
        const from = linesOf();
        await waitFor(
          () => engine.streams.length === STREAMS && linesOf().every((n, i) => n >= from[i]! + 3),
          () => `every stream writing three more samples (lines ${linesOf().join(' ')})`,
        );
        const due = sent();
        assert.equal(samples, taken, `round ${r}: no sample taken between rounds (${samples - taken} were)`);
        round = r;
        await clock.advance(ROUND_MS);
        round = -1;
        assert.ok(
          samples >= due && samples <= sent(),
          `round ${r}: one burst took every sample written before it ` +
            `(${samples} taken, ${due} written before, ${sent()} now)`,
        );
      }
      assert.equal(between, 0, 'no sample came between rounds');
      assert.equal(perRound.length, 3, `samples came in ${perRound.length} rounds: ${perRound.join(' ')}`);
      assert.ok(
        perRound.every((n) => n >= 3 * STREAMS),
        `each round took at least three samples a stream: ${perRound.join(' ')}`,
      );

      // Nothing is lost, and a tick's collect() takes everything sent before it.
      await waitFor(() => sent() >= samples + STREAMS, 'more samples written');
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

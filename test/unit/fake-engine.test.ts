import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { EngineClient, type EngineStream } from '../../src/docker/engine.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { waitFor } from '../helpers/wait.js';

/** The fake Engine of the fault tests, checked through the daemon's own Engine client. */

/** The fields of a stats line these tests read. */
type StatsLine = { read: string; name: string; id: string; cpu_stats: { cpu_usage: { total_usage: number } } };
/** The fields of an event line these tests read. */
type EventLine = { Type: string; Action: string; Actor: { ID: string; Attributes: { name: string } } };

/** Collects what a stream sends, split on newlines; `text` also holds an unfinished tail. */
function collect(stream: EngineStream): { text: string; bytes: number; ended: boolean; lines: () => string[] } {
  const got = { text: '', bytes: 0, ended: false, lines: () => got.text.split('\n').slice(0, -1) };
  stream.start(
    (b) => {
      got.bytes += b.length;
      if (got.text.length < 1 << 20) got.text += b.toString('latin1');
    },
    () => (got.ended = true),
  );
  return got;
}

function raw(socketPath: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('fake Docker Engine', () => {
  const client = (engine: { socketPath: string }): EngineClient =>
    new EngineClient({ kind: 'unix', socketPath: engine.socketPath, display: engine.socketPath });
  const engines: FakeEngine[] = [];
  const start = async (...args: Parameters<typeof FakeEngine.start>): Promise<FakeEngine> => {
    const e = await FakeEngine.start(...args);
    engines.push(e);
    return e;
  };
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });

  it('answers version, list and inspect in the Engine shapes, with and without a version prefix', async () => {
    const engine = await start({ containers: [{ name: 'web.1', labels: { a: 'b' } }] });
    const id = engine.container('web.1').id;
    const docker = client(engine);
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.41');
    const list = (await docker.listContainers({ status: ['running'] })) as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      list.map((c) => [c['Id'], c['Names'], c['Labels'], c['State']]),
      [[id, ['/web.1'], { a: 'b' }, 'running']],
    );
    const info = await docker.inspect(id);
    assert.equal(info.Name, '/web.1');
    assert.equal(info.State?.Running, true);
    assert.ok(Date.parse(info.State?.StartedAt ?? '') > 0);
    assert.deepEqual(info.Config?.Labels, { a: 'b' });
    assert.equal(info.RestartCount, 0);
    await assert.rejects(docker.inspect('nope'), (err: { statusCode?: number }) => err.statusCode === 404);
    for (const path of ['/v1.41/version', '/v1.41/containers/json', `/v1.41/containers/${id}/json`]) {
      assert.equal(await raw(engine.socketPath, 'GET', path), 200, path);
    }
    assert.ok(engine.requests.some((r) => r.url.startsWith('/v1.41/containers/json')));
    assert.deepEqual(engine.unknown, []);
  });

  it('answers 404 to any other method or path, and records it', async () => {
    const engine = await start({ containers: [{ name: 'c' }] });
    const id = engine.container('c').id;
    assert.equal(await raw(engine.socketPath, 'POST', `/containers/${id}/stop`), 404);
    assert.equal(await raw(engine.socketPath, 'DELETE', `/v1.41/containers/${id}`), 404);
    assert.equal(await raw(engine.socketPath, 'GET', '/images/json'), 404);
    assert.equal(await raw(engine.socketPath, 'HEAD', '/version'), 404);
    assert.deepEqual(
      engine.unknown.map((r) => `${r.method} ${r.path}`),
      [`POST /containers/${id}/stop`, `DELETE /containers/${id}`, 'GET /images/json', 'HEAD /version'],
    );
  });

  it('streams valid samples stamped now, with the container name and growing counters', async () => {
    const engine = await start({ containers: [{ name: 'n' }], intervalMs: 20 });
    const docker = client(engine);
    const stream = await docker.statsStream('n');
    const got = collect(stream);
    await waitFor(() => got.lines().length >= 9, 'nine samples');
    stream.close();
    const samples = got.lines().map((l) => JSON.parse(l) as StatsLine);
    const totals = samples.map((s) => s.cpu_stats.cpu_usage.total_usage);
    for (let i = 1; i < totals.length; i++)
      assert.ok(totals[i]! >= totals[i - 1]!, `counters never go back: ${totals.join(',')}`);
    for (const s of samples) {
      assert.ok(Math.abs(Date.parse(s.read) - Date.now()) < 10_000);
      assert.equal(s.name, '/n');
      assert.equal(s.id, engine.container('n').id);
    }
    assert.equal(engine.statsOpens('n'), 1);
    await waitFor(() => engine.openStreams('n') === 0, 'the stream closed at the fake');
  });

  it('garbage: bad lines and valid samples mixed', async () => {
    const engine = await start({ containers: [{ name: 'g', behaviour: 'garbage' }], intervalMs: 20 });
    const docker = client(engine);
    const stream = await docker.statsStream('g');
    const got = collect(stream);
    await waitFor(() => got.lines().length >= 40, 'forty lines');
    stream.close();
    const kinds = got.lines().map((l) => {
      try {
        const v: unknown = JSON.parse(l);
        return v !== null && typeof v === 'object' ? 'object' : 'not-object';
      } catch {
        return 'not-json';
      }
    });
    for (const k of ['object', 'not-object', 'not-json'] as const) assert.ok(kinds.includes(k), k);
  });

  it('endless: bytes without a newline until the client closes; stall: one sample then silence', async () => {
    const engine = await start({
      containers: [
        { name: 'e', behaviour: 'endless' },
        { name: 's', behaviour: 'stall' },
      ],
    });
    const docker = client(engine);
    const endless = await docker.statsStream('e');
    const got = collect(endless);
    await waitFor(() => got.bytes > 5 << 20, '5 MiB');
    assert.equal(got.text.indexOf('\n'), -1);
    endless.close();
    await waitFor(() => engine.openStreams('e') === 0, 'the endless stream stopped at the fake');
    const sent = engine.bytesSent('e');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(engine.bytesSent('e'), sent, 'nothing more is sent after the client closed');

    const stall = await docker.statsStream('s');
    const s = collect(stall);
    await waitFor(() => s.lines().length === 1, 'one sample');
    assert.equal(engine.openStreams('s'), 1, 'kept open');
    engine.setBehaviour('s', 'normal');
    stall.close();
    const again = await docker.statsStream('s');
    const a = collect(again);
    await waitFor(() => a.lines().length >= 2, 'the reopened stream behaves normally');
    again.close();
    assert.equal(engine.statsOpens('s'), 2);
  });

  it('events: pushed to subscribers; a stopped container streams empty samples; close() frees the path', async () => {
    const engine = await start({ intervalMs: 20 });
    const docker = client(engine);
    const events = await docker.events({ type: ['container'] });
    const got = collect(events);
    await waitFor(() => engine.eventSubscribers === 1, 'subscribed');
    const c = engine.startContainer({ name: 'late' });
    const stats = await docker.statsStream(c.id);
    const s = collect(stats);
    engine.stopContainer(c.id);
    await waitFor(() => s.lines().some((l) => l.includes('"read":"0001-01-01T00:00:00Z"')), 'an empty sample');
    engine.removeContainer(c.id);
    await waitFor(() => s.ended, 'the stream ends when the container is removed');
    await waitFor(() => got.lines().length === 3, 'three events');
    const actions = got.lines().map((l) => JSON.parse(l) as EventLine);
    assert.deepEqual(
      actions.map((e) => [e.Type, e.Action, e.Actor.ID, e.Actor.Attributes.name]),
      [
        ['container', 'start', c.id, 'late'],
        ['container', 'die', c.id, 'late'],
        ['container', 'destroy', c.id, 'late'],
      ],
    );
    await engine.close();
    await waitFor(() => got.ended, 'the event stream is cut by close()');
    assert.equal(existsSync(engine.socketPath), false);
    const again = await start({ socketPath: engine.socketPath });
    assert.equal((await client(again).version()).ApiVersion, '1.41');
  });
});

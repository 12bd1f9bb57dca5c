// The receiver stands in for Backstop in every integration test: these tests hold it to each row
// of docs/architecture.md §4, over real HTTP with fetch.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';

import { startBackstopReceiver, type BackstopReceiver, type ReceiverOptions } from '../helpers/backstop-receiver.js';

const T = 1_700_000_000;

async function receiver(t: TestContext, opts?: ReceiverOptions): Promise<BackstopReceiver> {
  const r = await startBackstopReceiver(opts);
  t.after(() => r.close());
  return r;
}

interface Sent {
  name?: string;
  credentials?: string;
  method?: string;
  path?: string;
}

async function send(r: BackstopReceiver, body: string | unknown, sent: Sent = {}) {
  const { name = 'docker', credentials, method = 'POST', path = `/publish/${name}` } = sent;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (credentials !== undefined) headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  const res = await fetch(`http://127.0.0.1:${r.port}${path}`, {
    method,
    headers,
    ...(method === 'GET' ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const item = (metric: unknown, value: unknown = 1, measure_time: unknown = T) => ({ metric, value, measure_time });

test('a good batch is answered 200 ok and every point is stored, in order', async (t) => {
  const r = await receiver(t);
  const body = JSON.stringify([item('web.cpu', 12.5), item('web.mem', 1024, T + 10)]);
  const res = await send(r, body);
  assert.equal(res.status, 200);
  assert.equal(res.text, 'ok');
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.deepEqual(r.points, [
    { prefix: 'docker', metric: 'web.cpu', path: 'docker.web.cpu', value: 12.5, measure_time: T },
    { prefix: 'docker', metric: 'web.mem', path: 'docker.web.mem', value: 1024, measure_time: T + 10 },
  ]);
  assert.deepEqual(r.carbonDropped, []);
  assert.equal(r.requests.length, 1);
  const [rec] = r.requests;
  assert.equal(rec?.path, '/publish/docker');
  assert.equal(rec?.status, 200);
  assert.equal(rec?.items, 2);
  assert.equal(rec?.authorization, undefined);
  assert.equal(rec?.body, body);
  assert.ok(typeof rec?.at === 'number' && rec.at <= Date.now());
});

test('a single object is a batch of one', async (t) => {
  const r = await receiver(t);
  assert.equal((await send(r, item('one', 3))).status, 200);
  assert.deepEqual(
    r.points.map((p) => [p.metric, p.value]),
    [['one', 3]],
  );
  assert.equal(r.requests[0]?.items, 1);
});

test('an empty or non-JSON body is 400 JSON is required', async (t) => {
  const r = await receiver(t);
  for (const body of ['', '   ', 'not json', '{"metric": "a"', 'docker.a 1 1700000000']) {
    const res = await send(r, body);
    assert.deepEqual([res.status, res.text], [400, 'JSON is required'], `body ${JSON.stringify(body)}`);
  }
  assert.equal(r.points.length, 0);
});

test('an item without metric, value or measure_time is 400 missing fields; the items before it stored', async (t) => {
  const r = await receiver(t);
  const broken = [
    { value: 1, measure_time: T },
    { metric: 'x', measure_time: T },
    { metric: 'x', value: 1 },
    item(null),
    item('x', null),
    item('x', 1, null),
    item(false),
    item('x', false),
    item('x', 1, false),
  ];
  for (const [i, bad] of broken.entries()) {
    const res = await send(r, [item(`before${i}`), bad, item(`after${i}`)]);
    assert.deepEqual([res.status, res.text], [400, 'missing fields'], JSON.stringify(bad));
  }
  assert.deepEqual(
    r.points.map((p) => p.metric),
    broken.map((_, i) => `before${i}`),
  );
});

test('Ruby truthiness: value 0, negative and float values are stored', async (t) => {
  const r = await receiver(t);
  const res = await send(r, [item('zero', 0), item('neg', -3), item('float', 2.75), item('tiny', 1e-7)]);
  assert.equal(res.status, 200);
  assert.deepEqual(
    r.points.map((p) => [p.metric, p.value]),
    [
      ['zero', 0],
      ['neg', -3],
      ['float', 2.75],
      ['tiny', 1e-7],
    ],
  );
});

test('a numeric string value is stored: carbon only sees the text', async (t) => {
  const r = await receiver(t);
  assert.equal((await send(r, [item('s', '42')])).status, 200);
  assert.deepEqual(
    r.points.map((p) => p.value),
    [42],
  );
});

test('value "abc", true, an object, "" are answered 200 but dropped by carbon', async (t) => {
  const r = await receiver(t);
  const items = [item('a', 'abc'), item('b', true), item('c', { n: 1 }), item('d', ''), item('e', [1])];
  const res = await send(r, items);
  assert.deepEqual([res.status, res.text], [200, 'ok']);
  assert.deepEqual(r.points, []);
  assert.deepEqual(
    r.carbonDropped.map((d) => d.item),
    items,
  );
  assert.equal(r.carbonDropped[0]?.line, `docker.a abc ${T}`);
});

test('a metric with a space is answered 200 but dropped by carbon', async (t) => {
  const r = await receiver(t);
  const res = await send(r, [item('my metric', 5), item('ok', 6)]);
  assert.equal(res.status, 200);
  assert.deepEqual(
    r.points.map((p) => p.metric),
    ['ok'],
  );
  assert.deepEqual(
    r.carbonDropped.map((d) => d.line),
    [`docker.my metric 5 ${T}`],
  );
});

test('a newline inside metric stores a second, injected metric', async (t) => {
  const r = await receiver(t);
  const res = await send(r, [item(`cpu 99 ${T}\ndocker.injected`, 7)]);
  assert.equal(res.status, 200);
  assert.deepEqual(
    r.points.map((p) => [p.path, p.value, p.measure_time]),
    [
      ['docker.cpu', 99, T],
      ['docker.injected', 7, T],
    ],
  );
});

test('an unknown prefix is 404 unknown prefix; other routes are 404 not found', async (t) => {
  const r = await receiver(t, { prefixes: ['docker', 'apps'] });
  assert.equal((await send(r, [item('a')], { name: 'apps' })).status, 200);
  const unknown = await send(r, [item('a')], { name: 'nope' });
  assert.deepEqual([unknown.status, unknown.text], [404, 'unknown prefix']);
  // Backstop parses the body before it looks at the prefix.
  assert.equal((await send(r, 'not json', { name: 'nope' })).status, 400);
  for (const sent of [{ method: 'GET' }, { path: '/other' }, { path: '/publish/docker/x' }, { path: '/publish/' }]) {
    const res = await send(r, [item('a')], sent);
    assert.deepEqual([res.status, res.text], [404, 'not found'], JSON.stringify(sent));
  }
  assert.deepEqual(
    r.points.map((p) => p.path),
    ['apps.a'],
  );
});

test('with auth configured, credentials are checked before the route, the prefix and the body', async (t) => {
  const r = await receiver(t, { auth: ['alice:s3cret', 'bob:pw'] });
  for (const credentials of [undefined, 'alice:wrong', 'carol:s3cret', 'alice', 'alice:s3cret:']) {
    for (const sent of [{}, { name: 'nope' }, { path: '/other' }]) {
      const res = await send(r, 'not json', { ...sent, ...(credentials === undefined ? {} : { credentials }) });
      assert.deepEqual([res.status, res.text], [401, 'Not authorized'], `${credentials} ${JSON.stringify(sent)}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /);
    }
  }
  assert.equal((await send(r, [item('a')], { credentials: 'alice:s3cret' })).status, 200);
  assert.equal((await send(r, [item('b')], { credentials: 'bob:pw' })).status, 200);
  assert.equal((await send(r, 'not json', { credentials: 'bob:pw' })).status, 400);
  assert.deepEqual(
    r.points.map((p) => p.metric),
    ['a', 'b'],
  );
  assert.equal(r.requests.at(-1)?.authorization, `Basic ${Buffer.from('bob:pw').toString('base64')}`);
  assert.equal(r.url({ user: 'alice', password: 's3cret' }), `http://alice:s3cret@127.0.0.1:${r.port}/publish/docker`);
});

test('body null, a JSON string, a number or an array with non-objects is 500; earlier items are stored', async (t) => {
  const r = await receiver(t);
  for (const body of ['null', '"docker.a 1 1700000000"', '42', '[1, 2]', '[null]', '[[1]]', '[true]']) {
    const res = await send(r, body);
    assert.deepEqual([res.status, res.text], [500, 'Internal Server Error'], body);
  }
  assert.equal((await send(r, [item('first'), 3, item('never')])).status, 500);
  assert.deepEqual(
    r.points.map((p) => p.metric),
    ['first'],
  );
});

test('forceStatus answers the next N requests without storing anything, then stops', async (t) => {
  const r = await receiver(t);
  r.forceStatus(503, 2);
  assert.equal((await send(r, [item('a')])).status, 503);
  assert.equal((await send(r, 'not json', { path: '/anything' })).status, 503);
  assert.equal((await send(r, [item('b')])).status, 200);
  r.forceStatus(429);
  for (let i = 0; i < 3; i++) assert.equal((await send(r, [item('c')])).status, 429);
  r.forceStatus(null);
  assert.equal((await send(r, [item('d')])).status, 200);
  assert.deepEqual(
    r.points.map((p) => p.metric),
    ['b', 'd'],
  );
  assert.deepEqual(
    r.requests.map((q) => q.status),
    [503, 503, 200, 429, 429, 429, 200],
  );
});

test('setDelay holds the answer; a request the client gave up on is still processed', async (t) => {
  const r = await receiver(t);
  // The client gives up well after its request is out (even on a loaded machine), well before the answer.
  r.setDelay(3000);
  await assert.rejects(
    fetch(r.url(), { method: 'POST', body: JSON.stringify([item('late')]), signal: AbortSignal.timeout(1000) }),
    { name: 'TimeoutError' },
  );
  const point = await r.waitFor(() => r.points[0], { what: 'the late point', timeoutMs: 5000 });
  assert.equal(point.metric, 'late');
  r.setDelay(0);
  assert.equal((await send(r, [item('quick')])).status, 200);
});

test('waitFor resolves with the probe value and times out naming what it waited for', async (t) => {
  const r = await receiver(t);
  setTimeout(() => void send(r, [item('soon')]), 100);
  const n = await r.waitFor(() => r.points.length > 0 && r.points.length, { what: 'a point' });
  assert.equal(n, 1);
  await assert.rejects(
    r.waitFor(() => r.points.length > 5, { timeoutMs: 200, what: 'six points' }),
    (err: Error) => {
      assert.match(err.message, /timed out after 200 ms waiting for six points/);
      assert.match(err.message, /POST \/publish\/docker → 200/);
      return true;
    },
  );
});

test('survives aborted uploads and huge bodies', async (t) => {
  const r = await receiver(t);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(r.port, '127.0.0.1', () => {
      socket.write('POST /publish/docker HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n[{"metric"');
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  const many = Array.from({ length: 50_000 }, (_, i) => item(`m${i}`, i));
  assert.equal((await send(r, many)).status, 200);
  assert.equal(r.points.length, 50_000);
  const tooBig = await send(r, ' '.repeat(64 * 1024 * 1024 + 1));
  assert.equal(tooBig.status, 413);
  assert.equal((await send(r, [item('still-alive')])).status, 200);
  assert.equal(r.requests.length, 3); // the aborted upload was never answered
});

test('close destroys keep-alive sockets and is idempotent', async () => {
  const r = await startBackstopReceiver();
  assert.equal((await send(r, [item('a')])).status, 200); // fetch keeps the connection alive
  await Promise.all([r.close(), r.close()]);
  await assert.rejects(send(r, [item('b')]));
});

test('hang holds requests unanswered and unstored until release, which answers them in order', async (t) => {
  const r = await receiver(t);
  r.hang();
  const first = send(r, [item('held1')]);
  const second = send(r, [item('held2')]);
  await r.waitFor(() => r.held === 2, { what: 'two held requests', timeoutMs: 5000 });
  const later = new Promise((resolve) => setTimeout(resolve, 300, 'pending'));
  const pending = await Promise.race([first.then(() => 'answered'), later]);
  assert.equal(pending, 'pending');
  assert.deepEqual([r.points.length, r.requests.length], [0, 0]);
  r.release();
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
  assert.equal(r.held, 0);
  assert.deepEqual(
    r.points.map((p) => p.metric),
    ['held1', 'held2'],
  );
  assert.equal((await send(r, [item('after')])).status, 200);
});

test('close during hang drops the held requests unprocessed; the client sees the connection end', async () => {
  const r = await startBackstopReceiver();
  r.hang();
  const answer = fetch(r.url(), { method: 'POST', body: JSON.stringify([item('never')]) });
  await r.waitFor(() => r.held === 1, { what: 'a held request', timeoutMs: 5000 });
  await r.close();
  await assert.rejects(answer);
  assert.deepEqual([r.points.length, r.requests.length, r.held], [0, 0, 0]);
});

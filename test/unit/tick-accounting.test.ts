// The fault tests' accounting decides what counts as a lost tick: these hold it to small made-up runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackstopReceiver, type StoredPoint } from '../helpers/backstop-receiver.js';
import { accountTicks, ranges, referenceTick, selfPath, stopTotals } from '../helpers/tick-accounting.js';

const H = 'h';
const MARKERS = [selfPath(H, 'samples'), `${H}.containers.total`];
const point = (metric: string, measure_time: number, value = 1): StoredPoint => ({
  prefix: 'docker',
  metric,
  path: `docker.${metric}`,
  value,
  measure_time,
});
/** A tick at second t: its markers, and container c's two paths stamped a second earlier. */
const tick = (t: number, opts: { markers?: string[]; container?: boolean } = {}): StoredPoint[] => [
  ...(opts.markers ?? MARKERS).map((m) => point(m, t)),
  ...(opts.container === false ? [] : [point('c.cpu', t - 1), point('c.mem', t - 1)]),
];
const CONTAINERS = { c: ['c.cpu', 'c.mem'] };
const account = (points: StoredPoint[], dropped = 0) =>
  accountTicks(points, {
    hostPath: H,
    from: 10,
    to: 15,
    markers: MARKERS,
    containers: CONTAINERS,
    tickItems: 4,
    dropped,
  });

test('ticks whose markers all arrived are whole; a tick missing one marker is lost', () => {
  const points = [...tick(10), ...tick(11), ...tick(12, { markers: [MARKERS[0]!] }), ...tick(14), ...tick(15)];
  const a = account(points, 8);
  assert.deepEqual(a.ticks, [10, 11, 12, 13, 14, 15]);
  assert.deepEqual(a.lost, [12, 13]);
  assert.equal(a.lostItems, 8);
  assert.deepEqual(a.containerHoles, { c: [] });
  assert.match(a.text, /lost 2 \(12-13\), 8 items \(4 a tick\); dropped 8/);
});

test('a whole tick without one of a container path at its second or the one before is a hole', () => {
  const points = [10, 11, 12, 13, 14, 15].flatMap((t) => tick(t, { container: t !== 13 && t !== 14 }));
  points.push(point('c.cpu', 13)); // c.cpu of tick 14 stamped with the tick's own second
  const a = account(points);
  assert.deepEqual(a.lost, []);
  assert.deepEqual(a.containerHoles, { c: [13] });
  assert.match(a.text, /missing c\.mem/);
});

test('a tick that arrived twice is counted as duplicated, not lost', () => {
  const a = account([10, 11, 12, 12, 13, 14, 15].flatMap((t) => tick(t)));
  assert.deepEqual([a.lost, a.duplicated], [[], 1]);
});

test('stopTotals reads produced and dropped from the stopped line only', () => {
  const log = [
    '2026-12-07T00:00:00.000Z WARN  buffer full: dropped the oldest metrics dropped=5 droppedTotal=9',
    '2026-12-07T00:00:01.000Z INFO  stopped ticks=40 samples=80 undelivered=0 produced=3454 delivered=1046 ' +
      'droppedTotal=7 dropped=2408',
  ].join('\n');
  assert.deepEqual(stopTotals(log), { produced: 3454, dropped: 2408 });
  assert.equal(stopTotals('2026-12-07T00:00:01.000Z INFO  stopped ticks=40 undelivered=0'), undefined);
});

test('ranges joins runs of seconds', () => {
  assert.equal(ranges([1, 2, 3, 7, 9, 10]), '1-3 7 9-10');
  assert.equal(ranges([]), '');
});

test('referenceTick takes the last tick answered 200, alone in its request and sent once', async (t) => {
  const r = await startBackstopReceiver();
  t.after(() => r.close());
  const body = (points: StoredPoint[]): string =>
    JSON.stringify(points.map((p) => ({ metric: p.metric, value: p.value, measure_time: p.measure_time })));
  const post = (points: StoredPoint[]): Promise<string> =>
    fetch(r.url(), { method: 'POST', body: body(points) }).then((res) => res.text());
  await post(tick(10));
  await post([...tick(11), point('h.docker_stats_to_backstop.extra', 11)]);
  await post([...tick(12), ...tick(13)]); // two ticks in one request
  await post(tick(14));
  await post(tick(14, { container: false })); // tick 14 again, without its container
  r.forceStatus(503, 1);
  await post(tick(15));
  const ref = referenceTick(r, H, ['c']);
  assert.equal(ref.second, 11);
  assert.equal(ref.items, 5);
  assert.deepEqual(ref.markers, [...MARKERS, 'h.docker_stats_to_backstop.extra'].sort());
  assert.deepEqual(ref.containers, { c: ['c.cpu', 'c.mem'] });
});

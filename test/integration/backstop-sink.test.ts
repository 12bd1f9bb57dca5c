import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { CarbonPaths, type CarbonPoint } from '../../src/naming/carbon-path.js';
import { createBackstopSink } from '../../src/sinks/backstop.js';
import { SinkSendError } from '../../src/sinks/sink.js';
import { startBackstopReceiver, type BackstopReceiver } from '../helpers/backstop-receiver.js';

const PASSWORD = 'pa55-Secr3t-xyz';
const items = (n: number): CarbonPoint[] =>
  Array.from({ length: n }, (_, i) => ({ path: `host.c${i}.cpu.total`, value: i, time: 1_700_000_000 + i }));

describe('Backstop sink against a receiver that answers as Backstop does', () => {
  let receiver: BackstopReceiver;
  let rejecting: BackstopReceiver;
  before(async () => {
    receiver = await startBackstopReceiver({ prefixes: ['docker'], auth: [`user:${PASSWORD}`] });
    rejecting = await startBackstopReceiver({ rejectItem: (item) => String(item['metric']).includes('c7.') });
  });
  after(async () => {
    await receiver.close();
    await rejecting.close();
  });

  const logs: string[] = [];
  const logger = createLogger((l) => logs.push(l), { level: 'debug' });
  const sink = (url: string, extra: { requestTimeoutMs?: number } = {}) =>
    createBackstopSink({
      url: new URL(url),
      paths: new CarbonPaths({ rules: [], pathPrefix: '', hostPath: 'host' }),
      logger,
      ...extra,
    });
  const signal = new AbortController().signal;

  it('POSTs {metric, value, measure_time} items with Basic auth taken from the URL', async () => {
    await sink(receiver.url({ user: 'user', password: PASSWORD })).send(items(3), signal);
    assert.deepEqual(
      receiver.points.slice(-3).map((p) => [p.path, p.value, p.measure_time]),
      [
        ['docker.host.c0.cpu.total', 0, 1_700_000_000],
        ['docker.host.c1.cpu.total', 1, 1_700_000_001],
        ['docker.host.c2.cpu.total', 2, 1_700_000_002],
      ],
    );
    const last = receiver.requests.at(-1)!;
    assert.equal(last.authorization, `Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`);
    assert.deepEqual(JSON.parse(last.body)[0], { metric: 'host.c0.cpu.total', value: 0, measure_time: 1_700_000_000 });
  });

  it('narrows a 400 down to the bad item, drops and logs just that one, delivers the rest', async () => {
    logs.length = 0;
    assert.equal(
      await sink(rejecting.url()).send(items(10), signal),
      1,
      'one item rejected, for the runner to count as dropped',
    );
    const stored = new Set(rejecting.points.map((p) => p.metric));
    for (let i = 0; i < 10; i++) assert.equal(stored.has(`host.c${i}.cpu.total`), i !== 7, `c${i}`);
    const dropped = logs.filter((l) => l.includes('rejected metrics as bad'));
    assert.equal(dropped.length, 1);
    assert.match(dropped[0]!, /ERROR .*dropped=1 metric=host\.c7\.cpu\.total/);
    assert.doesNotMatch(dropped[0]!, /missing fields/, "the receiver's answer only in a debug line");
    assert.ok(logs.some((l) => l.includes('DEBUG') && l.includes('missing fields')));
  });

  it('a batch of bad items is one error line, however many', async () => {
    logs.length = 0;
    const bad = Array.from({ length: 40 }, (_, i) => ({ path: `host.c7.n${i}`, value: i, time: 1_700_000_000 }));
    assert.equal(await sink(rejecting.url()).send(bad, signal), 40);
    assert.equal(logs.filter((l) => l.includes('ERROR')).length, 1);
  });

  const refused = async (url: string, opts?: { requestTimeoutMs?: number }) => {
    const err = await sink(url, opts)
      .send(items(2), signal)
      .then(
        () => assert.fail('expected the send to fail'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof SinkSendError, String(err));
    assert.ok(!err.message.includes(PASSWORD), err.message);
    assert.ok(!String(err.stack).includes(PASSWORD));
    return err;
  };

  it('401: a configuration error, retried slowly, URL shown without its password', async () => {
    const err = await refused(receiver.url({ user: 'user', password: `${PASSWORD}-wrong` }));
    assert.equal(err.pace, 'slow');
    assert.equal(err.code, 'HTTP_401');
    assert.match(err.message, /user:\*\*\*@127\.0\.0\.1/);
    assert.match(err.message, /credentials/);
  });

  it('404 unknown prefix: a configuration error naming the path to check', async () => {
    const err = await refused(receiver.url({ name: 'nope', user: 'user', password: PASSWORD }));
    assert.equal(err.pace, 'slow');
    assert.match(
      err.message,
      /^Backstop answered 404 to POST http:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/publish\/nope: check/,
    );
    assert.match(err.message, /PREFIXES/);
    // The answer's body (the receiver's words) is in a debug line only, never in the error /healthz shows.
    assert.doesNotMatch(err.message, /unknown prefix/);
    assert.ok(
      logs.some((l) => l.includes('DEBUG') && l.includes('answer="unknown prefix"')),
      logs.join(''),
    );
  });

  it('500: transient, the batch is kept for a retry', async () => {
    receiver.forceStatus(500, 1);
    const err = await refused(receiver.url({ user: 'user', password: PASSWORD }));
    assert.equal(err.pace, 'soon');
    assert.equal(err.code, 'HTTP_500');
  });

  it('a timeout and a refused connection are transient too', async () => {
    receiver.setDelay(1_000);
    const slow = await refused(receiver.url({ user: 'user', password: PASSWORD }), { requestTimeoutMs: 200 });
    receiver.setDelay(0);
    assert.equal(slow.pace, 'soon');
    const down = await refused(`http://user:${PASSWORD}@127.0.0.1:1/publish/docker`);
    assert.equal(down.pace, 'soon');
    assert.match(down.message, /ECONNREFUSED/);
  });

  it('setUrl (SIGHUP): new credentials from the next request; another host or path refused, no password', async () => {
    const s = sink(receiver.url({ user: 'user', password: `${PASSWORD}-wrong` }));
    await assert.rejects(s.send(items(1), signal), /401/);
    assert.equal(s.setUrl(new URL(receiver.url({ user: 'user', password: PASSWORD }))), true);
    assert.equal(s.setUrl(new URL(receiver.url({ user: 'user', password: PASSWORD }))), false, 'unchanged');
    await s.send(items(1), signal);
    assert.throws(
      () => s.setUrl(new URL(`http://user:${PASSWORD}@127.0.0.2:${receiver.port}/publish/docker`)),
      (err: Error) => /only its credentials change/.test(err.message) && !err.message.includes(PASSWORD),
    );
  });

  it('never logged the password', () => {
    assert.ok(!logs.join('').includes(PASSWORD));
  });
});

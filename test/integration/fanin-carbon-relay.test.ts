import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackstopReceiver, type BackstopReceiver } from '../helpers/backstop-receiver.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { pollUntil } from '../helpers/poll.js';
import { Carbon, CarbonRelay, ensure } from '../helpers/services.js';

/**
 * Many hosts into one Graphite (README, Many hosts): two daemons, each standing for one host
 * (`--hostname`, and `--carbon-prefix {host}` so that their paths never collide), send to Debian's
 * carbon-c-relay, which spreads the series over two real carbon-caches by carbon's consistent hash
 * (`carbon_ch`, replication 1). Each daemon also sends the same collection to the tests' Backstop
 * receiver under `/publish/<its host name>`, where Backstop's `<name>.` makes exactly the carbon
 * path: that is the list of every series it sent. Then each series must have a whisper file in
 * exactly one of the two caches, the one the relay's own hash names, and none may be missing.
 */
const HOSTS = ['host-a', 'host-b'] as const;
const TICKS = 3;

describe('fan-in: two daemons → carbon-c-relay (consistent hashing) → two carbon-caches', () => {
  const containers = new TestContainers();
  const caches = [new Carbon(), new Carbon()] as const;
  const relay = new CarbonRelay();
  const daemons: DaemonProcess[] = [];
  let receiver: BackstopReceiver | undefined;

  before(async () => {
    await ensure('ensure-docker.sh');
    await ensure('ensure-carbon.sh');
    await ensure('ensure-carbon-c-relay.sh');
    for (const cache of caches) {
      await cache.setUp();
      await cache.start();
    }
    await relay.start(caches);
    receiver = await startBackstopReceiver({ prefixes: HOSTS });
    // A busy loop held to part of a CPU: other test files run beside this one (docs/testing.md).
    await containers.start(containers.name('web'), {
      args: ['--memory', '64m', '--cpus', '0.25'],
      cmd: ['sh', '-c', 'while :; do :; done'],
    });
    await containers.start(containers.name('idle'));
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await containers.cleanup();
    await receiver?.close();
    await relay.cleanUp();
    for (const cache of caches) await cache.cleanUp();
  });

  it(`${TICKS} ticks of two hosts: every series sent lands in exactly one cache, the one the hash names`, async () => {
    for (const host of HOSTS) {
      daemons.push(
        new DaemonProcess([
          '--docker',
          'unix:///var/run/docker.sock',
          '--label',
          containers.label,
          '--poll',
          '1s',
          '--hostname',
          host,
          '--carbon',
          `tcp://127.0.0.1:${relay.port}`,
          '--carbon-prefix',
          '{host}',
          '--backstop',
          receiver!.url({ name: host }),
        ]),
      );
    }
    const ticks = (host: string): number =>
      new Set(
        receiver!.points
          .filter((p) => p.path === `${host}.${host}.containers.total` && p.value === 2)
          .map((p) => p.measure_time),
      ).size;
    await receiver!.waitFor(() => HOSTS.every((host) => ticks(host) >= TICKS), {
      timeoutMs: 90_000,
      what: `${TICKS} ticks with both containers from each host`,
    });
    for (const d of daemons) assert.equal((await d.stop()).code, 0, d.stderr);

    // What each daemon sent, by Backstop's naming, which is the carbon path here.
    const sent = new Set(receiver!.points.map((p) => p.path));
    for (const host of HOSTS)
      assert.ok(
        [...sent].some((p) => p.startsWith(`${host}.`)),
        `${host} sent series`,
      );

    // carbon-cache writes its whisper files a little after it receives the points.
    const deadline = Date.now() + 60_000;
    let stored: [Set<string>, Set<string>];
    for (;;) {
      stored = [new Set(await caches[0].series()), new Set(await caches[1].series())];
      const missing = [...sent].filter((p) => !stored[0].has(p) && !stored[1].has(p));
      if (missing.length === 0) break;
      if (Date.now() > deadline)
        assert.fail(
          `${missing.length} of ${sent.size} series in neither cache, e.g. ${missing.slice(0, 5).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }

    const [a, b] = stored;
    const both = [...a].filter((p) => b.has(p));
    assert.deepEqual(both, [], 'no series in both caches');
    const extra = [...a, ...b].filter((p) => !sent.has(p));
    assert.deepEqual(extra, [], 'no series nobody sent');
    assert.ok(a.size > 0 && b.size > 0, `the hash spreads the series: ${a.size} and ${b.size}`);
    console.log(`# ${sent.size} series from ${HOSTS.length} hosts: ${a.size} in cache a, ${b.size} in cache b`);

    const placement = await relay.placement([...sent]);
    for (const path of sent) {
      const where = a.has(path) ? caches[0].port : caches[1].port;
      assert.equal(placement.get(path), where, `${path} is where carbon-c-relay's hash sends it`);
    }

    // Every tick of a series went to the same cache: its one whisper file comes to hold all of
    // them (carbon-cache writes what it holds a little later).
    for (const host of HOSTS) {
      const path = `${host}.${host}.containers.total`;
      const times = new Set(receiver!.points.filter((p) => p.path === path).map((p) => p.measure_time));
      const cache = a.has(path) ? caches[0] : caches[1];
      await pollUntil(
        async () => (await cache.fetch(path)).size === times.size,
        `${path}: the ${times.size} ticks sent, in one file`,
      );
    }
  });
});

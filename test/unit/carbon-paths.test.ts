import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRef } from '../../src/model/container.js';
import { CarbonPaths, relativePath } from '../../src/naming/carbon-path.js';
import { HOST, type Metric, type Per } from '../../src/model/metric.js';
import { parseRules } from '../../src/naming/rules.js';

const ref = (id: string, name: string): ContainerRef => ({
  id: id.repeat(64),
  name,
  image: 'img',
  labels: {},
  facts: {},
});

describe('carbon path collisions', () => {
  const paths = new CarbonPaths({
    rules: parseRules('[{"regexp":"^bar\\\\.rep\\\\..*\\\\.(.*)$","into":"bar.rep.$1"}]'),
    pathPrefix: '',
    hostPath: 'h1',
  });

  it('containers of different names named to one path collide', () => {
    const found = paths.collisions([ref('a', 'bar.rep.x.1'), ref('b', 'bar.rep.y.1'), ref('c', 'web')]);
    assert.deepEqual([...found.keys()], ['bar.rep.1']);
    assert.deepEqual(
      found.get('bar.rep.1')!.map((c) => c.name),
      ['bar.rep.x.1', 'bar.rep.y.1'],
    );
  });

  it('a container recreated under its name (a new id) does not collide with its former self', () => {
    assert.deepEqual(paths.collisions([ref('a', 'web'), ref('b', 'web')]).size, 0);
    assert.deepEqual(paths.collisions([ref('a', 'bar.rep.x.1'), ref('b', 'bar.rep.x.1')]).size, 0);
  });
});

describe('relativePath: where a per value goes (issue 27)', () => {
  const cases: [string, Per | undefined, string][] = [
    ['cpu.total', undefined, 'cpu.total'],
    ['network.rx_bytes', { key: 'interface', value: 'eth0' }, 'network.eth0.rx_bytes'],
    ['blkio.read_bytes', { key: 'device', value: '8_0' }, 'blkio.8_0.read_bytes'],
    ['containers', { key: 'category', value: 'total' }, 'containers.total'],
    ['swarm.services.running', { key: 'service', value: 'web_api' }, 'swarm.services.web_api.running'],
    ['swarm.services.desired', { key: 'service', value: 'stack_web' }, 'swarm.services.stack_web.desired'],
    // A service name is untrusted input: one segment, whatever it holds.
    [
      'swarm.services.running',
      { key: 'service', value: 'a.b c\nx.desired 9' },
      'swarm.services.a_b_c_x_desired_9.running',
    ],
    ['swarm.services.running', { key: 'service', value: '' }, 'swarm.services.unnamed.running'],
  ];
  for (const [name, per, path] of cases) {
    it(`${name}${per ? ` of ${JSON.stringify(per.value)}` : ''} → ${path}`, () =>
      assert.equal(relativePath({ name, per }), path));
  }

  it('a host metric per service: <host path>.swarm.services.<service>.running', () => {
    const paths = new CarbonPaths({ rules: [], pathPrefix: 'pre', hostPath: 'web01.example_com' });
    const m: Metric = {
      subject: HOST,
      name: 'swarm.services.running',
      per: { key: 'service', value: 'web' },
      kind: 'gauge',
      value: 2,
      time: 1,
    };
    assert.equal(paths.path(m), 'pre.web01.example_com.swarm.services.web.running');
  });
});

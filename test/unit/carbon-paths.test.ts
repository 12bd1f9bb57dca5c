import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRef } from '../../src/docker/container.js';
import { CarbonPaths } from '../../src/naming/carbon-path.js';
import { parseRules } from '../../src/naming/rules.js';

const ref = (id: string, name: string): ContainerRef => ({ id: id.repeat(64), name, image: 'img', labels: {}, facts: {} });

describe('carbon path collisions', () => {
  const paths = new CarbonPaths({
    rules: parseRules('[{"regexp":"^bar\\\\.rep\\\\..*\\\\.(.*)$","into":"bar.rep.$1"}]'),
    pathPrefix: '',
    hostPath: 'h1',
  });

  it('containers of different names named to one path collide', () => {
    const found = paths.collisions([ref('a', 'bar.rep.x.1'), ref('b', 'bar.rep.y.1'), ref('c', 'web')]);
    assert.deepEqual([...found.keys()], ['bar.rep.1']);
    assert.deepEqual(found.get('bar.rep.1')!.map((c) => c.name), ['bar.rep.x.1', 'bar.rep.y.1']);
  });

  it('a container recreated under its name (a new id) does not collide with its former self', () => {
    assert.deepEqual(paths.collisions([ref('a', 'web'), ref('b', 'web')]).size, 0);
    assert.deepEqual(paths.collisions([ref('a', 'bar.rep.x.1'), ref('b', 'bar.rep.x.1')]).size, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';

const parse = (argv: string[], env: Record<string, string> = {}, host = 'web01.example.com'): Config => {
  const out = parseConfig({ argv, env, hostname: host, homedir: '/nonexistent' });
  if (out.kind !== 'config') assert.fail(`expected a config, got ${JSON.stringify(out)}`);
  return out.config;
};
const problems = (argv: string[], env: Record<string, string> = {}): readonly string[] => {
  const out = parseConfig({ argv, env, hostname: 'h', homedir: '/nonexistent' });
  if (out.kind !== 'invalid') assert.fail(`expected problems, got ${out.kind}`);
  return out.problems;
};

describe('parseConfig: the sinks of issue 7', () => {
  it('none by default', () => {
    const c = parse([]);
    assert.equal(c.carbon, undefined);
    assert.equal(c.carbonPrefix, '');
    assert.equal(c.listen, undefined);
    assert.equal(c.tls, undefined);
    assert.deepEqual(c.promLabels, []);
    assert.equal(c.pushgateway, undefined);
    assert.equal(c.pushgatewayInstance, 'web01.example.com', 'the host name');
  });

  it('every sink at once, from flags and variables', () => {
    const c = parse(
      [
        '--carbon',
        'tcp://graphite:2004',
        '--carbon-prefix',
        'dc1.{host}',
        '--listen',
        '[::1]:9417',
        '--prom-labels',
        'team',
        '--prom-labels',
        'app',
      ],
      {
        SRV_BACKSTOP: 'http://b/publish/x',
        SRV_PUSHGATEWAY: 'https://u:p@pg:9091/base',
        SRV_PUSHGATEWAY_INSTANCE: 'node-7',
      },
    );
    assert.ok(c.backstop);
    assert.deepEqual(c.carbon, { protocol: 'tcp', host: 'graphite', port: 2004 });
    assert.equal(c.carbonPrefix, 'dc1.web01.example.com');
    assert.deepEqual(c.listen, { host: '::1', port: 9417 });
    assert.deepEqual(c.promLabels, ['team', 'app']);
    assert.equal(c.pushgateway?.href, 'https://u:p@pg:9091/base');
    assert.equal(c.pushgatewayInstance, 'node-7');
  });

  it('carbon: udp, the default port 2003, IPv6', () => {
    assert.deepEqual(parse(['--carbon=udp://[::1]']).carbon, { protocol: 'udp', host: '::1', port: 2003 });
  });

  it('listen: every address with :PORT, a host name', () => {
    assert.deepEqual(parse(['--listen=:9417']).listen, { host: '', port: 9417 });
    assert.deepEqual(parse(['--listen=localhost:9417']).listen, { host: 'localhost', port: 9417 });
  });

  it('reports every bad sink at once, passwords masked', () => {
    const p = problems(['--carbon=http://x', '--listen=nope', '--pushgateway=ftp://u:hunter2@pg'], {
      SRV_TLS_KEY: '/k.pem',
    });
    assert.equal(p.length, 4, p.join('\n'));
    assert.ok(!p.join('\n').includes('hunter2'));
  });
});

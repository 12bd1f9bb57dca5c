import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';

/** The machine these cases describe: the rootful Engine's socket exists, nothing else does. */
const exists = (path: string): boolean => path === '/var/run/docker.sock';

const parse = (argv: string[], env: Record<string, string> = {}, host = 'web01.example.com'): Config => {
  const out = parseConfig({ argv, env, hostname: host, homedir: '/nonexistent', exists });
  if (out.kind !== 'config') assert.fail(`expected a config, got ${JSON.stringify(out)}`);
  return out.config;
};

describe('parseConfig', () => {
  it('has the documented defaults', () => {
    const c = parse([]);
    assert.equal(c.backstop, undefined);
    assert.deepEqual(c.docker, {
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
      display: 'unix:///var/run/docker.sock',
    });
    assert.equal(c.pollMs, 60_000);
    assert.equal(c.shutdownTimeoutMs, 10_000);
    assert.equal(c.hostPath, 'web01.example.com');
    assert.equal(c.pathPrefix, '');
    assert.equal(c.once, false);
    assert.equal(c.verbose, false);
    assert.deepEqual(c.rules, []);
    assert.deepEqual([...c.metrics.groups], ['cpu', 'memory', 'network', 'blkio', 'pids', 'health', 'pressure']);
    assert.equal(c.metrics.perInterface, true);
    assert.equal(c.metrics.perDevice, false);
  });

  it('--metrics, --per-interface and --per-device', () => {
    const c = parse(['--metrics=cpu, Memory', '--no-per-interface', '--per-device']);
    assert.deepEqual([...c.metrics.groups], ['cpu', 'memory']);
    assert.equal(c.metrics.perInterface, false);
    assert.equal(c.metrics.perDevice, true);
    const env = parse([], { SRV_METRICS: 'network', SRV_PER_INTERFACE: 'false', SRV_PER_DEVICE: '1' });
    assert.deepEqual([...env.metrics.groups], ['network']);
    assert.equal(env.metrics.perInterface, false);
    assert.equal(env.metrics.perDevice, true);
  });

  it('reads every SRV_* variable, and a flag beats its variable', () => {
    const env = {
      SRV_BACKSTOP: 'https://u:p@b.example/publish/docker',
      SRV_DOCKER: 'tcp://10.0.0.1:2375',
      SRV_PREFIX: '{"regexp":"(.*)","into":"$1"}',
      SRV_POLL: '1m30s',
      SRV_INCLUDE: 'web-*, db-*',
      SRV_EXCLUDE: '*-canary',
      SRV_LABEL: 'team=ops,monitored',
      SRV_PATH_PREFIX: 'dc1.{host}',
      SRV_SHUTDOWN_TIMEOUT: '5s',
      SRV_VERBOSE: 'true',
    };
    const c = parse([], env);
    assert.equal(c.backstop?.href, 'https://u:p@b.example/publish/docker');
    assert.deepEqual(c.docker, {
      kind: 'tcp',
      protocol: 'http',
      host: '10.0.0.1',
      port: 2375,
      display: 'http://10.0.0.1:2375',
    });
    assert.equal(c.rules.length, 1);
    assert.equal(c.pollMs, 90_000);
    assert.equal(c.filter.include.length, 2);
    assert.equal(c.filter.exclude.length, 1);
    assert.deepEqual(c.filter.labels, [
      { key: 'team', value: 'ops' },
      { key: 'monitored', value: undefined },
    ]);
    assert.equal(c.pathPrefix, 'dc1.web01.example.com');
    assert.equal(c.shutdownTimeoutMs, 5_000);
    assert.equal(c.verbose, true);
    const flags = parse(['--poll=10s', '--include', 'a', '--include', 'b', '--include', 'c', '--no-verbose'], env);
    assert.equal(flags.pollMs, 10_000);
    assert.equal(flags.filter.include.length, 3);
    assert.equal(flags.verbose, false);
  });

  it('takes DOCKER_HOST when --docker is not given, TLS when DOCKER_TLS_VERIFY is set', () => {
    assert.deepEqual(parse([], { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).docker, {
      kind: 'unix',
      socketPath: '/run/user/1000/docker.sock',
      display: 'unix:///run/user/1000/docker.sock',
    });
    const tls = parse([], { DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1' }).docker;
    assert.equal(tls.kind === 'tcp' && tls.protocol, 'https');
    assert.equal(parse(['--docker=http://d:1234']).docker.display, 'http://d:1234');
  });

  it('treats an empty variable as unset, as the original did', () => {
    assert.equal(parse([], { SRV_POLL: '', SRV_BACKSTOP: '' }).pollMs, 60_000);
  });

  it('joins --prefix and --rules, prefix rules first', () => {
    const c = parse(['--prefix={"regexp":"a","into":"b"}', '--rules=[{"regexp":"c","into":"d","category":"x"}]']);
    assert.deepEqual(
      c.rules.map((r) => [r.source, r.into, r.category]),
      [
        ['a', 'b', undefined],
        ['c', 'd', 'x'],
      ],
    );
  });

  it("accepts the Go daemon's capitalised JSON keys", () => {
    const [rule] = parse(['--rules=[{"Regexp":"(.*)","Into":"$1","Category":"web"}]']).rules;
    assert.equal(rule?.into, '$1');
    assert.equal(rule?.category, 'web');
  });

  it('--help and --version win over bad values', () => {
    assert.equal(parseConfig({ argv: ['--poll=x', '--help'], env: {}, hostname: 'h', homedir: '/' }).kind, 'help');
    assert.equal(parseConfig({ argv: ['--version'], env: {}, hostname: 'h', homedir: '/' }).kind, 'version');
  });
});

describe('parseConfig: --hostname and --backstop-file (deployment in Swarm and Kubernetes)', () => {
  const URL_IN_FILE = 'https://ops:fake-Pw-7@backstop.example/publish/docker';
  const files: Record<string, string> = {
    '/run/secrets/backstop_url': `${URL_IN_FILE}\n`,
    '/run/secrets/empty': ' \n',
    '/run/secrets/password': 'fake-Pw-7\n',
  };
  const readFile = (path: string): string => {
    const text = files[path];
    if (text === undefined) {
      const message = `ENOENT: no such file or directory, open '${path}'`;
      throw Object.assign(new Error(message), { code: 'ENOENT', syscall: 'open', path });
    }
    return text;
  };
  const run = (argv: string[], env: Record<string, string> = {}) =>
    parseConfig({ argv, env, hostname: 'pod-7f9c4', homedir: '/nonexistent', exists, readFile });
  const config = (argv: string[], env: Record<string, string> = {}): Config => {
    const out = run(argv, env);
    if (out.kind !== 'config') assert.fail(`expected a config, got ${JSON.stringify(out)}`);
    return out.config;
  };
  const problems = (argv: string[], env: Record<string, string> = {}): string[] => {
    const out = run(argv, env);
    if (out.kind !== 'invalid') assert.fail(`expected problems, got ${out.kind}`);
    return [...out.problems];
  };

  it('--hostname names the host path, {host} and the Pushgateway instance instead of the OS host name', () => {
    const os = config(['--path-prefix', 'dc1.{host}', '--carbon-prefix', '{host}']);
    assert.equal(os.hostPath, 'pod-7f9c4');
    const c = config(['--path-prefix', 'dc1.{host}', '--carbon-prefix', '{host}'], {
      SRV_HOSTNAME: 'node-3.example.com',
    });
    assert.equal(c.hostPath, 'node-3.example.com');
    assert.equal(c.pathPrefix, 'dc1.node-3.example.com');
    assert.equal(c.carbonPrefix, 'node-3.example.com');
    assert.equal(c.pushgatewayInstance, 'node-3.example.com');
    assert.equal(config(['--hostname', 'a'], { SRV_HOSTNAME: 'b' }).hostPath, 'a', 'the flag beats its variable');
    assert.equal(config(['--hostname', 'a', '--pushgateway-instance', 'p']).pushgatewayInstance, 'p');
    assert.deepEqual(problems(['--hostname=  ']), [
      '--hostname: is empty; give the name of the host (a node name), or leave it out for the OS host name',
    ]);
  });

  it('--backstop-file reads the Backstop URL from a file, its newline trimmed', () => {
    assert.equal(config([], { SRV_BACKSTOP_FILE: '/run/secrets/backstop_url' }).backstop?.href, URL_IN_FILE);
    assert.equal(config(['--backstop-file=/run/secrets/backstop_url']).backstop?.href, URL_IN_FILE);
  });

  it('--backstop-file: a bad file or --backstop too is a problem naming the variable, no password', () => {
    assert.deepEqual(problems([], { SRV_BACKSTOP_FILE: '/run/secrets/nope' }), [
      'SRV_BACKSTOP_FILE: cannot read "/run/secrets/nope" (ENOENT: no such file or directory); ' +
        'give a readable file holding the Backstop URL',
    ]);
    assert.match(
      problems([], { SRV_BACKSTOP_FILE: '/run/secrets/empty' })[0]!,
      /^SRV_BACKSTOP_FILE \(\/run\/secrets\/empty\): the file is empty/,
    );
    const bare = problems(['--backstop-file', '/run/secrets/password']);
    assert.match(bare[0]!, /^--backstop-file \(\/run\/secrets\/password\): /);
    assert.match(bare[0]!, /: the file does not hold an http or https URL \(its content is not shown\)/);
    assert.ok(!bare[0]!.includes('fake-Pw-7'));
    // A password with a colon would parse as a URL of its own scheme: not shown either.
    files['/run/secrets/colon'] = 'fake:Pw-7';
    const colon = problems([], { SRV_BACKSTOP_FILE: '/run/secrets/colon' });
    assert.match(colon[0]!, /^SRV_BACKSTOP_FILE \(\/run\/secrets\/colon\): /);
    assert.match(colon[0]!, /: the file does not hold an http or https URL \(its content is not shown\)/);
    assert.ok(!colon[0]!.includes('Pw-7'));
    files['/run/secrets/bad-port'] = 'https://ops:fake-Pw-7@backstop.example:99999/publish/docker';
    const badPort = problems([], { SRV_BACKSTOP_FILE: '/run/secrets/bad-port' });
    assert.match(badPort[0]!, /^SRV_BACKSTOP_FILE \(\/run\/secrets\/bad-port\): /);
    assert.match(badPort[0]!, /: "https:\/\/ops:\*\*\*@backstop\.example:99999\/publish\/docker" is not a URL/);
    assert.deepEqual(
      problems(['--backstop', 'http://b/publish/x'], { SRV_BACKSTOP_FILE: '/run/secrets/backstop_url' }),
      ['SRV_BACKSTOP_FILE: --backstop is given too; give the Backstop URL one way only'],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTIONS } from '../../src/cli.js';
import { parseConfig, readBackstopFile, type ParseOutcome } from '../../src/config.js';
import { parseDuration } from '../../src/config/duration.js';
import { displayUrl } from '../../src/redact.js';

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
const SECRET = 'Zq9PWuniq';

const run = (
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
  host = 'h',
): ParseOutcome =>
  parseConfig({
    argv,
    env,
    hostname: host,
    homedir: '/nonexistent',
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
  });
const problems = (argv: string[], env: Record<string, string> = {}): readonly string[] => {
  const out = run(argv, env);
  if (out.kind !== 'invalid') assert.fail(`expected problems, got ${out.kind}`);
  return out.problems;
};

/** Everything an outcome could show: its problems, or the URLs of its config as they are displayed. */
function shown(out: ParseOutcome): string {
  if (out.kind === 'invalid') return out.problems.join('\n');
  if (out.kind !== 'config') return '';
  const c = out.config;
  return (
    [c.backstop, c.pushgateway]
      .filter((u): u is URL => u !== undefined)
      .map(displayUrl)
      .join('\n') + JSON.stringify(c.carbon)
  );
}

describe('parseConfig: no password in a problem, whatever it holds (issue 26, item 7)', () => {
  const passwords = [
    ...PRINTABLE.map((c) => `a${c}${SECRET}${c}`),
    ...PRINTABLE.map((c) => `a${encodeURIComponent(c)}${SECRET}`),
    // Digits first: `u:2024?…@host` parses as host `u`, port 2024, and the rest as a path, query or fragment.
    ...PRINTABLE.map((c) => `2024${c}${SECRET}`),
    `${PRINTABLE.join('')}${SECRET}`,
  ];

  it('--backstop, SRV_BACKSTOP, --backstop-file, --carbon, --pushgateway, --docker', () => {
    for (const pw of passwords) {
      for (const port of ['99999', '8080']) {
        const http = `http://u:${pw}@127.0.0.1:${port}/publish/x`;
        const outcomes = [
          run(['--backstop', http]),
          run([], { SRV_BACKSTOP: http }),
          run(['--backstop-file', '/s/url'], {}, { '/s/url': `${http}\n` }),
          run(['--carbon', `tcp://u:${pw}@graphite:${port}`]),
          run(['--pushgateway', `https://u:${pw}@pg:${port}/`]),
          run(['--docker', `tcp://u:${pw}@engine:${port}`]),
        ];
        for (const out of outcomes) {
          assert.ok(!shown(out).includes(SECRET), `password ${JSON.stringify(pw)} shown:\n${shown(out)}`);
        }
      }
    }
  });

  it("the issue's example names the flag and shows neither the password nor its tail", () => {
    const [line, ...rest] = problems(['--backstop', `http://u:a@${SECRET}@127.0.0.1:99999/x`]);
    assert.deepEqual(rest, []);
    assert.match(line!, /^--backstop: "http:\/\/u:\*\*\*@127\.0\.0\.1:99999\/x" is not a URL/);
    for (const c of '/?#') {
      const [digits, ...more] = problems(['--backstop', `http://u:2024${c}${SECRET}@127.0.0.1:8080/x`]);
      assert.deepEqual(more, []);
      assert.match(
        digits!,
        /^--backstop: the value \(not shown: it may hold a password\) has an @ after its host;.*%2F %3F %23/,
      );
    }
    const [slash] = problems(['--backstop', `http://u:a/${SECRET}@127.0.0.1:8080/x`]);
    assert.match(
      slash!,
      /^--backstop: the value \(not shown: it may hold a password\) is not a URL;.*%2F %3F %23 %40 %25/,
    );
  });
});

describe('parseConfig: bad values exit 2 naming the flag (issue 26, item 8)', () => {
  it("a % not followed by two hex digits in a URL's user-info or a unix:// path", () => {
    assert.equal(
      problems(['--backstop', `http://u:%zz${SECRET}@b:8080/publish/x`])[0],
      '--backstop: the user-info of "http://***@b:8080/publish/x" has a % not followed by two hex digits; ' +
        'write % in a user name or password as %25',
    );
    assert.match(
      problems([], { SRV_PUSHGATEWAY: 'http://%zz@pg:9091' })[0]!,
      /^SRV_PUSHGATEWAY: the user-info of .* has a % not followed/,
    );
    assert.match(
      problems(['--docker', 'unix:///run/a%zz.sock'])[0]!,
      /^--docker: "unix:\/\/\/run\/a%zz.sock" has a % not followed by two hex digits in its path/,
    );
    assert.match(problems(['--docker', 'ssh://%zz@host'])[0]!, /^--docker: the user-info of/);
    assert.ok(
      !problems(['--backstop', `http://u:%zz${SECRET}@b:8080/publish/x`])
        .join()
        .includes(SECRET),
    );
  });

  it('durations are whole milliseconds, so that ticks stay multiples of --poll', () => {
    for (const [value, ms] of [
      ['1.0000001s', 1_000],
      ['1234567us', 1_235],
      ['2.5s', 2_500],
    ] as const) {
      const out = run(['--poll', value]);
      assert.equal(out.kind === 'config' && out.config.pollMs, ms, value);
    }
  });

  it('every duration flag is bounded, the bounds in the message', () => {
    const cases: [string, string, RegExp][] = [
      ['--poll', '10us', /^--poll: "10us" is out of bounds; it must be from 1s to 24h$/],
      ['--poll', '999ms', /from 1s to 24h/],
      ['--poll', '99999h', /^--poll: "99999h" is out of bounds; it must be from 1s to 24h$/],
      ['--poll', '24h1ms', /from 1s to 24h/],
      ['--poll', '0', /from 1s to 24h/],
      ['--poll', '-1s', /from 1s to 24h/],
      ['--stall-timeout', '99999h', /^--stall-timeout: "99999h" is out of bounds; it must be from 2s to 24h$/],
      ['--stall-timeout', '1s', /from 2s to 24h/],
      ['--shutdown-timeout', '2h', /^--shutdown-timeout: "2h" is out of bounds; it must be 0 or more, up to 1h$/],
      ['--shutdown-timeout', '-1s', /0 or more, up to 1h/],
    ];
    for (const [flag, value, says] of cases) {
      const p = problems([`${flag}=${value}`]);
      assert.equal(p.length, 1, `${flag}=${value}: ${p.join('; ')}`);
      assert.match(p[0]!, says);
    }
    const edges = run(['--poll=1s', '--stall-timeout=24h', '--shutdown-timeout=0s']);
    assert.equal(edges.kind, 'config');
    const top = run(['--poll=24h', '--stall-timeout=2s', '--shutdown-timeout=1h']);
    assert.ok(top.kind === 'config' && top.config.pollMs === 86_400_000 && top.config.shutdownTimeoutMs === 3_600_000);
    // Within what a Node timer holds, and what the README says.
    for (const { bounds } of OPTIONS) if (bounds) assert.ok(parseDuration(bounds.max) <= 2 ** 31 - 1);
  });

  it('every bad rule of --rules and --prefix at once, each naming its rule', () => {
    const p = problems(['--rules=[{"regexp":"("},{"regexp":"ok"},{"into":"x"},{"regexp":"(?=a)"}]', '--prefix=[1]']);
    assert.deepEqual(
      p.map((l) => l.replace(/(is invalid|must be|needs).*/, '$1')),
      [
        '--prefix: rule 1 must be',
        '--rules: rule 1: regexp "(" is invalid',
        '--rules: rule 3 needs',
        '--rules: rule 4: regexp "(?=a)" is invalid',
      ],
    );
  });
});

describe('parseConfig: --prom-labels (issue 26, item 10)', () => {
  it('two keys that become one Prometheus label name are a problem naming both', () => {
    assert.deepEqual(
      problems(['--listen=:0', '--prom-labels', 'com.example.team', '--prom-labels', 'com-example-team,app']),
      [
        '--prom-labels: "com.example.team" and "com-example-team" both become the Prometheus label ' +
          'label_com_example_team; keep one of them',
      ],
    );
    assert.match(
      problems([], { SRV_PROM_LABELS: 'a.b,a/b,a_b' })[0]!,
      /^SRV_PROM_LABELS: "a\.b" and "a\/b" and "a_b" both become the Prometheus label label_a_b/,
    );
    const ok = run(['--prom-labels', 'team', '--prom-labels', 'team,app']);
    assert.ok(ok.kind === 'config');
    assert.deepEqual(ok.config.promLabels, ['team', 'app']);
  });
});

describe('parseConfig: the host path as the Go daemon wrote it', () => {
  it("keeps the host name's dots as path separators, each segment sanitised, empty ones dropped", () => {
    const hostPath = (host: string, argv: string[] = []): string => {
      const out = run(argv, {}, {}, host);
      if (out.kind !== 'config') assert.fail(out.kind);
      return out.config.hostPath;
    };
    assert.equal(hostPath('web1.example.com'), 'web1.example.com');
    assert.equal(hostPath('my host..lan.'), 'my_host.lan');
    assert.equal(hostPath('...'), 'unknown-host');
    assert.equal(hostPath('x', ['--hostname', 'Node 3.dc1']), 'Node_3.dc1');
    const prefixed = run(['--path-prefix', 'dc1.{host}'], {}, {}, 'web1.example.com');
    assert.ok(prefixed.kind === 'config' && prefixed.config.pathPrefix === 'dc1.web1.example.com');
  });
});

describe('readBackstopFile (SIGHUP)', () => {
  it('reads the URL again, or says what is wrong without showing the file', () => {
    const file = { path: '/s/url', from: '--backstop-file' };
    const good = readBackstopFile(file, () => `https://u:${SECRET}@b/publish/x\n`);
    assert.ok('url' in good && good.url.password === SECRET);
    const bad = readBackstopFile(file, () => `${SECRET}\n`);
    assert.ok('problems' in bad);
    assert.match(bad.problems[0]!, /^--backstop-file \(\/s\/url\): the file does not hold an http or https URL/);
    assert.ok(!bad.problems.join().includes(SECRET));
    const gone = readBackstopFile(file, () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    });
    assert.ok('problems' in gone && /cannot read "\/s\/url" \(ENOENT\)/.test(gone.problems[0]!));
  });
});

describe('parseConfig: --metrics +group / -group and the opt-in groups (issue 27)', () => {
  const groups = (argv: string[], env: Record<string, string> = {}): string[] => {
    const out = run(argv, env);
    if (out.kind !== 'config') assert.fail(`expected a config, got ${JSON.stringify(out)}`);
    return [...out.config.metrics.groups].sort();
  };
  const problemsOf = (argv: string[], env: Record<string, string> = {}): readonly string[] => {
    const out = run(argv, env);
    return out.kind === 'invalid' ? out.problems : assert.fail(`expected problems, got ${out.kind}`);
  };
  const defaults = ['blkio', 'cpu', 'health', 'memory', 'network', 'pids'];

  it('swarm and disk are off by default, and a plain list still replaces the default set', () => {
    assert.deepEqual(
      groups([]).filter((g) => g === 'swarm' || g === 'disk'),
      [],
    );
    for (const g of defaults) assert.ok(groups([]).includes(g), g);
    assert.deepEqual(groups(['--metrics=cpu,disk']), ['cpu', 'disk']);
    assert.deepEqual(groups([], { SRV_METRICS: 'swarm' }), ['swarm']);
  });

  it('+group adds to the default set and -group removes from it, from the flag or the variable', () => {
    const base = groups([]);
    assert.deepEqual(groups(['--metrics=+swarm,+disk']), [...base, 'disk', 'swarm'].sort());
    assert.deepEqual(
      groups(['--metrics=-blkio']),
      base.filter((g) => g !== 'blkio'),
    );
    assert.deepEqual(
      groups([], { SRV_METRICS: '+Swarm, -blkio, -network' }),
      [...base.filter((g) => g !== 'blkio' && g !== 'network'), 'swarm'].sort(),
    );
    // Removing one that is not on, or adding one twice, is harmless.
    assert.deepEqual(groups(['--metrics=-disk,+cpu']), base);
  });

  it('mixing plain and +/- names, or an unknown name, is a problem naming the flag', () => {
    const mixed = problemsOf(['--metrics=cpu,+swarm']);
    assert.equal(mixed.length, 1);
    assert.match(mixed[0]!, /^--metrics: "cpu,\+swarm" mixes plain group names with \+group \/ -group/);
    assert.match(problemsOf([], { SRV_METRICS: '-cpu,memory' })[0]!, /^SRV_METRICS: .*mixes/);
    assert.match(
      problemsOf(['--metrics=+swarms'])[0]!,
      /^--metrics: "\+swarms" is not a metric group; use .*swarm, disk/,
    );
    assert.match(problemsOf(['--metrics=+'])[0]!, /^--metrics: "\+" is not a metric group/);
  });

  it('--disk-interval: 10 minutes by default, bounded like the other durations', () => {
    const out = run([]);
    assert.ok(out.kind === 'config' && out.config.diskIntervalMs === 600_000);
    const env = run([], { SRV_DISK_INTERVAL: '30s' });
    assert.ok(env.kind === 'config' && env.config.diskIntervalMs === 30_000);
    assert.match(
      problemsOf(['--disk-interval=500ms'])[0]!,
      /^--disk-interval: "500ms" is out of bounds; it must be from 1s to 24h$/,
    );
    assert.match(problemsOf(['--disk-interval=25h'])[0]!, /from 1s to 24h/);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBinary } from '../helpers/daemon.js';

/** Bad input, run against the built binary: exit 2, one message naming the flag, no stack trace. */
const PASSWORD = 'cli-Secret-pw-42';

const BAD: { args: string[]; env?: Record<string, string>; names: string; says: RegExp }[] = [
  { args: ['--poll=abc'], names: '--poll', says: /"abc" is not a duration.*90s/ },
  { args: ['--poll=0'], names: '--poll', says: /out of bounds; it must be from 1s to 24h/ },
  { args: ['--poll=-1s'], names: '--poll', says: /out of bounds; it must be from 1s to 24h/ },
  { args: ['--poll=99999h'], names: '--poll', says: /"99999h" is out of bounds; it must be from 1s to 24h/ },
  { args: ['--poll=10us'], names: '--poll', says: /"10us" is out of bounds/ },
  { args: ['--stall-timeout=99999h'], names: '--stall-timeout', says: /out of bounds; it must be from 2s to 24h/ },
  {
    args: ['--shutdown-timeout=99999h'],
    names: '--shutdown-timeout',
    says: /out of bounds; it must be 0 or more, up to 1h/,
  },
  {
    args: [`--backstop=http://u:%zz${PASSWORD}@127.0.0.1:8080/publish/x`],
    names: '--backstop',
    says: /user-info .* has a % not followed by two hex digits/,
  },
  {
    args: [`--backstop=http://u:a@${PASSWORD}@127.0.0.1:99999/x`],
    names: '--backstop',
    says: /"http:\/\/u:\*\*\*@127\.0\.0\.1:99999\/x" is not a URL/,
  },
  { args: ['--docker=unix:///run/a%zz.sock'], names: '--docker', says: /% not followed by two hex digits in its path/ },
  {
    args: ['--prom-labels=a.b,a-b'],
    names: '--prom-labels',
    says: /"a\.b" and "a-b" both become the Prometheus label label_a_b/,
  },
  { args: ['--poll=60'], names: '--poll', says: /"60" has no unit/ },
  { args: [], env: { SRV_POLL: 'soon' }, names: 'SRV_POLL', says: /"soon" is not a duration/ },
  { args: ['--shutdown-timeout=forever'], names: '--shutdown-timeout', says: /not a duration/ },
  { args: ['--prefix=notjson'], names: '--prefix', says: /not valid JSON/ },
  { args: ['--prefix={"regexp":"(","into":"x"}'], names: '--prefix', says: /regexp "\(" is invalid/ },
  { args: ['--prefix={"into":"x"}'], names: '--prefix', says: /needs a non-empty string "regexp"/ },
  {
    args: ['--rules=[{"regexp":"(?<=a)b"}]'],
    names: '--rules',
    says: /rule 1: regexp "\(\?<=a\)b" is invalid: .*has no lookbehind/,
  },
  { args: ['--rules={"regexp":"a"}'], names: '--rules', says: /JSON array/ },
  { args: [], env: { SRV_RULES: '[1]' }, names: 'SRV_RULES', says: /must be an object/ },
  { args: [`--backstop=ftp://ops:${PASSWORD}@h/publish/x`], names: '--backstop', says: /not an http or https URL/ },
  { args: ['--backstop=not a url'], names: '--backstop', says: /is not a URL/ },
  { args: [], env: { SRV_BACKSTOP: `gopher://ops:${PASSWORD}@h/` }, names: 'SRV_BACKSTOP', says: /ops:\*\*\*@h/ },
  {
    args: ['--docker=npipe:////./pipe/docker_engine'],
    names: '--docker',
    says: /unsupported scheme "npipe".*unix:\/\/\/path.*ssh:\/\/\[user@\]host\[:port\]/,
  },
  {
    args: [`--docker=ssh://root:${PASSWORD}@host`],
    names: '--docker',
    says: /"ssh:\/\/root:\*\*\*@host" must be ssh:\/\/\[user@\]host\[:port\] \(the key comes from the SSH agent/,
  },
  {
    args: ['--docker=ssh://root@host', '--ssh-known-hosts=/nonexistent/known_hosts'],
    names: '--ssh-known-hosts',
    says: new RegExp(
      'ssh:// needs the host\'s key in a known_hosts file, and "/nonexistent/known_hosts" cannot be read ' +
        '\\(ENOENT: no such file or directory\\).*ssh-keyscan -p 22 host',
    ),
  },
  { args: ['--docker=unix://'], names: '--docker', says: /names no socket/ },
  {
    args: [],
    env: { DOCKER_HOST: 'npipe:////./pipe/docker_engine' },
    names: 'DOCKER_HOST',
    says: /unsupported scheme "npipe"/,
  },
  { args: ['--include=web[1'], names: '--include', says: /unclosed/ },
  { args: ['--label==x'], names: '--label', says: /no label key/ },
  { args: [], env: { SRV_VERBOSE: 'maybe' }, names: 'SRV_VERBOSE', says: /not a boolean/ },
  {
    args: ['--metrics=cpu,disks'],
    names: '--metrics',
    says: /"disks" is not a metric group.*cpu, memory, network, blkio, pids, health/,
  },
  { args: ['--metrics=+swarm,+dsk'], names: '--metrics', says: /"\+dsk" is not a metric group/ },
  { args: ['--metrics=cpu,+swarm'], names: '--metrics', says: /mixes plain group names with \+group \/ -group/ },
  {
    args: [],
    env: { SRV_DISK_INTERVAL: '0s' },
    names: 'SRV_DISK_INTERVAL',
    says: /out of bounds; it must be from 1s to 24h/,
  },
  { args: [], env: { SRV_METRICS: ' , ' }, names: 'SRV_METRICS', says: /names no metric group/ },
  { args: [], env: { SRV_PER_DEVICE: 'perhaps' }, names: 'SRV_PER_DEVICE', says: /not a boolean/ },
  { args: ['--mode=pull'], names: '--mode', says: /"pull" is not a mode; use stream, oneshot or cgroup/ },
  { args: ['--concurrency=0'], names: '--concurrency', says: /not a whole number greater than 0/ },
  { args: ['--spool-max-bytes=lots'], names: '--spool-max-bytes', says: /not a size/ },
  { args: [], env: { SRV_STALL_TIMEOUT: '0s' }, names: 'SRV_STALL_TIMEOUT', says: /out of bounds/ },
  { args: ['--frobnicate'], names: '--frobnicate', says: /unknown flag/ },
  { args: ['stray'], names: '"stray"', says: /unexpected argument/ },
  {
    args: [`--carbon=http://ops:${PASSWORD}@h:2003`],
    names: '--carbon',
    says: /unsupported scheme "http" in "http:\/\/ops:\*\*\*@h:2003\/".*tcp:\/\/host\[:port\] or udp:\/\/host\[:port\]/,
  },
  { args: ['--carbon=graphite:2003'], names: '--carbon', says: /unsupported scheme "graphite".*tcp:\/\/host/ },
  { args: ['--carbon=tcp://h:2003/path'], names: '--carbon', says: /must name a host and port only/ },
  { args: [], env: { SRV_CARBON: 'not a url' }, names: 'SRV_CARBON', says: /is not a URL; use tcp:\/\// },
  { args: ['--listen=9417'], names: '--listen', says: /"9417" is not a listen address; use ADDR:PORT/ },
  { args: ['--listen=127.0.0.1:99999'], names: '--listen', says: /not a listen address.*0-65535/ },
  { args: [], env: { SRV_LISTEN: 'http://0.0.0.0:9417' }, names: 'SRV_LISTEN', says: /not a listen address/ },
  { args: ['--listen=:9417', '--tls-cert=/nonexistent/cert.pem'], names: '--tls-cert', says: /needs --tls-key/ },
  {
    args: ['--listen=:9417', '--tls-cert=/nonexistent/cert.pem', '--tls-key=/nonexistent/key.pem'],
    names: '--tls-key',
    says: /cannot read "\/nonexistent\/key.pem" \(ENOENT: no such file or directory\)/,
  },
  { args: ['--tls-cert=/etc/hostname', '--tls-key=/etc/hostname'], names: '--tls-cert', says: /TLS is for --listen/ },
  {
    args: [`--pushgateway=ftp://ops:${PASSWORD}@h`],
    names: '--pushgateway',
    says: /"ftp:\/\/ops:\*\*\*@h\/" is not an http or https URL/,
  },
  {
    args: [],
    env: { SRV_PUSHGATEWAY: `http://ops:${PASSWORD}@h:9091/metrics/job/x` },
    names: 'SRV_PUSHGATEWAY',
    says: /"http:\/\/ops:\*\*\*@h:9091\/metrics\/job\/x" already holds \/metrics/,
  },
];

describe('command line', () => {
  for (const bad of BAD) {
    const label = [...bad.args, ...Object.entries(bad.env ?? {}).map(([k, v]) => `${k}=${v}`)].join(' ');
    it(`exits 2 on ${label}`, async () => {
      const { code, stdout, stderr } = await runBinary(bad.args, bad.env);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      const line = stderr.split('\n').find((l) => l.includes(bad.names));
      assert.ok(line, `no line names ${bad.names}:\n${stderr}`);
      assert.match(line, bad.says);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      assert.ok(!stderr.includes(PASSWORD), 'password leaked');
    });
  }

  it('SRV_BACKSTOP_FILE: a file that is no URL exits 2 naming the variable, without printing the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstb-cli-'));
    try {
      const file = join(dir, 'backstop_url');
      writeFileSync(file, `${PASSWORD}\n`);
      const { code, stdout, stderr } = await runBinary([], { SRV_BACKSTOP_FILE: file });
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.match(stderr, new RegExp(`SRV_BACKSTOP_FILE \\(${file}\\): the file does not hold an http or https URL`));
      assert.ok(!stderr.includes(PASSWORD), 'password leaked');
      const missing = await runBinary(['--backstop-file', join(dir, 'none')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--backstop-file: cannot read ".*none" \(ENOENT: no such file or directory\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows no password of any printable character in problems or logs, through any URL flag', async () => {
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
    const raw = printable.filter((c) => !'/?#\\%'.includes(c)).join('');
    // Passwords as a user may write them: any character raw, those a URL cannot hold raw alone, all escaped.
    const passwords = [
      `${raw}${PASSWORD}`,
      ...[...'/?#\\%@" '].map((c) => `a${c}${PASSWORD}${c}`),
      encodeURIComponent(`${printable.join('')}${PASSWORD}`),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'dstb-cli-'));
    try {
      for (const pw of passwords) {
        const file = join(dir, 'backstop_url');
        writeFileSync(file, `http://u:${pw}@127.0.0.1:99999/publish/x\n`);
        for (const args of [
          [`--backstop=http://u:${pw}@127.0.0.1:99999/publish/x`, `--carbon=tcp://u:${pw}@127.0.0.1:2003`],
          [`--backstop-file=${file}`, `--pushgateway=http://u:${pw}@127.0.0.1:99999/`],
        ]) {
          const { code, stdout, stderr } = await runBinary(args);
          assert.equal(code, 2, `${JSON.stringify(pw)}: ${stderr}`);
          assert.ok(!(stdout + stderr).includes(PASSWORD), `password ${JSON.stringify(pw)} leaked:\n${stderr}`);
          assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
        }
      }
      // Valid URLs to a closed port: the daemon runs, fails to send, and says so in log lines.
      for (const pw of [
        `${raw}${PASSWORD}`,
        `a@${PASSWORD}@`,
        encodeURIComponent(`${printable.join('')}${PASSWORD}`),
      ]) {
        const file = join(dir, 'backstop_url');
        writeFileSync(file, `http://u:${pw}@127.0.0.1:1/publish/x\n`);
        const { code, stdout, stderr } = await runBinary([
          '--once',
          '--poll=1s',
          '--shutdown-timeout=1s',
          '--label=dstb.none=none',
          `--backstop-file=${file}`,
          `--pushgateway=http://u:${pw}@127.0.0.1:1/`,
        ]);
        assert.equal(code, 1, stderr);
        assert.match(stderr, /POST http:\/\/u:\*\*\*@127\.0\.0\.1:1\/publish\/x failed/);
        assert.match(stderr, /PUT http:\/\/u:\*\*\*@127\.0\.0\.1:1\/metrics\/job/);
        assert.ok(!(stdout + stderr).includes(PASSWORD), `password ${JSON.stringify(pw)} leaked:\n${stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every problem at once', async () => {
    const { code, stderr } = await runBinary(['--poll=abc', '--prefix=nope', '--docker=ftp://x', '--bogus'], {
      SRV_SHUTDOWN_TIMEOUT: 'x',
    });
    assert.equal(code, 2);
    for (const name of ['--poll', '--prefix', '--docker', '--bogus', 'SRV_SHUTDOWN_TIMEOUT']) {
      assert.ok(stderr.includes(`${name}:`), `${name} missing from:\n${stderr}`);
    }
  });

  it('reports every bad rule of an array at once', async () => {
    const { code, stderr } = await runBinary(['--rules=[{"regexp":"("},{"regexp":"ok"},{"into":"x"}]']);
    assert.equal(code, 2);
    assert.match(stderr, /--rules: rule 1: regexp "\(" is invalid/);
    assert.match(stderr, /--rules: rule 3 needs a non-empty string "regexp"/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('a flag beats its variable', async () => {
    const { code, stderr } = await runBinary(['--poll=abc'], { SRV_POLL: 'def' });
    assert.equal(code, 2);
    assert.match(stderr, /--poll: "abc"/);
    assert.doesNotMatch(stderr, /SRV_POLL/);
  });

  it("accepts the Go original's one-dash flags", async () => {
    const { code, stderr } = await runBinary(['-poll=abc']);
    assert.equal(code, 2);
    assert.match(stderr, /--poll: "abc"/);
  });

  it('--help lists every flag and variable, exits 0, shows no password from the environment', async () => {
    const { code, stdout } = await runBinary(['--help'], { SRV_BACKSTOP: `https://ops:${PASSWORD}@b/publish/docker` });
    assert.equal(code, 0);
    for (const word of [
      '--backstop',
      'SRV_BACKSTOP',
      '--docker',
      'SRV_DOCKER',
      '--prefix',
      'SRV_PREFIX',
      '--rules',
      'SRV_RULES',
      '--poll',
      'SRV_POLL',
      '--include',
      'SRV_INCLUDE',
      '--exclude',
      'SRV_EXCLUDE',
      '--label',
      'SRV_LABEL',
      '--path-prefix',
      'SRV_PATH_PREFIX',
      '--once',
      '--shutdown-timeout',
      'SRV_SHUTDOWN_TIMEOUT',
      '--metrics',
      'SRV_METRICS',
      '--per-interface',
      'SRV_PER_INTERFACE',
      '--per-device',
      'SRV_PER_DEVICE',
      '--verbose',
      'SRV_VERBOSE',
      '--version',
      '--backstop-file',
      'SRV_BACKSTOP_FILE',
      '--hostname',
      'SRV_HOSTNAME',
    ]) {
      assert.ok(stdout.includes(word), `--help lacks ${word}`);
    }
    assert.ok(!stdout.includes(PASSWORD));
  });

  it('--version prints the package version', async () => {
    const { code, stdout } = await runBinary(['--version']);
    assert.equal(code, 0);
    assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('--once exits 1 when Docker cannot be reached within the interval', async () => {
    const { code, stderr } = await runBinary(['--once', '--poll=1s', '--docker=unix:///tmp/dstb-no-such.sock']);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /could not be reached.*unix:\/\/\/tmp\/dstb-no-such\.sock/);
  });

  it('does not reject unrelated SRV_* variables', async () => {
    // Scoped to a label nobody carries: nothing to collect, a clean --once run.
    const { code, stderr } = await runBinary(['--once', '--poll=1s', '--label=dstb.none=none'], {
      SRV_FOO: 'bar',
      SRV_DATABASE_URL: 'postgres://x',
    });
    assert.equal(code, 0, stderr);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OPTIONS } from '../../src/cli.js';
import { parseConfig } from '../../src/config.js';
import { BIN } from '../helpers/daemon.js';

const exec = promisify(execFile);
const UNIT = fileURLToPath(new URL('../../systemd/docker-stats-to-backstop.service', import.meta.url));
const DEFAULTS = fileURLToPath(new URL('../../systemd/docker-stats-to-backstop.default', import.meta.url));
const CGROUP_DROP_IN = fileURLToPath(new URL('../../systemd/cgroup-mode.conf', import.meta.url));
const SETUP = fileURLToPath(new URL('../../scripts/ensure-systemd-analyze.sh', import.meta.url));
/** Variables the spool (delivery work in progress) reads; the example file documents them too. */
const SPOOL_VARIABLES = ['SRV_SPOOL_DIR', 'SRV_SPOOL_MAX_BYTES'];
const MAX_EXPOSURE = 2.0;

/** The unit's `Key=value` settings, in order (continuation lines are not used in the unit). */
function settings(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

describe('systemd unit (systemd/docker-stats-to-backstop.service)', () => {
  const unitText = readFileSync(UNIT, 'utf8');
  const set = settings(unitText);
  const value = (key: string): string | undefined => set.filter(([k]) => k === key).at(-1)?.[1];
  let dir: string;
  /** The unit as installed, except that ExecStart names this checkout's build (verify wants an executable). */
  let unitCopy: string;

  before(async () => {
    await exec('bash', [SETUP]);
    dir = mkdtempSync(join(tmpdir(), 'dstb-unit-'));
    unitCopy = join(dir, 'docker-stats-to-backstop.service');
    writeFileSync(unitCopy, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath} ${BIN}`));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * What `systemd-analyze verify` says about our unit. verify also loads the units ours pulls in
   * (docker.service, the targets) and through them whatever else the machine has installed, and
   * warns about those too (Debian's carbon-cache.service: `StandardOutput=syslog is obsolete`):
   * only lines naming our unit file or our unit count. Its exit status is judged by the same rule.
   */
  const verifyOurUnit = async (path: string): Promise<string[]> => {
    const { stdout, stderr } = await exec('systemd-analyze', ['verify', path]).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    return (stdout + stderr)
      .split('\n')
      .filter((l) => l.includes(path) || l.includes('docker-stats-to-backstop.service'));
  };

  it('passes systemd-analyze verify', async () => {
    assert.deepEqual(await verifyOurUnit(unitCopy), [], 'no warning about our unit');
  });

  it('would see a warning in our unit (the filter above hides only other units)', async () => {
    const broken = join(dir, 'broken', 'docker-stats-to-backstop.service');
    mkdirSync(join(dir, 'broken'));
    writeFileSync(
      broken,
      readFileSync(unitCopy, 'utf8').replace(/^\[Service\]$/m, '[Service]\nStandardOutput=syslog\nNoSuchSetting=1'),
    );
    const lines = await verifyOurUnit(broken);
    assert.ok(
      lines.some((l) => /syslog is obsolete/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /NoSuchSetting/.test(l)),
      lines.join('\n'),
    );
  });

  /** systemd-analyze security --offline's score of a unit file, and the lines of what it misses. */
  const exposure = async (path: string): Promise<{ score: number; missing: string[]; out: string }> => {
    const out = await exec('systemd-analyze', ['security', '--offline=true', '--no-pager', path]).then(
      (r) => r.stdout,
      // It exits non-zero when the score is above --threshold (100 by default); keep its output.
      (err: { stdout?: string }) => err.stdout ?? '',
    );
    const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out);
    assert.ok(m, `no score in:\n${out}`);
    return {
      score: Number(m[1]),
      missing: out
        .split('\n')
        .filter((l) => l.startsWith('✗'))
        .map((l) => l.replace(/\s+/g, ' ').trim()),
      out,
    };
  };

  it(`keeps the exposure score of systemd-analyze security --offline at or under ${MAX_EXPOSURE}`, async () => {
    const { score, missing } = await exposure(unitCopy);
    console.log(`# systemd-analyze security --offline=true: exposure ${score} (threshold ${MAX_EXPOSURE})`);
    console.log(missing.map((l) => `#   ${l}`).join('\n'));
    assert.ok(score <= MAX_EXPOSURE, `exposure ${score} > ${MAX_EXPOSURE}`);
  });

  it('with the cgroup-mode drop-in: /proc of other processes and /proc/stat visible, the rest hardened', async () => {
    // The unit with its drop-in applied: systemd reads drop-ins after the unit, so the drop-in's
    // settings come last (a later assignment of these settings wins).
    const combined = join(dir, 'cgroup', 'docker-stats-to-backstop.service');
    mkdirSync(join(dir, 'cgroup'));
    writeFileSync(combined, `${readFileSync(unitCopy, 'utf8')}\n${readFileSync(CGROUP_DROP_IN, 'utf8')}`);
    assert.deepEqual(await verifyOurUnit(combined), [], 'no warning about our unit');
    const dropIn = settings(readFileSync(CGROUP_DROP_IN, 'utf8'));
    assert.deepEqual(dropIn, [
      ['Environment', 'SRV_MODE=cgroup'],
      ['ProtectProc', 'default'],
      ['ProcSubset', 'all'],
    ]);
    const { score, missing } = await exposure(combined);
    console.log(
      `# with the cgroup-mode drop-in: exposure ${score}; ${missing.filter((l) => /Proc/.test(l)).join('; ')}`,
    );
    assert.ok(
      missing.some((l) => /ProtectProc=/.test(l)) && missing.some((l) => /ProcSubset=/.test(l)),
      'the two settings the drop-in gives up',
    );
    assert.ok(score <= MAX_EXPOSURE + 0.5, `exposure ${score}`);
    const env = Object.fromEntries(
      dropIn.filter(([k]) => k === 'Environment').map(([, v]) => v.split('=') as [string, string]),
    );
    const out = parseConfig({ argv: [], env, hostname: 'host', homedir: '/nonexistent', exists: () => true });
    assert.equal(out.kind === 'config' && out.config.mode, 'cgroup');
  });

  it('starts with Docker, restarts rate-limited, stops after the final flush, spools in a StateDirectory', () => {
    assert.match(value('After') ?? '', /\bdocker\.service\b/);
    assert.match(value('Requires') ?? '', /\bdocker\.service\b/);
    assert.equal(value('EnvironmentFile'), '-/etc/default/docker-stats-to-backstop');
    assert.equal(value('Restart'), 'on-failure');
    assert.ok(value('StartLimitIntervalSec') && value('StartLimitBurst'), 'a start rate limit');
    const stop = /^(\d+)s$/.exec(value('TimeoutStopSec') ?? '');
    assert.ok(stop && Number(stop[1]) > 10, 'TimeoutStopSec longer than the default --shutdown-timeout (10s)');
    assert.equal(value('StateDirectory'), 'docker-stats-to-backstop');
    assert.ok(set.some(([k, v]) => k === 'Environment' && v === 'SRV_SPOOL_DIR=/var/lib/docker-stats-to-backstop'));
    assert.equal(value('DynamicUser'), 'yes', 'an unprivileged user');
    assert.equal(value('SupplementaryGroups'), 'docker', 'only the docker group');
    assert.equal(value('CapabilityBoundingSet'), '');
    assert.equal(value('MemoryDenyWriteExecute'), undefined, "V8's JIT needs writable-executable memory");
    assert.equal(
      value('ExecStart'),
      '/usr/bin/docker-stats-to-backstop',
      "where `npm install -g` puts the bin with Debian's Node",
    );
  });

  it('ships an example environment file with every SRV_* variable, all commented out', () => {
    const text = readFileSync(DEFAULTS, 'utf8');
    const variables = [...OPTIONS.flatMap((o) => (o.env ? [o.env] : [])), ...SPOOL_VARIABLES];
    for (const name of variables) assert.match(text, new RegExp(`^#${name}=`, 'm'), `${name} is documented`);
    const active = text.split('\n').filter((l) => /^\s*[A-Z_]+=/.test(l));
    assert.deepEqual(active, [], 'nothing is set by default');
    assert.match(text, /^#SRV_SPOOL_DIR=\/var\/lib\/docker-stats-to-backstop$/m, 'the spool in the StateDirectory');
  });

  it('has example values the daemon accepts, read the way systemd reads the file', () => {
    const env: Record<string, string> = {};
    for (const line of readFileSync(DEFAULTS, 'utf8').split('\n')) {
      const m = /^#(SRV_[A-Z_]+)=(.*)$/.exec(line);
      // systemd's EnvironmentFile= parser, unquoted values: a backslash escapes the next character.
      if (m) env[m[1]!] = m[2]!.trim().replace(/\\(.)/g, '$1');
    }
    // SRV_BACKSTOP_FILE is the other way to give SRV_BACKSTOP: the two are parsed apart.
    const { SRV_BACKSTOP_FILE: backstopFile, ...rest } = env;
    const out = parseConfig({ argv: [], env: rest, hostname: 'host', homedir: '/nonexistent', exists: () => true });
    assert.equal(out.kind, 'config', JSON.stringify(out));
    assert.ok(backstopFile, 'SRV_BACKSTOP_FILE has an example');
    const fromFile = parseConfig({
      argv: [],
      env: { SRV_BACKSTOP_FILE: backstopFile },
      hostname: 'host',
      homedir: '/nonexistent',
      readFile: (path) => (path === backstopFile ? 'https://user:fake@backstop.example/publish/docker\n' : ''),
    });
    assert.equal(
      fromFile.kind === 'config' && fromFile.config.backstop?.host,
      'backstop.example',
      JSON.stringify(fromFile),
    );
  });
});

import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { pollUntil } from '../helpers/poll.js';
import { ensure, freePort, Prometheus, promtool } from '../helpers/services.js';

/**
 * deploy/prometheus/alerts.yml with Debian's promtool (`check rules`, and `test rules` over
 * alerts.test.yml, whose input series fire and do not fire each alert), and loaded by Debian's
 * prometheus next to a real daemon's /metrics, where every rule must evaluate without an error.
 */

const DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const ALERTS = join(DIR, 'alerts.yml');
const TESTS = join(DIR, 'alerts.test.yml');

describe('the Prometheus alerting rules with the real promtool and prometheus', () => {
  const prometheus = new Prometheus();
  const containers = new TestContainers();
  let daemon: DaemonProcess | undefined;
  let tmp = '';

  before(async () => {
    await ensure('ensure-docker.sh');
    await ensure('ensure-prometheus.sh');
    tmp = await mkdtemp(join(tmpdir(), 'dstb-alerts-'));
  });

  after(async () => {
    await daemon?.kill();
    await prometheus.cleanUp();
    await containers.cleanup();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('promtool check rules accepts alerts.yml', async () => {
    const { code, out } = await promtool(['check', 'rules', ALERTS]);
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS: 8 rules found/);
  });

  it('promtool test rules passes alerts.test.yml: each alert fires, and stays silent, where it should', async () => {
    const { code, out } = await promtool(['test', 'rules', TESTS]);
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS/);
  });

  it('the tests catch a rule that no longer fires: a copy with a raised OOM threshold fails them', async () => {
    const rules = await readFile(ALERTS, 'utf8');
    const broken = rules.replace(
      'increase(docker_container_oom_kills_total[5m]) > 0',
      'increase(docker_container_oom_kills_total[5m]) > 5',
    );
    assert.notEqual(broken, rules, 'the OOM rule is where the test expects it');
    await writeFile(join(tmp, 'alerts.yml'), broken);
    await copyFile(TESTS, join(tmp, 'alerts.test.yml'));
    const { code, out } = await promtool(['test', 'rules', join(tmp, 'alerts.test.yml')]);
    assert.notEqual(code, 0, out);
    assert.match(out, /alertname: DockerContainerOOMKills/);
  });

  it('prometheus loads the rules and evaluates every one of them against a real daemon without an error', async () => {
    // A quiet container of this test's own (the daemon sees no other): the container rules have series to evaluate.
    const idle = containers.name('idle');
    await containers.start(idle, { args: ['--memory', '64m', '--cpus', '0.5'] });
    const port = await freePort();
    daemon = new DaemonProcess([
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      containers.label,
      '--poll',
      '1s',
      '--listen',
      `127.0.0.1:${port}`,
    ]);
    await prometheus.start({ port, scheme: 'http', ruleFiles: [ALERTS] });
    await pollUntil(
      async () => (await prometheus.query(`docker_container_memory_limit{name="${idle}"}`)).length > 0,
      'the daemon scraped',
      60_000,
    );
    const groups = await pollUntil(
      async () => {
        const g = await prometheus.rules();
        const rules = g.flatMap((x) => x.rules);
        return rules.length === 8 && rules.every((r) => r.health === 'ok') ? g : undefined;
      },
      'every rule evaluated with health ok',
      60_000,
    );
    assert.deepEqual(
      groups.map((g) => g.name),
      ['docker-stats-to-backstop'],
    );
    for (const r of groups[0]!.rules) {
      assert.equal(r.type, 'alerting', r.name);
      assert.equal(r.lastError ?? '', '', r.name);
      assert.equal(r.state, 'inactive', `${r.name}: nothing on this host should fire it`);
    }
    assert.equal((await daemon.stop()).code, 0, daemon.stderr);
  });
});

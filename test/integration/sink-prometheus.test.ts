import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, IMAGE, TestContainers } from '../helpers/docker.js';
import { everyMetric, ISSUE_27, madeFamilies } from '../helpers/families.js';
import { ensure, freePort, Prometheus, promtool } from '../helpers/services.js';
import { pollUntil } from '../helpers/poll.js';
import { writeSelfSignedCert } from '../helpers/tls.js';
import { toRegistry } from '../../src/sinks/prometheus/registry.js';
import { familyHelp, toSeries } from '../../src/sinks/prometheus/series.js';

/**
 * `--listen`: GET /metrics (through prom-client) and GET /healthz, scraped by Debian's real
 * prometheus (its own config, port and data dir), whose query API must return the container series.
 */

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** GET over HTTPS trusting only `ca` (the test's self-signed certificate). */
function getTls(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Prometheus exposition scraped by the real prometheus', () => {
  const containers = new TestContainers();
  const daemons: DaemonProcess[] = [];
  const prometheus = new Prometheus();
  let tlsDir = '';
  let port = 0;
  const web = containers.name('web');
  const gone = containers.name('gone');
  let webId = '';

  const daemon = (args: string[]): DaemonProcess => {
    const d = new DaemonProcess(['--label', containers.label, '--poll', '1s', ...args]);
    daemons.push(d);
    return d;
  };
  const metricsHas = (pattern: RegExp, what: string, p = port) =>
    pollUntil(async () => pattern.test((await get(`http://127.0.0.1:${p}/metrics`)).body), what, 60_000);

  before(async () => {
    await ensure('ensure-docker.sh');
    await ensure('ensure-prometheus.sh');
    webId = await containers.start(web, { args: ['--memory', '64m', '--label', 'team=blue'] });
    await containers.start(gone);
    tlsDir = await mkdtemp(join(tmpdir(), 'dstb-tls-'));
    await writeSelfSignedCert(tlsDir);
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await prometheus.cleanUp();
    await containers.cleanup();
    if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
  });

  it('serves per-container series with name, id, image and chosen labels; prometheus stores them', async () => {
    port = await freePort();
    const d = daemon([
      '--docker',
      'unix:///var/run/docker.sock',
      '--listen',
      `127.0.0.1:${port}`,
      '--prom-labels',
      'team',
    ]);
    const line = new RegExp(
      `^docker_container_memory_limit\\{name="${web}",id="${webId}",image="${IMAGE.replace(/[.]/g, '\\.')}",` +
        'label_team="blue"\\} 67108864$',
      'm',
    );
    await pollUntil(
      async () => {
        const { body } = await get(`http://127.0.0.1:${port}/metrics`);
        return line.test(body);
      },
      `memory.limit of ${web} in /metrics`,
      60_000,
    );
    const { body } = await get(`http://127.0.0.1:${port}/metrics`);
    assert.match(body, /^# TYPE docker_container_cpu_total counter$/m);
    assert.match(body, /^# TYPE docker_container_memory_usage gauge$/m);
    assert.match(body, /^docker_stats_to_backstop_samples_total \d+$/m, "the daemon's own metrics");
    assert.match(
      body,
      new RegExp(`^docker_container_network_interface_rx_bytes_total\\{name="${web}",.*interface="eth0"\\} \\d+$`, 'm'),
    );
    const health = await get(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200, health.body);
    assert.equal(JSON.parse(health.body).status, 'ok');
    assert.equal(d.stdout, '', 'with --listen alone, nothing goes to stdout');
    const lint = await promtool(['check', 'metrics'], body);
    assert.equal(lint.code, 0, `promtool check metrics:\n${lint.out}`);

    await prometheus.start({ port, scheme: 'http' });
    const series = await pollUntil(
      async () => {
        const result = await prometheus.query(`docker_container_memory_limit{name="${web}"}`);
        return result.length > 0 ? result : undefined;
      },
      'prometheus query returning the container series',
      60_000,
    );
    assert.equal(series[0]!.value[1], String(64 * 1024 * 1024));
    assert.equal(series[0]!.metric['id'], webId);
    assert.equal(series[0]!.metric['image'], IMAGE);
    assert.equal(series[0]!.metric['label_team'], 'blue');
    assert.equal(series[0]!.metric['job'], 'dstb');
    const cpu = await pollUntil(
      async () => {
        const result = await prometheus.query(`rate(docker_container_cpu_total{name="${web}"}[10s])`);
        return result.length > 0 ? result : undefined;
      },
      'a rate over the cpu counter',
      60_000,
    );
    assert.ok(Number(cpu[0]!.value[1]) >= 0);

    await docker('rm', '-f', gone);
    await pollUntil(
      async () => !(await get(`http://127.0.0.1:${port}/metrics`)).body.includes(`name="${gone}"`),
      `${gone} leaves /metrics`,
      60_000,
    );
    assert.match(
      (await get(`http://127.0.0.1:${port}/metrics`)).body,
      new RegExp(`name="${web}"`),
      'the running one stays',
    );
    assert.equal((await d.stop()).code, 0, d.stderr);
    await assert.rejects(get(`http://127.0.0.1:${port}/metrics`), 'the server is closed with the daemon');
  });

  it("promtool check metrics accepts an exposition of every family the daemon makes, issue 27's included", async () => {
    const series = everyMetric().map((m) => toSeries(m, ['team']));
    const body = await toRegistry(series).metrics();
    const families = new Set(series.map((s) => s.family));
    const issue27 = new Set([...ISSUE_27.container, ...ISSUE_27.host].map(([name]) => name));
    const made = madeFamilies().filter((f) => issue27.has(f.name));
    assert.equal(made.length, issue27.size);
    for (const f of made) {
      const head = `\n# HELP ${f.family} ${familyHelp(f.family)}\n# TYPE ${f.family} ${f.kind}\n`;
      assert.ok(body.includes(head), `${f.family} with its help text and type`);
    }
    const lint = await promtool(['check', 'metrics'], body);
    assert.equal(lint.code, 0, `promtool check metrics:\n${lint.out}`);
    assert.ok(families.size >= 85, `${families.size} families`);
    // And it does lint: a counter without its suffix is refused.
    const bad = await promtool(['check', 'metrics'], '# HELP x_seconds x\n# TYPE x_seconds counter\nx_seconds 1\n');
    assert.notEqual(bad.code, 0, bad.out);
  });

  it("keeps a stopped container's exit_code and oom_killed in /metrics until it starts again", async () => {
    const quitter = containers.name('quitter');
    // Exits 3 on its first run once told to (/go); started again, it stays up (its file system keeps /ran).
    const cmd = 'if [ -e /ran ]; then exec sleep 600; fi; touch /ran; while [ ! -e /go ]; do sleep 0.2; done; exit 3';
    const id = await containers.start(quitter, { cmd: ['sh', '-c', cmd] });
    const p = await freePort();
    const d = daemon(['--docker', 'unix:///var/run/docker.sock', '--listen', `127.0.0.1:${p}`]);
    const uptime = new RegExp(`^docker_container_uptime\\{name="${quitter}"`, 'm');
    await metricsHas(uptime, `${quitter} followed`, p);
    await docker('exec', quitter, 'touch', '/go');
    const exitLine = new RegExp(`^docker_container_exit_code\\{name="${quitter}",id="${id}",[^}]*\\} 3$`, 'm');
    const oomLine = new RegExp(`^docker_container_oom_killed\\{name="${quitter}",id="${id}",[^}]*\\} 0$`, 'm');
    await metricsHas(exitLine, `exit_code 3 of ${quitter}`, p);
    const samplesNow = async () => {
      const body = (await get(`http://127.0.0.1:${p}/metrics`)).body;
      return Number(/^docker_stats_to_backstop_samples_total (\d+)$/m.exec(body)?.[1]);
    };
    const before = await samplesNow();
    await pollUntil(async () => (await samplesNow()) >= before + 6, 'six more samples (web: one a second)', 30_000);
    const later = (await get(`http://127.0.0.1:${p}/metrics`)).body;
    assert.match(later, exitLine, 'still there ticks after the stop');
    assert.match(later, oomLine);
    assert.ok(!uptime.test(later), 'its other series are gone');

    await docker('start', quitter);
    await metricsHas(uptime, `${quitter} reporting again`, p);
    const running = (await get(`http://127.0.0.1:${p}/metrics`)).body;
    assert.ok(!running.includes(`docker_container_exit_code{name="${quitter}"`), 'started again: the exit is over');
    assert.equal((await d.stop()).code, 0, d.stderr);
  });

  it('/healthz answers 503 saying why when the Engine cannot be reached, or a sink keeps failing', async () => {
    const p1 = await freePort();
    const noEngine = daemon(['--docker', 'unix:///nonexistent/docker.sock', '--listen', `127.0.0.1:${p1}`]);
    const h1 = await pollUntil(
      async () => {
        const h = await get(`http://127.0.0.1:${p1}/healthz`).catch(() => undefined);
        return h?.status === 503 ? h : undefined;
      },
      '503 without an Engine',
      30_000,
    );
    assert.match(JSON.parse(h1.body).problems.join('\n'), /Docker Engine is not reachable/);
    await noEngine.stop();

    const p2 = await freePort();
    const closed = await freePort();
    const failing = daemon([
      '--docker',
      'unix:///var/run/docker.sock',
      '--listen',
      `127.0.0.1:${p2}`,
      '--carbon',
      `tcp://127.0.0.1:${closed}`,
    ]);
    await metricsHas(/docker_containers/, 'a first batch', p2);
    // The first batch may come before the Engine first answers on a loaded machine: a 200 seen at all
    // within a few seconds of it (the threshold is 10 s) shows that a young failure is not reported.
    await pollUntil(
      async () => ((await get(`http://127.0.0.1:${p2}/healthz`)).status === 200 ? true : undefined),
      'not yet beyond the threshold: 200',
      6_000,
    );
    const h2 = await pollUntil(
      async () => {
        const h = await get(`http://127.0.0.1:${p2}/healthz`);
        return h.status === 503 ? h : undefined;
      },
      '503 once the carbon sink has failed for longer than the threshold',
      60_000,
    );
    const body = JSON.parse(h2.body) as { problems: string[]; sinks: { sink: string; ok: boolean }[] };
    assert.match(body.problems.join('\n'), new RegExp(`sink carbon tcp://127\\.0\\.0\\.1:${closed} has been failing`));
    assert.equal(body.sinks[0]!.ok, false);
    await failing.stop();
  });

  it('serves HTTPS with --tls-cert and --tls-key', async () => {
    const p = await freePort();
    const ca = await readFile(join(tlsDir, 'cert.pem'));
    const d = daemon([
      '--docker',
      'unix:///var/run/docker.sock',
      '--listen',
      `127.0.0.1:${p}`,
      '--tls-cert',
      join(tlsDir, 'cert.pem'),
      '--tls-key',
      join(tlsDir, 'key.pem'),
    ]);
    const res = await pollUntil(
      async () => {
        const r = await getTls(`https://127.0.0.1:${p}/metrics`, ca).catch(() => undefined);
        return r?.body.includes(`name="${web}"`) ? r : undefined;
      },
      'metrics over HTTPS',
      60_000,
    );
    assert.equal(res.status, 200);
    await assert.rejects(get(`http://127.0.0.1:${p}/metrics`), 'no plain HTTP on a TLS listener');
    assert.equal((await d.stop()).code, 0, d.stderr);
  });

  it('labels each container as it is, whatever its carbon name: a dotted name, two replicas on one path', async () => {
    const dotted = containers.name('bar-web.network');
    const [x, y] = [containers.name('bar.rep.x.1'), containers.name('bar.rep.y.1')];
    const ids = new Map<string, string>();
    for (const name of [dotted, x, y]) ids.set(name, await containers.start(name));
    const p = await freePort();
    // The README's kind of rule, applied to replicas: both become <run>-bar.rep.1 in carbon.
    const rule = '{"regexp":"^(.*)\\\\.rep\\\\..*\\\\.(.*)$","into":"$1.rep.$2"}';
    const d = daemon(['--docker', 'unix:///var/run/docker.sock', '--listen', `127.0.0.1:${p}`, '--prefix', rule]);
    await metricsHas(/docker_stats_to_backstop_path_collisions 1$/m, 'the collision counted', p);
    const { body } = await get(`http://127.0.0.1:${p}/metrics`);
    const series = (family: string) => body.split('\n').filter((l) => l.startsWith(`${family}{`));

    const rx = series('docker_container_network_rx_bytes_total').filter((l) => l.includes(`id="${ids.get(dotted)}"`));
    assert.equal(rx.length, 1, body);
    assert.match(rx[0]!, new RegExp(`name="${dotted.replace(/[.]/g, '\\.')}"`), 'its own name, dots and all');
    assert.ok(!body.includes(`name="${containers.name('bar-web')}"`), 'no container cut out of its name');
    assert.ok(!body.includes('interface="network"'), 'no interface made out of its name');

    const usage = series('docker_container_memory_usage');
    for (const name of [x, y]) {
      assert.equal(
        usage.filter((l) => l.includes(`id="${ids.get(name)}"`) && l.includes(`name="${name}"`)).length,
        1,
        `${name} in:\n${usage.join('\n')}`,
      );
    }

    // Said once, naming the path and both containers, though every tick sees it.
    await d.waitForLog(/containers share one carbon path/, 'the collision logged');
    const samplesNow = async () =>
      Number(
        /^docker_stats_to_backstop_samples_total (\d+)$/m.exec((await get(`http://127.0.0.1:${p}/metrics`)).body)?.[1],
      );
    const before = await samplesNow();
    await pollUntil(
      async () => (await samplesNow()) >= before + 12,
      'a few more ticks (each container streams a sample a second)',
      30_000,
    );
    assert.match(
      (await get(`http://127.0.0.1:${p}/metrics`)).body,
      /^docker_stats_to_backstop_path_collisions 1$/m,
      'still counted',
    );
    const said = d.stderr.split('\n').filter((l) => l.includes('containers share one carbon path'));
    assert.equal(said.length, 1, said.join('\n'));
    assert.ok(said[0]!.includes(`path=${containers.run}-bar.rep.1`), said[0]);
    assert.ok(said[0]!.includes(x) && said[0]!.includes(y), said[0]);
    assert.equal((await d.stop()).code, 0, d.stderr);
  });
});

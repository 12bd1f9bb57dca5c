import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../helpers/daemon.js';
import { docker, IMAGE, TestContainers } from '../helpers/docker.js';
import { pollUntil } from '../helpers/poll.js';
import { ensure, Pushgateway } from '../helpers/services.js';

/**
 * `--pushgateway` against Debian's real prometheus-pushgateway (its own port and persistence file),
 * behind basic auth from its web config; the daemon takes the credentials from the URL.
 */
const USER = 'pusher';
const PASSWORD = 'Pushgateway-s3cret-pw';

describe('Pushgateway sink against the real prometheus-pushgateway', () => {
  const containers = new TestContainers();
  const daemons: DaemonProcess[] = [];
  const gateway = new Pushgateway();
  const web = containers.name('web');
  const gone = containers.name('gone');
  let webId = '';

  const daemon = (args: string[]): DaemonProcess => {
    const d = new DaemonProcess([
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      containers.label,
      '--poll',
      '1s',
      ...args,
    ]);
    daemons.push(d);
    return d;
  };

  before(async () => {
    await ensure('ensure-docker.sh');
    await ensure('ensure-pushgateway.sh');
    await gateway.start({ user: USER, password: PASSWORD });
    webId = await containers.start(web, { args: ['--memory', '64m'] });
    await containers.start(gone);
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.kill()));
    await gateway.cleanUp();
    await containers.cleanup();
  });

  it("pushes each tick under job docker-stats-to-backstop, instance=<host>, with the URL's credentials", async () => {
    const d = daemon(['--pushgateway', `http://${USER}:${PASSWORD}@127.0.0.1:${gateway.port}`]);
    const auth = { user: USER, password: PASSWORD };
    const image = IMAGE.replace(/[.]/g, '\\.');
    const line = new RegExp(
      `^docker_container_memory_limit\\{id="${webId}",image="${image}",instance="${hostname()}",` +
        `job="docker-stats-to-backstop",name="${web}"\\} 6\\.7108864e\\+07$`,
      'm',
    );
    await pollUntil(async () => line.test(await gateway.metrics(auth)), 'the container series in the Pushgateway');
    const text = await gateway.metrics(auth);
    assert.match(
      text,
      new RegExp(`^push_time_seconds\\{instance="${hostname()}",job="docker-stats-to-backstop"\\} `, 'm'),
    );
    assert.match(text, /^docker_stats_to_backstop_samples_total\{instance=.*\} \d/m, "the daemon's own metrics");
    assert.equal(d.stdout, '', 'with --pushgateway alone, nothing goes to stdout');

    await docker('rm', '-f', gone);
    await pollUntil(
      async () => !(await gateway.metrics(auth)).includes(`name="${gone}"`),
      `${gone} leaves the pushed group`,
    );
    assert.match(await gateway.metrics(auth), new RegExp(`name="${web}"`));
    assert.equal((await d.stop()).code, 0, d.stderr);
    assert.ok(!d.output.includes(PASSWORD), 'the password is never logged');
  });

  it('a wrong password is logged (without it) as a configuration problem and retried slowly', async () => {
    const d = daemon([
      '--pushgateway',
      `http://${USER}:wrong-${PASSWORD}@127.0.0.1:${gateway.port}`,
      '--pushgateway-instance',
      'other',
    ]);
    await d.waitForLog(/sink refuses the metrics: check its configuration.*401/, 'the 401 is reported');
    const shown = `pushgateway http://${USER}:\\*\\*\\*@127\\.0\\.0\\.1:${gateway.port}`;
    assert.match(d.stderr, new RegExp(`${shown}/metrics/job/docker-stats-to-backstop/instance/other`));
    assert.ok(!d.output.includes(PASSWORD), 'the password is never logged');
    assert.equal((await d.stop()).code, 0);
  });

  it('keeps what it could not push while the Pushgateway is down, and pushes once it is back', async () => {
    const d = daemon([
      '--pushgateway',
      `http://${USER}:${PASSWORD}@127.0.0.1:${gateway.port}`,
      '--pushgateway-instance',
      'outage',
    ]);
    const auth = { user: USER, password: PASSWORD };
    await pollUntil(async () => (await gateway.metrics(auth)).includes('instance="outage"'), 'a first push');
    await gateway.process!.stop();
    await d.waitForLog(/sink send failed, will retry/, 'the failed push');
    await gateway.process!.start();
    await d.waitForLog(/sink delivers again/, 'pushing again');
    await pollUntil(
      async () =>
        new RegExp(`^docker_container_memory_limit\\{.*instance="outage".*name="${web}"\\}`, 'm').test(
          await gateway.metrics(auth),
        ),
      'the series after the outage',
    );
    assert.equal((await d.stop()).code, 0);
  });
});

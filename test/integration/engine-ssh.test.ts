import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runBinary } from '../helpers/daemon.js';
import { TestContainers } from '../helpers/docker.js';
import { runScript } from '../helpers/image.js';
import { freePort, ServiceProcess } from '../helpers/services.js';
import { pollUntil } from '../helpers/poll.js';

const exec = promisify(execFile);

/**
 * `--docker ssh://user@host:port`: dockerode's SSH client logs in with a key from the SSH agent
 * and runs `docker system dial-stdio` on the remote host, which connects to that host's Engine.
 * Here the "remote host" is an sshd of the test's own on 127.0.0.1 (its own host key, config and
 * authorized key in a temp dir, on a free port) in front of the local Engine, and the key lives in
 * an ssh-agent of the test's own.
 */
describe('Engine over ssh://', () => {
  const containers = new TestContainers();
  const web = containers.name('web');
  let dir: string;
  let sshd: ServiceProcess;
  let agent: ChildProcess | undefined;
  let agentSocket: string;
  let port: number;

  before(async () => {
    await runScript('ensure-docker.sh');
    await runScript('ensure-sshd.sh');
    dir = mkdtempSync(join(tmpdir(), 'dstb-ssh-'));
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'user_key')]);
    await exec('cp', [join(dir, 'user_key.pub'), join(dir, 'authorized_keys')]);
    port = await freePort();
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        '',
      ].join('\n'),
    );
    // The host key as ssh-keyscan would record it, and a known_hosts file that lacks it.
    const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
    writeFileSync(join(dir, 'known_hosts_other'), `127.0.0.1 ${hostKey}\n`);
    sshd = new ServiceProcess('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], port);
    await sshd.start();
    agentSocket = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    const addKey = (): Promise<boolean> =>
      exec('ssh-add', [join(dir, 'user_key')], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } }).then(
        () => true,
        () => false,
      );
    await pollUntil(addKey, 'the key added to the agent');
    await containers.start(web);
  });

  after(async () => {
    await sshd?.stop();
    agent?.kill('SIGTERM');
    await containers.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One `--once` run against the test's sshd as `user`, with a known_hosts file of the test's. */
  const runOverSsh = (user: string, knownHosts: string, poll: string): ReturnType<typeof runBinary> =>
    runBinary(
      [
        '--docker',
        `ssh://${user}@127.0.0.1:${port}`,
        '--ssh-known-hosts',
        join(dir, knownHosts),
        '--label',
        containers.label,
        '--once',
        '--poll',
        poll,
      ],
      { SSH_AUTH_SOCK: agentSocket },
      90_000,
    );

  it('reports the containers of the Engine behind an SSH login', async () => {
    const user = (await exec('id', ['-un'])).stdout.trim();
    const out = await runOverSsh(user, 'known_hosts', '10s');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, new RegExp(`connected to Docker docker=ssh://${user}@127\\.0\\.0\\.1:${port} `));
    assert.match(out.stdout, new RegExp(`^${web}\\.memory\\.usage \\d+ \\d+$`, 'm'));
    assert.match(out.stdout, /\.containers\.total 1 \d+$/m);
    assert.doesNotMatch(out.stderr, /Warning/, 'no warning from Node');
  });

  it('refuses a host whose key known_hosts does not list for that host and port, naming the file', async () => {
    const out = await runOverSsh((await exec('id', ['-un'])).stdout.trim(), 'known_hosts_other', '2s');
    assert.equal(out.code, 1, out.stderr);
    const other = join(dir, 'known_hosts_other').replace(/[.]/g, '\\.');
    assert.match(
      out.stderr,
      new RegExp(`cannot reach Docker.*SSH host key of \\[127\\.0\\.0\\.1\\]:${port} is not in ${other}`),
    );
    assert.doesNotMatch(out.stdout, /memory\.usage/);
  });

  it('is a configuration error when the known_hosts file cannot be read', async () => {
    const out = await runBinary(
      ['--docker', `ssh://127.0.0.1:${port}`, '--ssh-known-hosts', join(dir, 'missing'), '--once'],
      {},
      30_000,
    );
    assert.equal(out.code, 2, out.stderr);
    assert.match(
      out.stderr,
      new RegExp(
        '--ssh-known-hosts: .*needs the host\'s key in a known_hosts file, and ".*missing" cannot be read ' +
          '\\(ENOENT: no such file or directory\\)',
      ),
    );
  });

  it('says why when the agent holds no key the server accepts', async () => {
    const out = await runOverSsh('nobody-here', 'known_hosts', '2s');
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /cannot reach Docker.*authentication/i);
  });
});

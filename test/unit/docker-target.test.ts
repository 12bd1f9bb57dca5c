import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig, type Config } from '../../src/config.js';
import { nodeConfigIo } from '../../src/config/io.js';

/** The Docker target parseConfig picks, with the file system replaced by a set of existing paths. */
function target(env: Record<string, string>, existing: readonly string[], argv: string[] = []): Config['docker'] {
  const exists = (p: string): boolean => existing.includes(p);
  const out = parseConfig({
    argv,
    env,
    hostname: 'h',
    homedir: '/nonexistent',
    exists,
    readFile: nodeConfigIo(0).readFile,
  });
  assert.equal(out.kind, 'config', JSON.stringify(out));
  return (out as { config: Config }).config.docker;
}

describe('default Docker socket: rootful, then rootless', () => {
  it('takes /var/run/docker.sock when it exists, even with a rootless socket too', () => {
    const t = target({ XDG_RUNTIME_DIR: '/run/user/1000' }, ['/var/run/docker.sock', '/run/user/1000/docker.sock']);
    assert.deepEqual(t, { kind: 'unix', socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' });
  });

  it('falls back to $XDG_RUNTIME_DIR/docker.sock when only that exists', () => {
    const t = target({ XDG_RUNTIME_DIR: '/run/user/1000' }, ['/run/user/1000/docker.sock']);
    assert.deepEqual(t, {
      kind: 'unix',
      socketPath: '/run/user/1000/docker.sock',
      display: 'unix:///run/user/1000/docker.sock',
    });
  });

  it('keeps /var/run/docker.sock when neither exists, and lists what was tried', () => {
    const t = target({ XDG_RUNTIME_DIR: '/run/user/1000' }, []);
    assert.equal(t.kind, 'unix');
    assert.equal(t.kind === 'unix' && t.socketPath, '/var/run/docker.sock');
    assert.deepEqual(t.kind === 'unix' && t.tried, ['/var/run/docker.sock', '/run/user/1000/docker.sock']);
    assert.equal(
      t.display,
      'unix:///var/run/docker.sock (no socket found; tried /var/run/docker.sock, /run/user/1000/docker.sock)',
    );
  });

  it('tries only the rootful socket without XDG_RUNTIME_DIR (an empty one counts as unset)', () => {
    for (const env of [{}, { XDG_RUNTIME_DIR: '' }] as Record<string, string>[]) {
      const t = target(env, []);
      assert.deepEqual(t.kind === 'unix' && t.tried, ['/var/run/docker.sock']);
    }
  });

  it('looks at no socket when --docker, SRV_DOCKER or DOCKER_HOST names the Engine', () => {
    const rootless = ['/run/user/1000/docker.sock'];
    const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
    assert.deepEqual(target(env, rootless, ['--docker=unix:///srv/d.sock']), {
      kind: 'unix',
      socketPath: '/srv/d.sock',
      display: 'unix:///srv/d.sock',
    });
    assert.equal(target({ ...env, SRV_DOCKER: 'unix:///srv/e.sock' }, rootless).display, 'unix:///srv/e.sock');
    assert.equal(target({ ...env, DOCKER_HOST: 'tcp://10.1.2.3:2375' }, rootless).display, 'http://10.1.2.3:2375');
    // Given explicitly, a missing socket is not replaced: the user said where the Engine is.
    assert.deepEqual(target(env, rootless, ['--docker=unix:///var/run/docker.sock']), {
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
      display: 'unix:///var/run/docker.sock',
    });
  });
});

describe('ssh:// Engines', () => {
  it('takes user, host, port, the agent socket and the known_hosts file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstb-kh-'));
    try {
      const file = join(dir, 'known_hosts');
      writeFileSync(file, '[engine.example]:2222 ssh-ed25519 AAAA\n');
      const t = target(
        { SSH_AUTH_SOCK: '/run/agent.sock' },
        [],
        ['--docker=ssh://ops@engine.example:2222', `--ssh-known-hosts=${file}`],
      );
      assert.deepEqual(t, {
        kind: 'ssh',
        host: 'engine.example',
        port: 2222,
        username: 'ops',
        display: 'ssh://ops@engine.example:2222',
        agentSocket: '/run/agent.sock',
        knownHosts: { path: file, text: '[engine.example]:2222 ssh-ed25519 AAAA\n' },
      });
      const fromEnv = target({ DOCKER_HOST: 'ssh://engine.example', SRV_SSH_KNOWN_HOSTS: file }, []);
      assert.equal(fromEnv.display, 'ssh://engine.example:22');
      assert.equal(fromEnv.kind === 'ssh' && fromEnv.username, undefined);
      assert.equal(fromEnv.kind === 'ssh' && fromEnv.agentSocket, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads ~/.ssh/known_hosts by default', () => {
    const home = mkdtempSync(join(tmpdir(), 'dstb-home-'));
    try {
      const out = parseConfig({
        argv: ['--docker=ssh://h'],
        env: {},
        hostname: 'h',
        homedir: home,
        exists: () => false,
        readFile: nodeConfigIo(0).readFile,
      });
      assert.equal(out.kind, 'invalid');
      assert.match(
        (out as { problems: readonly string[] }).problems.join('\n'),
        new RegExp(
          `--docker: .*"${join(home, '.ssh', 'known_hosts')}" cannot be read \\(ENOENT: no such file or directory\\)`,
        ),
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

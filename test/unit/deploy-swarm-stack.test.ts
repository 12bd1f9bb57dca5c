import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  assertKnownVariables,
  configOf,
  IMAGE_UID,
  readRepoFile,
  SECRET_URL,
  type Yaml,
} from '../helpers/manifests.js';

/**
 * deploy/swarm/docker-stack.yml read as `docker stack deploy` reads it: the fields the deployment
 * depends on, and the daemon accepts the settings it hands the task. The stack is deployed for real
 * by test/integration/deploy-swarm.test.ts.
 */

/**
 * `docker stack deploy`'s variable substitution, for what the stack uses: `$$`, `${VAR}`,
 * `${VAR:-default}`, `${VAR:?message}` (an error when unset or empty).
 */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g,
    (_match, name: string | undefined, op?: string, arg?: string) => {
      if (name === undefined) return '$';
      const value = vars[name];
      if (value !== undefined && value !== '') return value;
      if (op === ':-') return arg ?? '';
      if (op === ':?') throw new Error(`${name}: ${arg}`);
      return '';
    },
  );
}

describe('deploy/swarm/docker-stack.yml', () => {
  const raw = readRepoFile('deploy/swarm/docker-stack.yml');
  const stack = parse(interpolate(raw, { DOCKER_GID: '105' })) as Yaml;
  const service = stack['services']?.['daemon'] as Yaml;

  it('needs DOCKER_GID, the socket group, to deploy', () => {
    assert.throws(() => interpolate(raw, {}), /DOCKER_GID: set DOCKER_GID to the group id of \/var\/run\/docker\.sock/);
  });

  it('one task per node, not root, with the socket read-only and the socket group as the primary group', () => {
    assert.ok(service, 'a service named daemon');
    assert.equal(service['deploy']?.['mode'], 'global');
    assert.equal(service['user'], `${IMAGE_UID}:105`);
    assert.equal(service['group_add'], undefined, 'docker stack deploy refuses group_add');
    assert.deepEqual(service['volumes'], [
      { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', read_only: true },
    ]);
    assert.equal(service['read_only'], true);
  });

  it('restarts on failure, has limits and reservations, and a stop grace period over the final flush', () => {
    assert.equal(service['deploy']['restart_policy']?.['condition'], 'on-failure');
    const { limits, reservations } = service['deploy']['resources'] ?? {};
    assert.ok(limits?.['cpus'] && limits?.['memory'], 'limits');
    assert.ok(reservations?.['cpus'] && reservations?.['memory'], 'reservations');
    assert.ok(
      Number(/^(\d+)s$/.exec(service['stop_grace_period'])?.[1]) > 10,
      'longer than the default --shutdown-timeout',
    );
  });

  it('takes the Backstop URL from an external secret, the host from the node; the daemon accepts its settings', () => {
    const env = service['environment'] as Record<string, string>;
    assert.equal(env['SRV_BACKSTOP'], undefined, 'no Backstop URL in the stack file');
    assert.equal(env['SRV_HOSTNAME'], '{{.Node.Hostname}}');
    const [secret] = service['secrets'] as Yaml[];
    assert.equal(
      stack['secrets']?.[secret!['source']]?.['external'],
      true,
      'the secret is created apart, not from a file here',
    );
    assert.equal(env['SRV_BACKSTOP_FILE'], `/run/secrets/${secret!['target']}`);
    assert.equal(String(secret!['uid']), String(IMAGE_UID), 'readable by the daemon');
    assertKnownVariables(env);

    // Swarm fills in the template per task; the secret is a file in the task.
    const taskEnv = { ...env, SRV_HOSTNAME: 'node-1.example.com' };
    const c = configOf(service['command'] ?? [], taskEnv, { [env['SRV_BACKSTOP_FILE']!]: `${SECRET_URL}\n` });
    assert.equal(c.backstop?.href, SECRET_URL);
    assert.equal(c.hostPath, 'node-1.example.com');
  });
});

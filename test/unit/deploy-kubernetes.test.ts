import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  assertKnownVariables,
  configOf,
  IMAGE_UID,
  readRepoFile,
  SECRET_URL,
  type Yaml,
} from '../helpers/manifests.js';

/**
 * deploy/kubernetes/daemonset.yaml, read as kubectl reads it: the kinds and the fields the
 * deployment depends on, and the daemon accepts the arguments and environment it hands the
 * container (its own parseConfig runs over them). No cluster runs here: the DaemonSet itself is not
 * run by any test.
 */
describe('deploy/kubernetes/daemonset.yaml', () => {
  const docs = parseAllDocuments(readRepoFile('deploy/kubernetes/daemonset.yaml')).map((d) => {
    assert.deepEqual(d.errors, [], 'valid YAML');
    return d.toJS() as Yaml;
  });
  const ds = docs.find((d) => d['kind'] === 'DaemonSet')!;
  const pod = ds?.['spec']?.['template']?.['spec'] as Yaml;
  const container = pod?.['containers']?.[0] as Yaml;
  const spoolDir = mkdtempSync(join(tmpdir(), 'dstb-manifest-'));
  after(() => rmSync(spoolDir, { recursive: true, force: true }));

  it('holds a DaemonSet (apps/v1) whose selector picks its own pods, and a ServiceAccount without a token', () => {
    assert.deepEqual(
      docs.map((d) => `${d['apiVersion']} ${d['kind']}`),
      ['v1 ServiceAccount', 'apps/v1 DaemonSet'],
    );
    for (const d of docs) assert.ok(d['metadata']?.['name'], `${d['kind']} has a name`);
    const labels = ds['spec']['template']['metadata']['labels'] as Record<string, string>;
    for (const [k, v] of Object.entries(ds['spec']['selector']['matchLabels'] as Record<string, string>))
      assert.equal(labels[k], v);
    assert.equal(pod['serviceAccountName'], docs[0]!['metadata']['name']);
    assert.equal(pod['automountServiceAccountToken'], false);
    assert.equal(pod['containers'].length, 1);
    assert.ok(container['image'], 'an image');
    assert.equal(container['command'], undefined, "the image's entrypoint is the daemon: only args");
  });

  it('mounts the Docker socket read-only from the node, and runs as a non-root user with the socket group', () => {
    const socket = (pod['volumes'] as Yaml[]).find((v) => v['hostPath']);
    assert.deepEqual(socket?.['hostPath'], { path: '/var/run/docker.sock', type: 'Socket' });
    const mount = (container['volumeMounts'] as Yaml[]).find((m) => m['name'] === socket!['name']);
    assert.deepEqual(mount, { name: socket!['name'], mountPath: '/var/run/docker.sock', readOnly: true });
    const sc = pod['securityContext'] as Yaml;
    assert.equal(sc['runAsNonRoot'], true);
    assert.equal(sc['runAsUser'], IMAGE_UID);
    assert.ok(
      Array.isArray(sc['supplementalGroups']) && sc['supplementalGroups'].every(Number.isInteger),
      'the socket group',
    );
    assert.equal(container['securityContext']?.['allowPrivilegeEscalation'], false);
    assert.equal(container['securityContext']?.['readOnlyRootFilesystem'], true);
  });

  it('has requests and limits, /healthz probes on the --listen port, a grace period over the final flush', () => {
    for (const kind of ['requests', 'limits']) {
      assert.ok(
        container['resources']?.[kind]?.['cpu'] && container['resources']?.[kind]?.['memory'],
        `resources.${kind}`,
      );
    }
    const port = (container['ports'] as Yaml[])[0]!;
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      assert.deepEqual(container[probe]?.['httpGet'], { path: '/healthz', port: port['name'] }, probe);
    }
    assert.ok(pod['terminationGracePeriodSeconds'] > 10);
  });

  it('names the host after the node, takes the Backstop URL from a Secret; the daemon accepts its settings', () => {
    const env = container['env'] as Yaml[];
    const byName = new Map(env.map((e) => [e['name'] as string, e]));
    assertKnownVariables(Object.fromEntries(byName));
    assert.deepEqual(byName.get('SRV_HOSTNAME')?.['valueFrom'], { fieldRef: { fieldPath: 'spec.nodeName' } });
    assert.ok(byName.get('SRV_BACKSTOP')?.['valueFrom']?.['secretKeyRef']?.['name'], 'SRV_BACKSTOP from a Secret');
    assert.equal(byName.get('SRV_BACKSTOP')?.['value'], undefined);

    // What the kubelet would hand the container: references resolved to sample values, and the
    // spool's mount path (an emptyDir) replaced by a temporary folder, which the daemon writes to.
    const spoolMount = (container['volumeMounts'] as Yaml[]).find(
      (m) => m['mountPath'] === byName.get('SRV_SPOOL_DIR')?.['value'],
    );
    assert.ok(spoolMount, 'SRV_SPOOL_DIR is a mounted volume');
    assert.ok(
      (pod['volumes'] as Yaml[]).find((v) => v['name'] === spoolMount['name'])?.['emptyDir'],
      'an emptyDir, writable by any user',
    );
    const resolved: Record<string, string> = {};
    for (const e of env) {
      const from = e['valueFrom'] as Yaml | undefined;
      resolved[e['name']] =
        from?.['fieldRef']?.['fieldPath'] === 'spec.nodeName'
          ? 'node-1.example.com'
          : from?.['secretKeyRef']
            ? SECRET_URL
            : e['name'] === 'SRV_SPOOL_DIR'
              ? spoolDir
              : String(e['value']);
    }
    const c = configOf(container['args'] as string[], resolved);
    assert.equal(c.hostPath, 'node-1.example.com');
    assert.equal(c.backstop?.href, SECRET_URL);
    assert.equal(c.spoolDir, spoolDir);
    const port = (container['ports'] as Yaml[])[0]!;
    assert.deepEqual(
      c.listen,
      { host: '', port: port['containerPort'] },
      '--listen on every address, on the probed port',
    );
  });
});

import { docker } from './docker.js';
import { freePort } from './services.js';

/** The node label that marks a swarm a test made, so that a later run can tell it from one it found. */
const MARK = 'dstb.test-swarm';

/** The local Engine in swarm mode, as a test found or made it. */
export interface SwarmLease {
  readonly nodeId: string;
  /** The node's host name, what `{{.Node.Hostname}}` gives a task. */
  readonly nodeHostname: string;
  /** Whether the test made this swarm (then `release` leaves it). */
  readonly ours: boolean;
  /** Leaves the swarm if the test made it, and removes docker_gwbridge if swarm mode made that; idempotent. */
  release(): Promise<void>;
}

/**
 * Puts the local Engine in swarm mode for a test, or says why it cannot (`skip`). The Engine must
 * end as it began, also when the test fails, so:
 *
 * - inactive: `docker swarm init` on 127.0.0.1 with free ports (nothing else can join it), the node
 *   marked with the label dstb.test-swarm; `release` leaves it with --force and removes
 *   docker_gwbridge, the bridge swarm mode creates, unless it was there before;
 * - active, a manager, and marked: a swarm an earlier run made and could not leave (it was killed);
 *   taken as ours, so this run's `release` leaves it;
 * - active, a manager, not marked: somebody's swarm; used as it is, never left;
 * - a worker, or pending, locked, in error: nothing can be deployed from here; skip.
 *
 * Swarm mode survives an Engine restart, so a restart during the test changes none of this.
 */
export async function enterSwarm(): Promise<SwarmLease | { skip: string }> {
  const info = JSON.parse(await docker('info', '--format', '{{json .Swarm}}')) as {
    LocalNodeState: string;
    ControlAvailable: boolean;
    NodeID: string;
  };
  const gwbridgeBefore = await hasNetwork('docker_gwbridge');
  let ours: boolean;
  if (info.LocalNodeState === 'inactive') {
    const [control, data] = [await freePort(), await freePort()];
    await docker(
      'swarm',
      'init',
      '--advertise-addr',
      `127.0.0.1:${control}`,
      '--listen-addr',
      `127.0.0.1:${control}`,
      '--data-path-port',
      String(data),
    );
    ours = true;
  } else if (info.LocalNodeState === 'active' && info.ControlAvailable) {
    ours = (await docker('node', 'inspect', 'self', '--format', `{{index .Spec.Labels "${MARK}"}}`)) !== '';
  } else {
    const role = info.ControlAvailable ? '' : ' (not a manager)';
    return { skip: `the Engine's swarm state is ${info.LocalNodeState}${role}: a stack cannot be deployed from here` };
  }
  let nodeId: string;
  let nodeHostname: string;
  try {
    nodeId = await docker('info', '--format', '{{.Swarm.NodeID}}');
    if (ours) await docker('node', 'update', '--label-add', `${MARK}=1`, nodeId);
    nodeHostname = await docker('node', 'inspect', nodeId, '--format', '{{.Description.Hostname}}');
  } catch (err) {
    if (ours) await docker('swarm', 'leave', '--force').catch(() => undefined);
    throw err;
  }
  return {
    nodeId,
    nodeHostname,
    ours,
    async release() {
      if (!ours) return;
      // Idempotent, so that a caller may retry it.
      if ((await docker('info', '--format', '{{.Swarm.LocalNodeState}}')) !== 'inactive')
        await docker('swarm', 'leave', '--force');
      // A swarm made by an earlier, killed run: whether the bridge predates it is not known; it
      // serves swarm mode only, and `network rm` refuses a network something still uses.
      if (!gwbridgeBefore || info.LocalNodeState === 'active') {
        if (await hasNetwork('docker_gwbridge')) await docker('network', 'rm', 'docker_gwbridge');
      }
    },
  };
}

async function hasNetwork(name: string): Promise<boolean> {
  return (await docker('network', 'ls', '--filter', `name=^${name}$`, '--format', '{{.Name}}')) === name;
}

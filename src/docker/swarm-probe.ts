import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ServiceTasks } from '../model/opt-in.js';
import { BackgroundProbe } from './background-probe.js';
import { describeError } from '../errors.js';
import { withTimeout } from './engine-calls.js';
import type { EngineClient } from './engine.js';

/** How long a node's answer to "am I a swarm manager?" is trusted before `GET /info` is asked again. */
export const MANAGER_RECHECK_MS = 10 * 60_000;

/**
 * The group `swarm`: on a swarm manager only (every node of a global stack runs the daemon, and a
 * worker cannot answer), one `GET /services?status=true` per tick, in the background. Whether this
 * node is a manager (`GET /info`: Swarm.ControlAvailable) is asked at start, every
 * MANAGER_RECHECK_MS, and after any failure; a change is logged once. Services without
 * ServiceStatus (an Engine older than API 1.41) are left out, said once: counting their tasks would
 * need `GET /tasks`, one more endpoint and an answer as long as the swarm's task history.
 */
export function swarmProbe(opts: {
  readonly engine: EngineClient;
  readonly clock: Clock;
  readonly logger: Logger;
}): BackgroundProbe<ServiceTasks[]> {
  const { engine, clock, logger } = opts;
  let manager: boolean | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let failing = false;
  let saidNoStatus = false;

  const isManager = async (signal: AbortSignal): Promise<boolean> => {
    const age = clock.now() - checkedAt;
    if (manager !== undefined && age >= 0 && age < MANAGER_RECHECK_MS) return manager;
    const info = await withTimeout(clock, (s) => engine.info(AbortSignal.any([s, signal])), 'GET /info');
    const now = info.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable === true;
    checkedAt = clock.now();
    if (now !== manager) {
      logger.info(
        now
          ? "this node is a swarm manager: sending the swarm services' task counts"
          : 'this node is not a swarm manager: the group swarm sends nothing from it (a manager sends it)',
      );
    }
    manager = now;
    return now;
  };

  const measure = async (signal: AbortSignal): Promise<ServiceTasks[] | undefined> => {
    try {
      if (!(await isManager(signal))) return undefined;
      const services = await withTimeout(clock, (s) => engine.services(AbortSignal.any([s, signal])), 'GET /services');
      if (failing) logger.info('the swarm services can be listed again');
      failing = false;
      const out: ServiceTasks[] = [];
      for (const s of Array.isArray(services) ? services : []) {
        const status = s?.ServiceStatus;
        const name = s?.Spec?.Name;
        if (typeof name !== 'string' || !status || !isCount(status.RunningTasks) || !isCount(status.DesiredTasks)) {
          if (!saidNoStatus && typeof name === 'string') {
            logger.warn('a swarm service has no task counts (ServiceStatus needs Engine API 1.41+): left out', {
              service: name,
            });
          }
          saidNoStatus ||= typeof name === 'string';
          continue;
        }
        out.push({ service: name, running: status.RunningTasks, desired: status.DesiredTasks });
      }
      return out;
    } catch (err) {
      if (signal.aborted) return undefined;
      // A node demoted or gone out of the swarm answers 503: ask /info again next time.
      manager = undefined;
      if (!failing)
        logger.warn('cannot list the swarm services; trying again at the next tick', { error: describeError(err) });
      failing = true;
      return undefined;
    }
  };

  return new BackgroundProbe({ clock, measure, due: () => true });
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

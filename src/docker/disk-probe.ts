import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ContainerSize } from '../model/opt-in.js';
import { BackgroundProbe } from './background-probe.js';
import { describeError } from '../errors.js';
import { withTimeout } from './engine-calls.js';
import type { EngineClient } from './engine.js';
import { engineLabelFilter, type ContainerFilter } from './filter.js';

/** The bounds of the time a size listing may take: the Engine walks every container's writable layer for it. */
const DISK_TIMEOUT_MIN_MS = 15_000;
const DISK_TIMEOUT_MAX_MS = 5 * 60_000;

/**
 * The group `disk`: `GET /containers/json?size=1` (the running containers, with the tracker's label
 * filters) at most every `intervalMs`, in the background, so that a slow answer never delays a tick.
 * The call may take long on a big host: it is given up after the interval (within bounds).
 */
export function diskProbe(opts: {
  readonly engine: EngineClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly filter: ContainerFilter;
  readonly intervalMs: number;
}): BackgroundProbe<ContainerSize[]> {
  const { engine, clock, logger, intervalMs } = opts;
  const labels = engineLabelFilter(opts.filter);
  const filters = { status: ['running'], ...(labels.length ? { label: labels } : {}) };
  const timeoutMs = Math.min(Math.max(intervalMs, DISK_TIMEOUT_MIN_MS), DISK_TIMEOUT_MAX_MS);
  let failing = false;

  const measure = async (signal: AbortSignal): Promise<ContainerSize[] | undefined> => {
    try {
      const list = await withTimeout(
        clock,
        (s) => engine.containerSizes(filters, AbortSignal.any([s, signal])),
        'GET /containers/json?size=1',
        timeoutMs,
      );
      if (failing) logger.info("the containers' sizes can be measured again");
      failing = false;
      return (Array.isArray(list) ? list : []).flatMap((c) =>
        typeof c?.Id === 'string' ? [{ id: c.Id, rwBytes: size(c.SizeRw), rootBytes: size(c.SizeRootFs) }] : [],
      );
    } catch (err) {
      if (signal.aborted) return undefined;
      if (!failing)
        logger.warn("cannot measure the containers' sizes; trying again after --disk-interval", {
          error: describeError(err),
        });
      failing = true;
      return undefined;
    }
  };

  return new BackgroundProbe({ clock, measure, due: (now, last) => now - last >= intervalMs || now < last });
}

/** A size the Engine gave: a whole number of bytes, else absent (it omits or zeroes one it could not compute). */
function size(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

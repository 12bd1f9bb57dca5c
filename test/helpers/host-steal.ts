import { readFileSync } from 'node:fs';

/**
 * Counts the host's steal time from now on (/proc/stat's first line); the function returns its
 * share of all CPU time since, 0–1. Docker's `cpu.percent` leaves steal out, so on a virtual
 * machine whose host takes time away every container's `cpu.percent` reads high by
 * 1 / (1 − share), in both of the daemon's modes alike.
 */
export function stealShare(): () => number {
  const ticks = (): { counted: number; steal: number } => {
    const f = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { counted: f.slice(0, 7).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  };
  const from = ticks();
  return () => {
    const to = ticks();
    const steal = to.steal - from.steal;
    const all = to.counted - from.counted + steal;
    return all > 0 ? steal / all : 0;
  };
}

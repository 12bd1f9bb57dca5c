import type { DockerStats } from '../docker/stats-types.js';

/**
 * The sample's `read` time in epoch milliseconds, or undefined when the sample is not a real
 * measurement: a stopped container's stream keeps sending samples with `read` =
 * `0001-01-01T00:00:00Z` (docs/architecture.md §2), and those must never become metrics.
 */
export function sampleReadMs(sample: DockerStats): number | undefined {
  if (typeof sample.read !== 'string') return undefined;
  const ms = Date.parse(sample.read);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

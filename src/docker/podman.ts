import type { DockerStats } from './stats-types.js';

// Podman's Docker-compatible stats (`podman system service`, checked on Podman 4.3.1, cgroup v1)
// differ from Docker's in two ways that change metrics:
//
// - `cpu_stats.system_cpu_usage` is the host's *busy* CPU time (the root cgroup's cpuacct.usage;
//   on cgroup v2 the sum of the top-level cgroups' usage), not /proc/stat's total with idle time.
//   Docker's formula Δtotal_usage / Δsystem_cpu_usage × CPUs then gives a share of what the host
//   used, not of what it has (a busy loop reads far over 100 %: docs/architecture.md §2). Wall-clock time
//   between the two samples' `read` stamps gives the figure `docker stats` means: their values say
//   so (SampleValues.cpuPercentBase 'wall-clock'), and the reducer's wallClockCpuPercent computes it.
// - Podman 4 sums every interface into one pseudo-interface named `network` in the `networks` map.
//   It has no real interface name, so it only counts for the totals.
//
// Podman's samples are recognised by their own spellings: `Id` where Docker has `id`, and
// `cpu_stats.cpu` (Podman's running CPU percentage since the container started, a field Docker
// does not have).

/** Does this sample come from Podman's Docker-compatible API? */
export function isPodmanSample(sample: DockerStats): boolean {
  const cpu = sample.cpu_stats as { cpu?: unknown } | undefined;
  return (typeof sample.Id === 'string' && sample.id === undefined) || typeof cpu?.cpu === 'number';
}

/** Is the `networks` map only Podman 4's pseudo-interface `network` (totals, no real interface)? */
export function hasPodmanPseudoInterface(sample: DockerStats): boolean {
  const names = sample.networks && typeof sample.networks === 'object' ? Object.keys(sample.networks) : [];
  return names.length === 1 && names[0] === 'network' && isPodmanSample(sample);
}

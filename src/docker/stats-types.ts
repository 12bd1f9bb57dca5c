// The parts of the Engine's `GET /containers/{id}/stats` JSON that the reducer reads (docs/architecture.md §2).
// Every field is optional: cgroup v1 and v2, old API versions, Podman and stopped containers each
// leave different parts out. Nothing outside src/docker sees this shape: sample-values.ts reads
// what the reducer needs out of it.

import type { BlkioEntry } from '../model/sample-values.js';
import type { NetworkCounters } from '../model/network-counters.js';

export interface CpuStats {
  cpu_usage?: {
    total_usage?: number;
    percpu_usage?: number[] | null;
    usage_in_kernelmode?: number;
    usage_in_usermode?: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: { periods?: number; throttled_periods?: number; throttled_time?: number };
}

export interface DockerStats {
  read?: string;
  preread?: string;
  name?: string;
  id?: string;
  /** Podman spells it this way. */
  Id?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: {
    usage?: number;
    max_usage?: number;
    limit?: number;
    stats?: Record<string, number | undefined>;
  };
  networks?: Record<string, NetworkCounters>;
  /** API < 1.21: one flat object instead of the `networks` map. */
  network?: NetworkCounters;
  blkio_stats?: { io_service_bytes_recursive?: BlkioEntry[] | null };
  pids_stats?: { current?: number; limit?: number };
}

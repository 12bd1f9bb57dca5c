// An interface's counters, under the names the Engine's stats and the kernel's /proc/<pid>/net/dev
// share (the metric names `network.<field>` are made from them).

export interface NetworkCounters {
  rx_bytes?: number;
  rx_packets?: number;
  rx_errors?: number;
  rx_dropped?: number;
  tx_bytes?: number;
  tx_packets?: number;
  tx_errors?: number;
  tx_dropped?: number;
}

/** The eight counters of an interface, in the order the metrics list them. */
export const NETWORK_FIELDS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
] as const satisfies readonly (keyof NetworkCounters)[];

/**
 * What a summary column's name says about its quantity: whether it is a
 * throughput that adds up over a node's guests (so a run's value is the node
 * total and the mean of runs is harmonic), and whether lower is better (so a
 * regression is a rise). Host monitors (vmstat_, perf_, mpstat_, iostat_,
 * sar_) are per-node figures: each guest's row repeats its node's, so they
 * never add up, whatever their unit.
 */

const HOST_MONITOR = /^(vmstat|perf|mpstat|iostat|sar)_/;
/** kB/s, B/s, KiB/s, MiB/s, IO/s, per-second columns of sysstat (`_s`), transactions per second. */
const RATE = /(kbps|bps|kibps|mibps|gibps|iops|_s|_per_s|tps)$/;
const NOT_RATE = /(^|_)(duration_s|seconds|time_s|interval_s|run_time)$/;
/** Times, latencies, context switches, cache misses, waiting: lower is better. */
const LOWER_IS_BETTER = /(latency|lat_|clat|_lat$|_us$|_ms$|_ns$|seconds|duration|(^|_)cs$|cswch|context_switch|miss|migration|iowait|(^|_)wa$|steal|(^|_)st$)/;

export interface MetricKind {
  /** A throughput: sums over guests, harmonic mean over runs. */
  rate: boolean;
  lowerIsBetter: boolean;
}

export function metricKind(column: string): MetricKind {
  const name = column.toLowerCase();
  const rate = RATE.test(name) && !NOT_RATE.test(name);
  return { rate: rate && !HOST_MONITOR.test(name), lowerIsBetter: LOWER_IS_BETTER.test(name) };
}

/**
 * Axis titles with units. Column names come from the parsers (DESIGN.md), so
 * the well-known ones get a readable title; others get their unit from the
 * suffix convention (`_kbps`, `_us`, `pct_`...) or stay as they are.
 */

const KNOWN: Record<string, string> = {
  // iozone reports kBytes/sec (1024 bytes)
  file_kb: 'File size (KiB)',
  reclen_kb: 'Record length (KiB)',
  write_kbps: 'Write throughput (KiB/s)',
  rewrite_kbps: 'Rewrite throughput (KiB/s)',
  read_kbps: 'Read throughput (KiB/s)',
  reread_kbps: 'Re-read throughput (KiB/s)',
  // fio
  bw_kibps: 'Bandwidth (KiB/s)',
  iops: 'I/O operations (per s)',
  runtime_ms: 'Runtime (ms)',
  clat_mean_us: 'Mean completion latency (µs)',
  // vmstat
  r: 'Runnable processes',
  b: 'Blocked processes',
  swpd: 'Swap used (KiB)',
  free: 'Free memory (KiB)',
  buff: 'Buffers (KiB)',
  cache: 'Page cache (KiB)',
  si: 'Swap in (KiB/s)',
  so: 'Swap out (KiB/s)',
  bi: 'Blocks in (blocks per s)',
  bo: 'Blocks out (blocks per s)',
  in: 'Interrupts (per s)',
  cs: 'Context switches (per s)',
  us: 'User CPU (%)',
  sy: 'System CPU (%)',
  id: 'Idle CPU (%)',
  wa: 'I/O wait CPU (%)',
  st: 'Stolen CPU (%)',
  // perf stat: Mine averages the counts of `-I 1000` intervals over a run's window, so they are per second
  interval_s: 'Time (s)',
  'cache-misses': 'Cache misses (per s)',
  'context-switches': 'Context switches (per s)',
  'cpu-migrations': 'CPU migrations (per s)',
  'l2_rqsts.miss': 'L2 misses (per s)',
  'l2-rqsts-miss': 'L2 misses (per s)',
  'l2-cache-req-stat-ic-dc-miss-in-l2': 'L2 misses (per s)',
  // dd
  bytes: 'Bytes (B)',
  seconds: 'Duration (s)',
  rate_bps: 'Rate (B/s)',
  // time axes
  ts: 'Time',
  cpu_pct: 'CPU (%)',
  pct_cpu: 'CPU (%)',
  line_ts: 'Time (line arrival)',
  time: 'Time',
  started_at: 'Start time',
  ended_at: 'End time',
  rep: 'Repetition',
  policy: 'Policy',
};

const SUFFIX_UNITS: [RegExp, string][] = [
  [/_kibps$/, 'KiB/s'],
  [/_kbps$/, 'KiB/s'],
  [/_mibps$/, 'MiB/s'],
  [/_mbps$/, 'MB/s'],
  [/_bps$/, 'B/s'],
  [/_per_s$|_ps$/, 'per s'],
  [/_us$/, 'µs'],
  [/_ms$/, 'ms'],
  [/_ns$/, 'ns'],
  [/_s$/, 's'],
  [/_kb$/, 'KiB'],
  [/_mb$/, 'MiB'],
  [/_bytes$/, 'B'],
  [/_pct$/, '%'],
];

/** The unit an axis title gives a column ("KiB/s", "per s", "%"), or '' when it has none. */
export function axisUnit(columnName: string): string {
  return /\(([^()]*)\)$/.exec(axisTitle(columnName))?.[1] ?? '';
}

/** A readable axis title for a column: its known title, or its name with a unit guessed from the suffix. */
export function axisTitle(columnName: string): string {
  const known = KNOWN[columnName] ?? KNOWN[columnName.toLowerCase()];
  if (known) return known;
  // Mine's run summary names figures `<tool>_<figure>` (iozone_write_kbps, vmstat_cs, perf_cache_misses).
  const tool = /^(iozone|fio|dd|vmstat|perf|mpstat|iostat|sar|sadf|pidstat)_(.+)$/.exec(columnName);
  if (tool) {
    const rest = tool[2]!;
    const inner = [rest, rest.replace(/_/g, '-')].map((r) => axisTitle(r)).find((t, i) => t !== [rest, rest.replace(/_/g, '-')][i]);
    return `${tool[1]} ${inner ? lowerFirst(inner) : rest.replace(/_/g, ' ')}`;
  }
  if (/^pct_/.test(columnName)) return `${humanize(columnName.slice(4))} (%)`;
  for (const [pattern, unit] of SUFFIX_UNITS) {
    if (pattern.test(columnName)) return `${humanize(columnName.replace(pattern, ''))} (${unit})`;
  }
  // "mean_write_kbps" style aggregates: keep the aggregate word and look the rest up.
  const agg = /^(mean|avg|median|max|min|sum|p\d\d)_(.+)$/.exec(columnName);
  if (agg) {
    const inner = axisTitle(agg[2]!);
    if (inner !== agg[2]) return `${capitalize(agg[1] === 'avg' ? 'mean' : agg[1]!)} ${lowerFirst(inner)}`;
  }
  return columnName;
}

function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return capitalize(words);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lowerFirst(s: string): string {
  // Keep acronyms (e.g. "L2 misses", "I/O") as they are.
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

/**
 * The charts every batch report shows, chosen from the columns at hand (pure):
 * - throughput per policy (box, every run a point);
 * - throughput against each monitor figure (scatter, OLS line and r per policy);
 * - monitor time series with each workload's window shaded;
 * - CPU affinity per guest thread from what Tune recorded.
 */
import { axisTitle } from './axis-titles.js';
import { rowCount, type Columns } from './columns.js';
import { distributionFigure } from './distribution.js';
import { affinityFigure, heatmapFigure, type ThreadAffinity } from './heatmap.js';
import type { ReportChart } from './report.js';
import { scatterFigure } from './scatter.js';
import { toNumber } from './stats.js';
import { timeSeriesFigure, type TimeWindow } from './timeseries.js';

/** Throughput-like column names, best first. */
const THROUGHPUT = /(^|_)(write|rewrite|read|reread|bw|rate|throughput)?_?(kbps|kibps|mibps|mbps|bps|iops)$|^iops$/;
/** The workload's own figures in Mine's run summary (`<workload parser>_<figure>`) and its duration. */
const WORKLOAD_OWN = /^(iozone|fio|dd)_|^duration_s$|^runtime_ms$|^clat_/;
/** Columns that identify a run rather than measure it. */
const IDENTITY = /^(batch_id|batch|run|rep|process_id|pid|tid|exit_code|seq|index|n_.*|.*_id|.*_count|samples)$/;

export function throughputColumns(runs: Columns): string[] {
  return numericColumns(runs).filter((c) => THROUGHPUT.test(c));
}

export function monitorColumns(runs: Columns): string[] {
  // Monitor figures, not the workload's own numbers (latency, duration, sizes).
  return numericColumns(runs).filter(
    (c) => !THROUGHPUT.test(c) && !IDENTITY.test(c) && !WORKLOAD_OWN.test(c) && !/(^|_)(file_kb|reclen_kb|size)$/.test(c),
  );
}

/** Columns with at least one number and nothing that is not a number (nulls allowed). */
export function numericColumns(columns: Columns): string[] {
  return Object.entries(columns)
    .filter(([, values]) => values.some((v) => typeof v === 'number' || typeof v === 'bigint') && values.every((v) => v === null || v === undefined || toNumber(v) !== null))
    .filter(([name]) => !['started_at', 'ended_at', 'ts'].includes(name))
    .map(([name]) => name);
}

export interface StandardChartInput {
  runs: Columns;
  /** Column of `runs` holding the policy (default `policy`). */
  policyColumn?: string;
  policies?: string[];
  /** Monitor samples over time: a time column, a series column (e.g. host) and numeric columns. */
  monitor?: { columns: Columns; x: string; series?: string; y: string[]; source: string };
  windows?: TimeWindow[];
  affinity?: ThreadAffinity[];
  /** pidstat rows (`line_ts`, `command`, `tid` or `pid`, `pct_cpu`) for the per-thread CPU heatmap. */
  threadCpu?: Columns;
  /** Cap on throughput × monitor scatter charts. */
  maxScatter?: number;
}

export function standardCharts(input: StandardChartInput): ReportChart[] {
  const charts: ReportChart[] = [];
  const policy = input.policyColumn ?? 'policy';
  const runs = input.runs;
  const hasPolicy = policy in runs && rowCount(runs) > 0;
  const color = hasPolicy ? policy : undefined;
  const categories = input.policies;
  const throughput = throughputColumns(runs).filter((c) => runs[c]!.some((v) => toNumber(v) !== null));

  for (const y of throughput) {
    charts.push({
      title: `${axisTitle(y)} per policy`,
      caption: 'Each point is one workload run; the box shows the quartiles, the dashed line the mean.',
      figure: distributionFigure(runs, { y, color, categories }),
    });
  }
  const main = throughput[0];
  if (main) {
    // Columns that vary (a constant has no fit), the research question's counters first.
    const monitors = rankMonitors(monitorColumns(runs).filter((c) => new Set(runs[c]!.map(toNumber).filter((v) => v !== null)).size >= 2));
    for (const x of monitors.slice(0, input.maxScatter ?? 4)) {
      charts.push({
        title: `${axisTitle(main)} against ${lowerFirst(axisTitle(x))}`,
        caption: "Monitor figures averaged over each run's window. Dashed: least-squares line per policy, with Pearson's r and its two-sided p-value.",
        figure: scatterFigure(runs, { x, y: main, color, categories, fit: 'each', hover: ['label', 'rep'].filter((c) => c in runs) }),
      });
    }
  }
  const monitor = input.monitor;
  if (monitor && rowCount(monitor.columns) > 0) {
    for (const y of monitor.y) {
      charts.push({
        title: `${axisTitle(y)} over time (${monitor.source})`,
        caption: 'Shaded: the time window of each run, coloured by policy.',
        figure: timeSeriesFigure(monitor.columns, { x: monitor.x, y, color: monitor.series, windows: input.windows }),
      });
    }
  }
  if (input.threadCpu && rowCount(input.threadCpu) > 0) {
    const cells = threadCpuCells(input.threadCpu);
    if (rowCount(cells) > 0) {
      charts.push({
        title: 'CPU per thread over time (pidstat)',
        caption: `The ${new Set(cells.thread).size} busiest threads by mean CPU; each column is one second.`,
        figure: heatmapFigure(cells, { x: 'time', y: 'thread', z: 'pct_cpu', xTitle: 'Time', yTitle: 'Thread', zTitle: 'CPU (%)' }),
      });
    }
  }
  if (input.affinity?.length) {
    charts.push({
      title: 'CPU affinity of guest threads',
      caption: 'Filled cells: the host CPUs each thread was allowed to run on after tuning.',
      figure: affinityFigure(input.affinity),
    });
  }
  return charts;
}

/** Cache misses and other perf counters, then context switches, I/O wait, interrupts, CPU time; the rest keep their order. */
const MONITOR_PRIORITY = [/^perf_.*miss/, /^perf_/, /_(cs|cswch_s)$|context_switch/, /_(wa|pct_iowait)$/, /_in$/, /_(us|sy|pct_usr|pct_sys|pct_user|pct_system)$/];

export function rankMonitors(columns: string[]): string[] {
  const rank = (c: string) => {
    const i = MONITOR_PRIORITY.findIndex((p) => p.test(c));
    return i < 0 ? MONITOR_PRIORITY.length : i;
  };
  return columns.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
}

/**
 * pidstat rows → one cell per (thread, second): lines of one interval arrive
 * milliseconds apart, so time is cut to whole seconds (pidstat -t marks threads
 * with a leading `|__`, dropped from the label); only the `top` threads
 * by mean CPU are kept so the chart stays readable.
 */
export function threadCpuCells(pidstat: Columns, top = 16): { time: string[]; thread: string[]; pct_cpu: number[] } {
  const ts = pidstat.line_ts ?? [];
  const ids = pidstat.tid ?? pidstat.pid ?? [];
  const names = pidstat.command ?? [];
  const cpu = pidstat.pct_cpu ?? [];
  const rows: { time: string; thread: string; value: number }[] = [];
  for (let i = 0; i < cpu.length; i++) {
    const value = toNumber(cpu[i]);
    const t = ts[i] instanceof Date ? (ts[i] as Date).getTime() : Date.parse(String(ts[i]));
    if (value === null || !Number.isFinite(t) || toNumber(ids[i]) === null) continue;
    rows.push({ time: new Date(Math.floor(t / 1000) * 1000).toISOString(), thread: `${String(names[i] ?? '?').replace(/^\|__/, '')} ${toNumber(ids[i])}`, value });
  }
  const totals = new Map<string, { sum: number; n: number }>();
  for (const r of rows) {
    const t = totals.get(r.thread) ?? { sum: 0, n: 0 };
    t.sum += r.value;
    t.n += 1;
    totals.set(r.thread, t);
  }
  const keep = new Set([...totals.entries()].sort((a, b) => b[1].sum / b[1].n - a[1].sum / a[1].n).slice(0, top).map(([thread]) => thread));
  const kept = rows.filter((r) => keep.has(r.thread));
  return { time: kept.map((r) => r.time), thread: kept.map((r) => r.thread), pct_cpu: kept.map((r) => r.value) };
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

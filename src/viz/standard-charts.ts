/**
 * The charts every batch report shows, chosen from the data at hand (pure):
 * - each throughput per policy, one point per run (the node total over its
 *   guests: Mine's run values), one panel per (test, parameter combination):
 *   unlike runs are never pooled;
 * - the same per guest, each guest its own colour;
 * - throughput against each monitor figure that has samples inside the runs'
 *   windows, one point per run and node, a least-squares line per policy;
 * - monitor time series with each workload's window shaded;
 * - CPU per thread (pidstat) and CPU affinity per guest thread from Tune.
 */
import type { RunValues } from '../mine/run-values.js';
import { axisTitle } from './axis-titles.js';
import { rowCount, type Columns } from './columns.js';
import { affinityFigure, heatmapFigure, type ThreadAffinity } from './heatmap.js';
import { toNumber } from './numbers.js';
import type { ReportChart } from './report.js';
import { guestDistributionFigure, nodeRunColumns, runDistributionFigure, runScatterFigure } from './run-charts.js';
import { timeSeriesFigure, type TimeWindow } from './timeseries.js';

/** Throughput-like column names, best first. */
const THROUGHPUT = /(^|_)(write|rewrite|read|reread|bw|rate|throughput)?_?(kbps|kibps|mibps|mbps|bps|iops)$|^iops$/;
/** The workload's own figures in Mine's run summary (`<workload parser>_<figure>`) and its duration. */
const WORKLOAD_OWN = /^(iozone|fio|dd)_|^duration_s$|^runtime_ms$|^clat_/;
/** Columns that identify a run rather than measure it. */
const IDENTITY = /^(batch_id|batch|run|rep|process_id|pid|tid|exit_code|seq|index|position|attempt|n_.*|.*_id|.*_count|samples)$/;

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
  /** Run values of each throughput column (the run as the unit), best first. */
  throughputs?: RunValues[];
  /** Run values of each monitor figure of the run summary (host monitors: the node's figure). */
  monitors?: RunValues[];
  policies?: string[];
  /** Monitor samples over time: a time column, a series column (e.g. host) and numeric columns. */
  monitor?: { columns: Columns; x: string; series?: string; y: string[]; source: string };
  windows?: TimeWindow[];
  affinity?: ThreadAffinity[];
  /** Policies in `affinity` that are online optimizers: their rows are where each run's climb settled. */
  affinityClimbs?: string[];
  /** pidstat rows (`line_ts`, `command`, `tid` or `pid`, `pct_cpu`) for the per-thread CPU heatmap. */
  threadCpu?: Columns;
  /** Cap on throughput × monitor scatter charts. */
  maxScatter?: number;
}

export function standardCharts(input: StandardChartInput): ReportChart[] {
  const charts: ReportChart[] = [];
  const categories = input.policies;
  const throughputs = (input.throughputs ?? []).filter((t) => t.runs.length > 0);

  for (const values of throughputs) {
    const guests = Math.max(...values.runs.map((r) => r.guests));
    const left = values.excluded.length;
    charts.push({
      title: `${axisTitle(values.metric)} per policy`,
      caption:
        `Each point is one run: ${values.aggregate === 'total' ? `the total over the node's guests${guests > 1 ? ` (${guests} per run)` : ''}` : 'the mean over its guests'}; ` +
        `one panel per test and parameter combination (never pooled). The box shows the quartiles, the dashed line the mean.` +
        (left ? ` ${left} run${left === 1 ? '' : 's'} left out (warm-up, not successful, or without this figure).` : ''),
      figure: runDistributionFigure(values, { categories }),
    });
    if (guests > 1) {
      charts.push({
        title: `${axisTitle(values.metric)} per guest`,
        caption: "Each point is one guest in one run, coloured by guest: the guests of a run share its node and time window, so they are a within-run factor, not replicates.",
        figure: guestDistributionFigure(values, { categories, by: 'guest' }),
      });
    }
  }

  // Throughput against the monitor figures that have samples in the runs' windows, the research question's counters first.
  const scatters: ReportChart[] = [];
  for (const monitor of rankMonitorValues(input.monitors ?? [])) {
    if (scatters.length >= (input.maxScatter ?? 4)) break;
    const pick = throughputs
      .map((values) => ({ values, points: nodeRunColumns(values, monitor) }))
      .find(({ points }) => new Set(points[monitor.metric]!.map(toNumber).filter((v) => v !== null)).size >= 2);
    if (!pick) continue;
    const { values, points } = pick;
    const runsWith = new Set(points.run).size;
    scatters.push({
      title: `${axisTitle(values.metric)} against ${lowerFirst(axisTitle(monitor.metric))}`,
      caption:
        `One point per run and node: the node's total throughput against the node's ${monitor.metric} averaged over the run's window. ` +
        `${runsWith} of ${values.runs.length} runs had samples of it in their window. Dashed: least-squares line per policy, with Pearson's r, its two-sided p-value and n.`,
      figure: runScatterFigure(values, monitor, { categories }),
    });
  }
  charts.push(...scatters);

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
      caption:
        'Filled cells: the host CPUs each thread was allowed to run on after tuning.' +
        (input.affinityClimbs?.length
          ? ` For the online optimizer${input.affinityClimbs.length > 1 ? 's' : ''} (${input.affinityClimbs.join(', ')}), one row per thread and run: where the climb settled by the run's end, its kept moves only (a thread it left unpinned shows its own CPUs); the pins it tried and undid are in the moves section.`
          : ''),
      figure: affinityFigure(input.affinity),
    });
  }
  return charts;
}

function rankMonitorValues(values: RunValues[]): RunValues[] {
  const order = rankMonitors(values.map((v) => v.metric));
  return order.map((metric) => values.find((v) => v.metric === metric)!);
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

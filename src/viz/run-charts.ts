/**
 * Charts whose points are runs (pure): the run is the unit of replication
 * (Mine's `runValues`: node total for throughputs, mean over guests
 * otherwise), so a box per policy holds one point per run, not one per guest.
 * Unlike runs are never pooled: each (test, parameter combination) is its own
 * panel. Guests stay visible as a within-run factor (coloured by guest, or by
 * whether the run's policy tuned them), and "throughput against a monitor"
 * has one point per run and node (the node's total against the node's monitor
 * figure over the run's window).
 */
import type { GuestValue, RunValue, RunValues } from '../mine/run-values.js';
import { axisTitle } from './axis-titles.js';
import { rowCount, type Columns } from './columns.js';
import { distributionFigure } from './distribution.js';
import { facetFigure } from './facet.js';
import type { Figure } from './figure.js';
import { scatterFigure } from './scatter.js';

export interface RunChartOptions {
  /** Policy order (and colours), e.g. the batch's policies in config order. */
  categories?: string[];
  title?: string;
  height?: number;
}

/** "size=8m" (params in config order), with the test's name first when a batch has several tests. */
export function cellLabel(test: string, params: Record<string, unknown>, withTest: boolean): string {
  const text = Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
  if (withTest) return text ? `${test} · ${text}` : test;
  return text || test;
}

function cellOf(values: { runs: readonly RunValue[] }): (r: { test: string; params: Record<string, unknown> }) => string {
  const withTest = new Set(values.runs.map((r) => r.test)).size > 1;
  return (r) => cellLabel(r.test, r.params, withTest);
}

/** The cells of these runs, in order of first appearance. */
export function cellsOf(values: { runs: readonly RunValue[] }): string[] {
  const cell = cellOf(values);
  return [...new Set(values.runs.map(cell))];
}

/** The axis title of a run value: "iozone write throughput (KiB/s)" → "iozone write throughput, node total per run (KiB/s)". */
export function runValueTitle(metric: string, aggregate: RunValues['aggregate'], nodes = 1): string {
  const what = aggregate === 'total' ? (nodes > 1 ? 'node total per run, mean of nodes' : 'node total per run') : 'mean over guests per run';
  return qualify(axisTitle(metric), what);
}

function qualify(title: string, what: string): string {
  const unit = /^(.*?)( \([^()]*\))$/.exec(title);
  return unit ? `${unit[1]}, ${what}${unit[2]}` : `${title}, ${what}`;
}

/** One row per run: `cell, test, policy, rep, run, guests, tuned_guests` and the metric's run value under its own name. */
export function runColumns(values: RunValues): Columns {
  const cell = cellOf(values);
  const runs = values.runs;
  return {
    cell: runs.map(cell),
    test: runs.map((r) => r.test),
    policy: runs.map((r) => r.policy),
    rep: runs.map((r) => r.rep),
    run: runs.map((r) => r.run),
    guests: runs.map((r) => r.guests),
    tuned_guests: runs.map((r) => r.tuned_guests),
    [values.metric]: runs.map((r) => r.value),
  };
}

/** The guests of the runs that count (warm-up, failed and older attempts left out), one row each. */
export function guestColumns(values: RunValues): Columns {
  const cell = cellOf(values);
  const counted = new Map(values.runs.map((r) => [`${r.batch_id}:${r.run}`, r]));
  const latest = new Map<string, number>();
  for (const g of values.guests) latest.set(`${g.batch_id}:${g.run}`, Math.max(latest.get(`${g.batch_id}:${g.run}`) ?? 0, g.attempt));
  const guests = values.guests.filter((g) => counted.has(`${g.batch_id}:${g.run}`) && g.attempt === latest.get(`${g.batch_id}:${g.run}`));
  return {
    cell: guests.map((g) => cell(g)),
    policy: guests.map((g) => g.policy),
    rep: guests.map((g) => g.rep),
    run: guests.map((g) => g.run),
    host: guests.map((g) => g.host),
    guest: guests.map((g) => g.guest ?? g.host),
    tuned: guests.map((g) => (g.tuned ? 'tuned by the policy' : 'not tuned')),
    [values.metric]: guests.map((g) => g.value),
  };
}

/**
 * One row per (run, node) of the runs both metrics count: the node's total
 * (or mean, as `y`'s aggregate says) of `y` and the mean of `x` over the node's
 * guests (a host monitor's figure is the same for every guest of its node).
 */
export function nodeRunColumns(y: RunValues, x: RunValues): Columns {
  const cell = cellOf(y);
  const kept = new Set(x.runs.map((r) => `${r.batch_id}:${r.run}`));
  const runs = y.runs.filter((r) => kept.has(`${r.batch_id}:${r.run}`));
  const members = (values: RunValues, r: RunValue, host: string) => latestAttempt(values.guests.filter((g) => g.batch_id === r.batch_id && g.run === r.run && g.host === host));
  const out: Columns = { cell: [], policy: [], rep: [], run: [], host: [], guests: [], [y.metric]: [], [x.metric]: [] };
  for (const r of runs) {
    const hosts = [...new Set(latestAttempt(y.guests.filter((g) => g.batch_id === r.batch_id && g.run === r.run)).map((g) => g.host))];
    for (const host of hosts) {
      const ys = members(y, r, host).map((g) => g.value!);
      const xs = members(x, r, host).map((g) => g.value!).filter((v) => Number.isFinite(v));
      if (ys.length === 0 || xs.length === 0) continue;
      const ySum = ys.reduce((a, b) => a + b, 0);
      out.cell!.push(cell(r));
      out.policy!.push(r.policy);
      out.rep!.push(r.rep);
      out.run!.push(r.run);
      out.host!.push(host);
      out.guests!.push(ys.length);
      out[y.metric]!.push(y.aggregate === 'total' ? ySum : ySum / ys.length);
      out[x.metric]!.push(xs.reduce((a, b) => a + b, 0) / xs.length);
    }
  }
  return out;
}

function latestAttempt(guests: GuestValue[]): GuestValue[] {
  const latest = Math.max(0, ...guests.map((g) => g.attempt));
  return guests.filter((g) => g.attempt === latest);
}

/** Panels per cell when there are several; one chart otherwise. */
function perCell(columns: Columns, build: (slice: Columns) => Figure, title: string | undefined): Figure {
  if (new Set(columns.cell).size > 1) return facetFigure(columns, 'cell', build, { title, columns: 2 });
  const figure = build(columns);
  if (title) {
    figure.layout.title = { text: title, x: 0.02, xanchor: 'left' };
    // Room for the title above the plot, so a long y title does not run into it.
    figure.layout.margin = { ...(figure.layout.margin as object), t: 70 };
  }
  return figure;
}

/** A box per policy, one point per run, one panel per (test, params) cell. */
export function runDistributionFigure(values: RunValues, options: RunChartOptions = {}): Figure {
  const columns = runColumns(values);
  const nodes = Math.max(1, ...values.runs.map((r) => r.nodes));
  const yTitle = runValueTitle(values.metric, values.aggregate, nodes);
  // Tall enough for the long y title (what a point is) beside a single panel.
  const height = options.height ?? (cellsOf(values).length > 1 ? undefined : 500);
  return perCell(columns, (slice) => distributionFigure(slice, { y: values.metric, color: 'policy', categories: options.categories, xTitle: 'Policy', yTitle, height }), options.title);
}

/**
 * Each guest's own figure per policy: boxes per guest (`by: 'guest'`) or per
 * tuned / not tuned guests (`by: 'tuned'`, e.g. the pinned guest against the
 * others under pin-one), one panel per cell.
 */
export function guestDistributionFigure(values: RunValues, options: RunChartOptions & { by?: 'guest' | 'tuned' } = {}): Figure {
  const columns = guestColumns(values);
  const by = options.by ?? 'guest';
  const yTitle = qualify(axisTitle(values.metric), 'per guest');
  return perCell(
    columns,
    (slice) => {
      const figure = distributionFigure(slice, { y: values.metric, x: 'policy', color: by, xTitle: 'Policy', yTitle, height: options.height });
      const legend = (figure.layout.legend ?? {}) as Record<string, unknown>;
      figure.layout.legend = { ...legend, title: { text: by === 'guest' ? 'Guest' : 'Guests' } };
      const order = options.categories ?? [];
      if (order.length) figure.layout.xaxis = { ...(figure.layout.xaxis as object), categoryorder: 'array', categoryarray: order };
      return figure;
    },
    options.title,
  );
}

/**
 * `y` (a run value, e.g. the node's write throughput) against `x` (a monitor
 * figure), one point per run and node, a least-squares line per policy, one
 * panel per cell. Runs without samples of `x` in their window are left out.
 */
export function runScatterFigure(y: RunValues, x: RunValues, options: RunChartOptions = {}): Figure {
  const columns = nodeRunColumns(y, x);
  // Short titles: the panels sit side by side; what a point is goes in the caption.
  const yTitle = qualify(axisTitle(y.metric), y.aggregate === 'total' ? 'node total' : 'node mean');
  const xTitle = axisTitle(x.metric);
  return perCell(
    columns,
    (slice) => scatterFigure(slice, { x: x.metric, y: y.metric, color: 'policy', categories: options.categories, fit: 'each', xTitle, yTitle, hover: ['run', 'rep', 'host'], height: options.height }),
    options.title,
  );
}

/** How many points `runScatterFigure` draws. */
export function nodeRunCount(y: RunValues, x: RunValues): number {
  return rowCount(nodeRunColumns(y, x));
}

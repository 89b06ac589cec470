/**
 * The moves of an online optimizer (`dynamic: {optimizer: hill-climb}`, table
 * `dynamic_move`) over time (pure): per move, the objective over the interval
 * before it (hollow circle, joined per run: the level of the settings in
 * force) and over the interval after it (filled triangle when the move was
 * kept, a cross when it was undone), a thin line between the two. Hover says
 * the guest, the action and the settings before → after. One panel per run
 * when there are several: runs have their own time windows.
 */
import { axisTitle } from './axis-titles.js';
import { column, rowCount, toColumns, type Columns, type TableInput } from './columns.js';
import { facetFigure } from './facet.js';
import { baseLayout, type Figure, type Trace } from './figure.js';
import { significant, signedPercent, toNumber } from './numbers.js';
import type { TableData } from './report.js';
import { escapeAnnotation } from './timeseries.js';

/** The guest figures the hill-climber sums over the guests, as axis titles (a monitor column is titled by its name). */
const OBJECTIVE_TITLES: Record<string, string> = {
  write_bps: 'Guests’ write rate (B/s)',
  read_bps: 'Guests’ read rate (B/s)',
  io_bps: 'Guests’ I/O rate (B/s)',
  ctx_switches_per_s: 'Guests’ context switches (per s)',
  cpu_pct: 'Guests’ CPU (%)',
};

export function objectiveTitle(objective: string): string {
  return OBJECTIVE_TITLES[objective] ?? axisTitle(objective);
}

export interface MovesChartOptions {
  title?: string;
  height?: number;
  /** Panels per row when there are several runs (2). */
  columns?: number;
}

const KEPT = '#2ca02c';
const UNDONE = '#d62728';
const LEVEL = '#1f77b4';

/** A move's settings (`{"cpus":"0","nice":5}`, as JSON text or an object) as `cpus 0, nice 5` (`*`: not pinned). */
export function settingsText(value: unknown): string {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (!parsed || typeof parsed !== 'object') return String(value ?? '');
  return Object.entries(parsed as Record<string, unknown>).map(([k, v]) => `${k} ${String(v)}`).join(', ');
}

function atMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const n = toNumber(value);
  if (n !== null) return n;
  return Date.parse(String(value));
}

/** "run 3 (climb)" */
function runLabel(run: unknown, policy: unknown): string {
  const r = run === null || run === undefined ? 'no run' : `run ${String(toNumber(run) ?? run)}`;
  return policy ? `${r} (${String(policy)})` : r;
}

/** `dynamic_move` rows (any table shape with its columns) → the moves chart. */
export function movesFigure(input: TableInput, options: MovesChartOptions = {}): Figure {
  const columns = toColumns(input);
  for (const name of ['at', 'guest', 'action', 'objective_before', 'objective_after', 'kept']) column(columns, name, 'dynamic_move column');
  const n = rowCount(columns);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => atMs(columns.at![a]) - atMs(columns.at![b]));
  const sorted: Columns = Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, order.map((i) => v[i])]));
  const runs = sorted.run ?? new Array(n).fill(null);
  const policies = sorted.policy ?? new Array(n).fill(null);
  sorted.run_label = runs.map((r, i) => runLabel(r, policies[i]));
  const objectives = [...new Set((sorted.objective ?? []).filter((o) => o !== null && o !== undefined).map(String))];
  const yTitle = objectives.length === 1 ? objectiveTitle(objectives[0]!) : 'Objective';
  const several = new Set(sorted.run_label).size > 1;
  const figure = several
    ? facetFigure(sorted, 'run_label', (slice) => runPanel(slice, yTitle, options.height), { columns: options.columns ?? 2 })
    : runPanel(sorted, yTitle, options.height);
  if (several) {
    // A facet label says "<column title>: run 3 (climb)": the value alone is clearer.
    const prefix = `${axisTitle('run_label')}: `;
    for (const a of (figure.layout.annotations as Array<Record<string, unknown>>) ?? []) {
      if (typeof a.text === 'string' && a.text.startsWith(prefix)) a.text = escapeAnnotation(a.text.slice(prefix.length));
    }
    figure.layout.height = options.height ?? Math.max(380, 320 * Math.ceil(new Set(sorted.run_label).size / (options.columns ?? 2)));
  }
  if (options.title) {
    figure.layout.title = { text: options.title, x: 0.02, xanchor: 'left' };
    figure.layout.margin = { ...(figure.layout.margin as object), t: 70 };
  }
  return figure;
}

function runPanel(c: Columns, yTitle: string, height: number | undefined): Figure {
  const n = rowCount(c);
  const x = c.at!.map((v) => new Date(atMs(v)).toISOString());
  const before = c.objective_before!.map(toNumber);
  const after = c.objective_after!.map(toNumber);
  const kept = c.kept!.map((v) => v === true || v === 'true');
  const hover = Array.from({ length: n }, (_, i) => {
    const change = before[i] && after[i] !== null ? (100 * (after[i]! - before[i]!)) / before[i]! : null;
    return [
      `<b>${escapeAnnotation(String(c.guest![i]))}</b> · ${escapeAnnotation(String(c.action![i]))}${c.node?.[i] ? ` on ${escapeAnnotation(String(c.node[i]))}` : ''}`,
      `${escapeAnnotation(settingsText(c.before?.[i]))} → ${escapeAnnotation(settingsText(c.after?.[i]))}`,
      `objective ${significant(before[i], 4)} → ${significant(after[i], 4)}${change === null ? '' : ` (${signedPercent(change, 2)})`}`,
      kept[i] ? 'kept' : after[i] === null ? 'cut off by the end of the run (undone by the restore)' : 'undone',
    ].join('<br>');
  });
  const idx = (want: boolean) => Array.from({ length: n }, (_, i) => i).filter((i) => kept[i] === want);
  const segX: (string | null)[] = [];
  const segY: (number | null)[] = [];
  for (let i = 0; i < n; i++) segX.push(x[i]!, x[i]!, null), segY.push(before[i]!, after[i]!, null);
  const data: Trace[] = [
    { type: 'scatter', mode: 'lines', name: 'change', x: segX, y: segY, line: { color: '#999999', width: 1 }, hoverinfo: 'skip', showlegend: false, legendgroup: 'change' },
    {
      type: 'scatter',
      mode: 'lines+markers',
      name: 'before the move',
      legendgroup: 'before',
      x,
      y: before,
      line: { color: LEVEL, width: 1, dash: 'dot' },
      marker: { color: LEVEL, size: 9, symbol: 'circle-open', line: { width: 1.5 } },
      text: hover,
      hovertemplate: '%{text}<extra>before</extra>',
    },
  ];
  for (const [want, name, colour, symbol] of [
    [true, 'after: kept', KEPT, 'triangle-up'],
    [false, 'after: undone', UNDONE, 'x'],
  ] as const) {
    const rows = idx(want);
    data.push({
      type: 'scatter',
      mode: 'markers',
      name,
      legendgroup: name,
      x: rows.map((i) => x[i]),
      y: rows.map((i) => after[i]),
      marker: { color: colour, size: 10, symbol },
      text: rows.map((i) => hover[i]),
      hovertemplate: '%{text}<extra></extra>',
    });
  }
  const layout = baseLayout({ xTitle: 'Time of the move', yTitle, legendTitle: 'Objective', height: height ?? 420 });
  (layout.xaxis as Record<string, unknown>).type = 'date';
  return { data, layout };
}

/** The moves as a small table: time, run, guest, action, settings before → after, objective before → after, change, kept. */
export function movesTable(input: TableInput): TableData {
  const c = toColumns(input);
  const n = rowCount(c);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => atMs(c.at?.[a]) - atMs(c.at?.[b]));
  const rows = order.map((i) => {
    const before = toNumber(c.objective_before?.[i]);
    const after = toNumber(c.objective_after?.[i]);
    return [
      new Date(atMs(c.at?.[i])).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      c.run?.[i] ?? null,
      c.node?.[i] ?? '',
      c.guest?.[i] ?? '',
      c.action?.[i] ?? '',
      settingsText(c.before?.[i]),
      settingsText(c.after?.[i]),
      significant(before, 4),
      significant(after, 4),
      before && after !== null ? signedPercent((100 * (after - before)) / before, 2) : 'n/a',
      c.kept?.[i] === true ? 'kept' : after === null ? 'cut off' : 'undone',
    ];
  });
  return { columns: ['at', 'run', 'node', 'guest', 'action', 'before', 'after', 'objective before', 'objective after', 'change', 'kept'], rows };
}

/**
 * Monitor time series (one line per y column and group) with each
 * workload's window shaded behind the lines, so a reader sees which part of
 * the vmstat/perf trace belongs to which run. Y columns of very different
 * scale (typical magnitudes more than 10x apart, e.g. context switches and
 * CPU %) get their own y axes, so the smaller is not drawn as a flat line.
 */
import { axisTitle } from './axis-titles.js';
import { column, groupRows, pick, plotValue, type TableInput } from './columns.js';
import { sampleColumns } from './since-boot.js';
import { baseLayout, colourMap, orderGroups, PALETTE, type CommonOptions, type Figure, type Layout, type Trace } from './figure.js';

export interface TimeWindow {
  /** Start and end on the x axis: Date, ISO text, or numbers in the x column's unit. */
  start: Date | string | number;
  end: Date | string | number;
  label?: string;
  /** Windows with the same group share a colour (e.g. the policy). */
  group?: string;
}

export interface TimeSeriesOptions extends CommonOptions {
  x: string;
  y: string | string[];
  /** One line per value of this column (e.g. host or monitor label). */
  color?: string;
  windows?: TimeWindow[];
  /** Markers on the lines up to this many points per trace (so short series show their samples). */
  markerLimit?: number;
}

export function timeSeriesFigure(input: TableInput, options: TimeSeriesOptions): Figure {
  const columns = sampleColumns(input, options.sinceBoot);
  const xs = column(columns, options.x, 'x column');
  const yNames = Array.isArray(options.y) ? options.y : [options.y];
  const yColumns = yNames.map((name) => [name, column(columns, name, 'y column')] as const);
  const groups = orderGroups(groupRows(columns, options.color), options.categories);
  const seriesNames = groups.flatMap(([g]) => yNames.map((y) => seriesName(g, y, Boolean(options.color), yNames.length > 1)));
  const colours = colourMap(seriesNames);
  const markerLimit = options.markerLimit ?? 300;

  const data: Trace[] = [];
  for (const [group, rows] of groups) {
    const order = [...rows].sort((a, b) => compareX(xs[a], xs[b]));
    for (const [yName, ys] of yColumns) {
      const name = seriesName(group, yName, Boolean(options.color), yNames.length > 1);
      data.push({
        type: 'scatter',
        mode: order.length <= markerLimit ? 'lines+markers' : 'lines',
        name,
        x: pick(xs, order).map(plotValue),
        y: pick(ys, order).map(plotValue),
        line: { color: colours.get(name), width: 1.5 },
        marker: { color: colours.get(name), size: 4 },
        // the y column, to place the trace on its axis below
        meta: yName,
      });
    }
  }

  const axes = yAxisGroups(yColumns);
  const axisCount = Math.max(...axes);
  const titleOf = (axis: number) => yNames.filter((_, i) => axes[i] === axis).map(axisTitle).join(', ');
  const layout = baseLayout({
    title: options.title,
    xTitle: options.xTitle ?? axisTitle(options.x),
    yTitle: options.yTitle ?? titleOf(1),
    legendTitle: options.color ? axisTitle(options.color) : undefined,
    height: options.height,
  });
  if (axisCount > 1) {
    for (const trace of data) {
      const axis = axes[yNames.indexOf(String(trace.meta))]!;
      if (axis > 1) trace.yaxis = `y${axis}`;
    }
    Object.assign(layout, extraYAxes(axisCount, titleOf, layout));
  }
  for (const trace of data) delete trace.meta;
  const windows = options.windows ?? [];
  if (windows.length) {
    const windowGroups = [...new Set(windows.map((w) => w.group ?? w.label ?? ''))];
    const shade = new Map(windowGroups.map((g, i) => [g, PALETTE[(i + 2) % PALETTE.length]!]));
    layout.shapes = windows.map((w) => ({
      type: 'rect',
      xref: 'x',
      yref: 'paper',
      x0: plotValue(w.start),
      x1: plotValue(w.end),
      y0: 0,
      y1: 1,
      fillcolor: shade.get(w.group ?? w.label ?? ''),
      opacity: 0.12,
      line: { width: 0 },
      layer: 'below',
    }));
    layout.annotations = windows
      .filter((w) => w.label)
      .map((w) => ({
        xref: 'x',
        yref: 'paper',
        x: plotValue(w.start),
        y: 1,
        xanchor: 'left',
        yanchor: 'bottom',
        text: escapeAnnotation(w.label!),
        showarrow: false,
        font: { size: 10, color: '#555555' },
      }));
  }
  return { data, layout };
}

/** Typical magnitudes further apart than this get separate y axes. */
const SCALE_RATIO = 10;

/** A column's typical magnitude: the median absolute value of its non-zero numbers (undefined when it has none). */
export function typicalMagnitude(values: readonly unknown[]): number | undefined {
  const sizes = values
    .map((v) => (typeof v === 'bigint' ? Number(v) : v))
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v !== 0)
    .map(Math.abs)
    .sort((a, b) => a - b);
  if (sizes.length === 0) return undefined;
  const mid = sizes.length >> 1;
  return sizes.length % 2 ? sizes[mid]! : (sizes[mid - 1]! + sizes[mid]!) / 2;
}

/**
 * The y axis (1, 2, ...) of each y column: columns whose typical magnitudes
 * are within 10x of the largest on an axis share it; axis 1 is the first
 * column's. A column with no non-zero number goes with the first column.
 */
export function yAxisGroups(columns: readonly (readonly [string, readonly unknown[]])[]): number[] {
  const sizes = columns.map(([, values]) => typicalMagnitude(values));
  const order = sizes.map((size, i) => ({ size, i })).filter((c) => c.size !== undefined).sort((a, b) => b.size! - a.size!);
  const groupOf = new Array<number>(columns.length).fill(-1);
  let group = -1;
  let top = 0;
  for (const { size, i } of order) {
    if (group < 0 || top / size! > SCALE_RATIO) {
      group++;
      top = size!;
    }
    groupOf[i] = group;
  }
  const first = groupOf[0]! >= 0 ? groupOf[0]! : 0;
  for (let i = 0; i < groupOf.length; i++) if (groupOf[i] === -1) groupOf[i] = first;
  // Number the groups by first appearance in the y list, so the first column is on the left axis.
  const numbers = new Map<number, number>();
  return groupOf.map((g) => {
    if (!numbers.has(g)) numbers.set(g, numbers.size + 1);
    return numbers.get(g)!;
  });
}

/** Layout entries for y axes 2.. overlaying the first: axis 2 on the right, further ones outside, alternating sides. */
function extraYAxes(count: number, titleOf: (axis: number) => string, layout: Layout): Layout {
  const step = 0.08;
  const outer = Array.from({ length: count - 2 }, (_, k) => (k % 2 === 0 ? 'left' : 'right'));
  const left = outer.filter((side) => side === 'left').length;
  const right = outer.length - left;
  const domain = [step * left, 1 - step * right];
  const out: Layout = {
    xaxis: { ...(layout.xaxis as Record<string, unknown>), domain },
    margin: { ...(layout.margin as Record<string, unknown>), r: 70 },
  };
  let leftSeen = 0;
  let rightSeen = 0;
  for (let axis = 2; axis <= count; axis++) {
    const side = axis === 2 ? 'right' : outer[axis - 3]!;
    const entry: Record<string, unknown> = { title: { text: titleOf(axis) }, overlaying: 'y', side, automargin: true, zeroline: false, showgrid: false };
    if (axis > 2) {
      entry.anchor = 'free';
      entry.position = side === 'left' ? domain[0]! - step * ++leftSeen : domain[1]! + step * ++rightSeen;
    }
    out[`yaxis${axis}`] = entry;
  }
  return out;
}

function seriesName(group: string, y: string, grouped: boolean, manyY: boolean): string {
  if (grouped && manyY) return `${group} · ${y}`;
  return grouped ? group : y;
}

function compareX(a: unknown, b: unknown): number {
  const va = a instanceof Date ? a.getTime() : typeof a === 'bigint' ? Number(a) : a;
  const vb = b instanceof Date ? b.getTime() : typeof b === 'bigint' ? Number(b) : b;
  if (typeof va === 'number' && typeof vb === 'number') return va - vb;
  return String(va).localeCompare(String(vb));
}

/** Plotly renders a subset of HTML in annotation text: labels from the store are shown as text. */
export function escapeAnnotation(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

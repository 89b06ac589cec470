/**
 * Monitor time series (one line per y column and group) with each
 * workload's window shaded behind the lines, so a reader sees which part of
 * the vmstat/perf trace belongs to which run.
 */
import { axisTitle } from './axis-titles.js';
import { column, groupRows, pick, plotValue, toColumns, type TableInput } from './columns.js';
import { baseLayout, colourMap, orderGroups, PALETTE, type CommonOptions, type Figure, type Trace } from './figure.js';

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
  const columns = toColumns(input);
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
      });
    }
  }

  const layout = baseLayout({
    title: options.title,
    xTitle: options.xTitle ?? axisTitle(options.x),
    yTitle: options.yTitle ?? (yNames.length === 1 ? axisTitle(yNames[0]!) : yNames.map(axisTitle).join(', ')),
    legendTitle: options.color ? axisTitle(options.color) : undefined,
    height: options.height,
  });
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

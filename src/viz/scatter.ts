/**
 * Scatter of y against x, one colour per group (usually the policy), with an
 * OLS line per group (or one for all points) whose legend entry shows
 * Pearson's r, its p-value and n. The fit numbers ride along in the fit
 * trace's `meta.fit`, so tests and notebooks can read them back.
 */
import { axisTitle } from './axis-titles.js';
import { column, groupRows, pick, plotValue, type TableInput } from './columns.js';
import { sampleColumns } from './since-boot.js';
import { baseLayout, colourMap, orderGroups, type CommonOptions, type Figure, type Trace } from './figure.js';
import { describeFit, linearFit, type LinearFit } from './fit.js';
import { finitePairs } from './numbers.js';
import { MIN_N } from '../stats/sample.js';

export type FitMode = 'each' | 'all' | 'none';

export interface ScatterOptions extends CommonOptions {
  x: string;
  y: string;
  color?: string;
  /** `each` (default): one line per colour group; `all`: one line over all points; `none`. */
  fit?: FitMode | boolean;
  /** Extra columns shown on hover (e.g. label, rep). */
  hover?: string[];
}

export function normalizeFitMode(fit: FitMode | boolean | undefined): FitMode {
  if (fit === undefined || fit === true) return 'each';
  if (fit === false) return 'none';
  return fit;
}

export function scatterFigure(input: TableInput, options: ScatterOptions): Figure {
  const columns = sampleColumns(input, options.sinceBoot);
  const xs = column(columns, options.x, 'x column');
  const ys = column(columns, options.y, 'y column');
  const hoverColumns = (options.hover ?? []).map((name) => [name, column(columns, name, 'hover column')] as const);
  const groups = orderGroups(groupRows(columns, options.color), options.categories);
  const colours = colourMap(groups.map(([g]) => g), options.categories);
  const fitMode = normalizeFitMode(options.fit);
  const data: Trace[] = [];
  const fitTraces: Trace[] = [];

  for (const [group, rows] of groups) {
    const name = options.color ? group : options.y;
    const trace: Trace = {
      type: 'scatter',
      mode: 'markers',
      name,
      legendgroup: name,
      x: pick(xs, rows).map(plotValue),
      y: pick(ys, rows).map(plotValue),
      marker: { color: colours.get(group), size: 8, opacity: 0.85 },
    };
    if (hoverColumns.length) {
      trace.customdata = rows.map((i) => hoverColumns.map(([, values]) => plotValue(values[i])));
      trace.hovertemplate =
        `${options.x}=%{x}<br>${options.y}=%{y}` + hoverColumns.map(([n], k) => `<br>${n}=%{customdata[${k}]}`).join('') + `<extra>${name}</extra>`;
    }
    data.push(trace);
    if (fitMode === 'each') {
      const fit = linearFit(pick(xs, rows), pick(ys, rows));
      // A line through fewer than 3 points says nothing: no line, and no r.
      if (fit && fit.n >= MIN_N) fitTraces.push(fitTrace(fit, pick(xs, rows), `${options.color ? group : 'OLS'} fit`, name, colours.get(group)!));
    }
  }
  if (fitMode === 'all') {
    const fit = linearFit(xs, ys);
    if (fit && fit.n >= MIN_N) fitTraces.push(fitTrace(fit, xs, 'OLS fit (all points)', 'all-fit', '#333333'));
  }
  data.push(...fitTraces);

  const layout = baseLayout({
    title: options.title,
    xTitle: options.xTitle ?? axisTitle(options.x),
    yTitle: options.yTitle ?? axisTitle(options.y),
    legendTitle: options.color ? axisTitle(options.color) : undefined,
    height: options.height,
  });
  return { data, layout };
}

function fitTrace(fit: LinearFit, xs: readonly unknown[], label: string, legendgroup: string, colour: string): Trace {
  const { x } = finitePairs(xs, xs);
  const x0 = Math.min(...x);
  const x1 = Math.max(...x);
  return {
    type: 'scatter',
    mode: 'lines',
    name: `${label}: ${describeFit(fit)}`,
    legendgroup,
    x: [x0, x1],
    y: [fit.intercept + fit.slope * x0, fit.intercept + fit.slope * x1],
    line: { color: colour, dash: 'dash', width: 2 },
    hovertemplate: `y = ${fit.intercept.toPrecision(4)} + ${fit.slope.toPrecision(4)}·x<br>${describeFit(fit)}<extra>${label}</extra>`,
    meta: { fit },
  };
}

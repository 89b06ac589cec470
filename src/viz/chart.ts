/**
 * A chart spec plus its rows → a figure (pure). Faceting wraps any kind.
 */
import type { Columns, TableInput } from './columns.js';
import { distributionFigure } from './distribution.js';
import { facetFigure } from './facet.js';
import type { Figure } from './figure.js';
import { heatmapFigure } from './heatmap.js';
import { toNumber } from './numbers.js';
import { scatterFigure } from './scatter.js';
import { sampleColumns } from './since-boot.js';
import type { ChartSpec } from './spec.js';
import { timeSeriesFigure, type TimeWindow } from './timeseries.js';

export interface ChartContext {
  /** Workload windows to shade on line charts. */
  windows?: TimeWindow[];
  /** Colour order (e.g. the batch's policies in config order). */
  categories?: string[];
}

export function figureFromSpec(spec: ChartSpec, input: TableInput, context: ChartContext = {}): Figure {
  // Since-boot rows go before faceting, so no panel is built from them alone.
  const columns = sampleColumns(input, spec.sinceBoot);
  const build = (rows: Columns, title: string | undefined): Figure => buildOne(spec, rows, context, title);
  // A panel of rows without a y value (a failed run, another test's rows) would be empty: those rows go first.
  if (spec.facet) return facetFigure(spec.kind === 'line' || spec.kind === 'heatmap' ? columns : withValue(columns, single(spec.y!)), spec.facet, (slice) => build(slice, undefined), { title: spec.title });
  return build(columns, spec.title);
}

function buildOne(spec: ChartSpec, columns: Columns, context: ChartContext, title: string | undefined): Figure {
  const common = { title, categories: context.categories, height: spec.height, sinceBoot: spec.sinceBoot };
  const y = spec.y!;
  switch (spec.kind) {
    case 'scatter':
      return scatterFigure(columns, { ...common, x: spec.x!, y: single(y), color: spec.color, fit: spec.fit, hover: spec.hover });
    case 'box':
    case 'violin':
      return distributionFigure(columns, { ...common, y: single(y), color: spec.color, x: spec.x, kind: spec.kind });
    case 'line':
      return timeSeriesFigure(columns, { ...common, x: spec.x!, y, color: spec.color, windows: spec.windows === false ? [] : context.windows });
    case 'heatmap':
      return heatmapFigure(columns, { ...common, x: spec.x!, y: single(y), z: spec.z!, agg: spec.agg });
  }
}

/** The rows whose `name` is a finite number (all rows when there is no such column: the builder says so). */
function withValue(columns: Columns, name: string): Columns {
  const values = columns[name];
  if (!values) return columns;
  const keep = values.map((v) => toNumber(v) !== null);
  return Object.fromEntries(Object.entries(columns).map(([c, v]) => [c, v.filter((_, i) => keep[i])]));
}

function single(y: string | string[]): string {
  return Array.isArray(y) ? y[0]! : y;
}

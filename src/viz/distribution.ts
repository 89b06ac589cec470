/**
 * Box or violin plots of y per group (usually the policy), every point drawn
 * beside its box so a reader sees how many runs stand behind it. With an
 * `x` column the boxes are grouped per x value (e.g. per file size).
 */
import { axisTitle } from './axis-titles.js';
import { column, groupRows, pick, plotValue, type TableInput } from './columns.js';
import { sampleColumns } from './since-boot.js';
import { baseLayout, colourMap, orderGroups, type CommonOptions, type Figure, type Trace } from './figure.js';

export interface DistributionOptions extends CommonOptions {
  y: string;
  /** The grouping column (one box per value); usually `policy`. */
  color?: string;
  /** Optional category axis: boxes of each colour group side by side per x value. */
  x?: string;
  kind?: 'box' | 'violin';
}

export function distributionFigure(input: TableInput, options: DistributionOptions): Figure {
  const columns = sampleColumns(input, options.sinceBoot);
  const ys = column(columns, options.y, 'y column');
  const xs = options.x ? column(columns, options.x, 'x column') : undefined;
  const groups = orderGroups(groupRows(columns, options.color), options.categories);
  const colours = colourMap(groups.map(([g]) => g), options.categories);
  const kind = options.kind ?? 'box';

  const data: Trace[] = groups.map(([group, rows]) => {
    const name = options.color ? group : options.y;
    const trace: Trace = {
      type: kind,
      name,
      legendgroup: name,
      y: pick(ys, rows).map(plotValue),
      marker: { color: colours.get(group), size: 6 },
      line: { color: colours.get(group) },
    };
    if (xs) trace.x = pick(xs, rows).map((v) => String(plotValue(v)));
    if (kind === 'box') Object.assign(trace, { boxpoints: 'all', jitter: 0.4, pointpos: 0, boxmean: true });
    else Object.assign(trace, { points: 'all', jitter: 0.4, pointpos: 0, box: { visible: true }, meanline: { visible: true }, scalemode: 'width' });
    return trace;
  });

  const layout = baseLayout({
    title: options.title,
    xTitle: options.xTitle ?? (options.x ? axisTitle(options.x) : options.color ? axisTitle(options.color) : ''),
    yTitle: options.yTitle ?? axisTitle(options.y),
    legendTitle: options.x && options.color ? axisTitle(options.color) : undefined,
    height: options.height,
  });
  if (xs) layout[kind === 'box' ? 'boxmode' : 'violinmode'] = 'group';
  else layout.showlegend = false;
  return { data, layout };
}

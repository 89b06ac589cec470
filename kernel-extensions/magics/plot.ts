import { figureFromSpec } from '../../src/viz/chart.js';
import { loadChartData } from '../../src/viz/chart-data.js';
import { toMimeBundle } from '../../src/viz/mime.js';
import { runSummaryColumns } from '../../src/viz/run-summary.js';
import { parseChartSpec } from '../../src/viz/spec.js';
import { UserError } from '../../src/errors.js';
import { bodyAtCellLines, takeOption } from './parse.js';
import type { Magic } from './registry.js';

export const plotMagic: Magic = {
  name: 'plot',
  kind: 'cell',
  summary: 'draw a chart spec (YAML: data, kind, x, y, color, facet, fit) from the store',
  usage: `%%plot [-o var]
data: {parser: summary, batch: latest}
kind: scatter
x: cs
y: write_kbps
color: policy
fit: ols

The same spec as \`expert plot spec.yaml\`. -o var keeps the Plotly figure (data, layout).`,
  async run(context, call) {
    const out = takeOption(call.args, ['-o', '--out']);
    if (out.rest.length > 0) throw new UserError(`unexpected argument '${out.rest[0]}'; see %plot?`);
    const spec = parseChartSpec(bodyAtCellLines(call), '<%%plot cell>');
    const data = await loadChartData(await context.store(), spec, { runSummary: runSummaryColumns });
    const figure = figureFromSpec(spec, data.columns, data.context);
    context.display(toMimeBundle(figure) as unknown as Record<string, unknown>);
    if (out.value) await context.setVariable(out.value, figure, '{ data: any[]; layout: Record<string, any> }');
  },
};

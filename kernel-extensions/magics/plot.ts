import { figureFromSpecText } from '../../src/viz/chart-data.js';
import { toMimeBundle } from '../../src/viz/mime.js';
import { UserError } from '../../src/errors.js';
import { bodyAtCellLines, takeOption } from './parse.js';
import type { Magic } from './registry.js';

export const plotMagic: Magic = {
  name: 'plot',
  kind: 'cell',
  summary: 'draw a chart spec (YAML: data, kind, x, y, color, facet, fit) from the store',
  usage: `%%plot [-o var]
data: {runs: true, batch: latest}   # or {parser: vmstat} or {sql: ...}
kind: scatter
x: vmstat_cs
y: iozone_write_kbps
color: policy
fit: each

The same spec as \`expert plot spec.yaml\`. -o var keeps the Plotly figure (data, layout).`,
  async run(context, call) {
    const out = takeOption(call.args, ['-o', '--out']);
    if (out.rest.length > 0) throw new UserError(`unexpected argument '${out.rest[0]}'; see %plot?`);
    const { figure } = await figureFromSpecText(await context.store(), bodyAtCellLines(call), '<%%plot cell>');
    context.display(toMimeBundle(figure) as unknown as Record<string, unknown>);
    if (out.value) await context.setVariable(out.value, figure, '{ data: any[]; layout: Record<string, any> }');
  },
};

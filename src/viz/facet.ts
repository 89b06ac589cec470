/**
 * Small multiples: one panel per value of a facet column, laid out in a grid
 * of Plotly subplots (x2/y2, ...). Each panel is built by the same builder on
 * its slice of the rows; legend entries are shown once per colour group.
 */
import { groupRows, pick, toColumns, type Columns, type TableInput } from './columns.js';
import type { Figure, Layout, Trace } from './figure.js';
import { axisTitle } from './axis-titles.js';

export function facetFigure(input: TableInput, facet: string, build: (slice: Columns) => Figure, options: { columns?: number; title?: string } = {}): Figure {
  const columns = toColumns(input);
  const panels = [...groupRows(columns, facet)].map(([value, rows]) => {
    const slice: Columns = Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, pick(values, rows)]));
    return { value, figure: build(slice) };
  });
  if (panels.length === 0) return build(columns);
  const nCols = Math.min(options.columns ?? 3, panels.length);
  const nRows = Math.ceil(panels.length / nCols);
  const gap = 0.06;
  const cellW = (1 - gap * (nCols - 1)) / nCols;
  const cellH = (1 - gap * 1.5 * (nRows - 1)) / nRows;

  const first = panels[0]!.figure.layout;
  const layout: Layout = { ...first, annotations: [], shapes: [] };
  for (const key of Object.keys(layout)) if (/^[xy]axis\d*$/.test(key)) delete layout[key];
  // A panel's own extra y axes (a line chart's axis for a column of another scale) get numbers after the panels'.
  let nextAxis = panels.length + 1;
  if (options.title) layout.title = { text: options.title, x: 0.02, xanchor: 'left' };
  layout.height = (first.height as number | undefined) ?? Math.max(360, 300 * nRows);
  const data: Trace[] = [];
  const legendSeen = new Set<string>();

  panels.forEach(({ value, figure }, i) => {
    const col = i % nCols;
    const row = Math.floor(i / nCols);
    const suffix = i === 0 ? '' : String(i + 1);
    const xDomain = [col * (cellW + gap), col * (cellW + gap) + cellW];
    const yTop = 1 - row * (cellH + gap * 1.5);
    const yDomain = [yTop - cellH, yTop];
    const panelX = (figure.layout.xaxis ?? {}) as Record<string, unknown>;
    const panelY = (figure.layout.yaxis ?? {}) as Record<string, unknown>;
    layout[`xaxis${suffix}`] = { ...panelX, domain: xDomain, anchor: `y${suffix}`, title: row === nRows - 1 ? panelX.title : { text: '' } };
    layout[`yaxis${suffix}`] = { ...panelY, domain: yDomain, anchor: `x${suffix}`, title: col === 0 ? panelY.title : { text: '' } };
    const extraAxes = new Map<string, string>();
    for (const [key, axis] of Object.entries(figure.layout)) {
      const n = /^yaxis(\d+)$/.exec(key)?.[1];
      if (!n) continue;
      const id = nextAxis++;
      extraAxes.set(`y${n}`, `y${id}`);
      const { position: _position, ...rest } = axis as Record<string, unknown>;
      layout[`yaxis${id}`] = { ...rest, overlaying: `y${suffix}`, anchor: `x${suffix}`, title: col === nCols - 1 || i === panels.length - 1 ? rest.title : { text: '' } };
    }
    for (const trace of figure.data) {
      const placed = { ...trace, xaxis: `x${suffix}`, yaxis: extraAxes.get(String(trace.yaxis)) ?? `y${suffix}` };
      if ((trace.meta as { fit?: unknown } | undefined)?.fit) {
        // Each panel has its own fit: its legend entry (with r and p) says which panel.
        data.push({ ...placed, name: `${value} · ${trace.name ?? ''}`, showlegend: trace.showlegend !== false });
        continue;
      }
      const key = String(trace.legendgroup ?? trace.name ?? '');
      const showlegend = trace.showlegend === false ? false : !legendSeen.has(key);
      legendSeen.add(key);
      data.push({ ...placed, showlegend });
    }
    (layout.annotations as unknown[]).push({
      text: `${axisTitle(facet)}: ${value}`,
      xref: 'paper',
      yref: 'paper',
      x: (xDomain[0]! + xDomain[1]!) / 2,
      y: yDomain[1],
      xanchor: 'center',
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 12 },
    });
    const remap = (item: Record<string, unknown>) => ({
      ...item,
      xref: item.xref === 'x' ? `x${suffix}` : item.xref,
      yref: item.yref === 'y' ? `y${suffix}` : item.yref === 'paper' ? `y${suffix} domain` : item.yref,
    });
    for (const shape of (figure.layout.shapes as Record<string, unknown>[] | undefined) ?? []) (layout.shapes as unknown[]).push(remap(shape));
    for (const note of (figure.layout.annotations as Record<string, unknown>[] | undefined) ?? []) (layout.annotations as unknown[]).push(remap(note));
  });
  return { data, layout };
}

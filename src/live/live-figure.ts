/**
 * The notebook's live chart (`%%batch --live`): one Plotly figure of the
 * monitors per node and guest, the CPU percentages (us, sy, wa) on a second
 * axis, run starts marked (policy changes in red), progress in the title.
 * Pure: built from what the dashboard feed holds.
 */
import { baseLayout, PALETTE, type Figure, type Trace } from '../viz/figure.js';
import type { Series } from './dashboard-feed.js';
import type { Progress, RunRow } from './progress.js';
import { formatEta } from './progress.js';

const PERCENT = new Set(['vmstat_us', 'vmstat_sy', 'vmstat_wa']);

export function liveFigure(title: string, status: { status: string; progress: Progress } | undefined, runs: readonly RunRow[], series: readonly Series[]): Figure {
  const p = status?.progress;
  const heading = p
    ? `${title} · ${status!.status} · runs ${p.done}/${p.total} done · ETA ${formatEta(p.etaSeconds)} · policy ${p.policy ?? '-'}`
    : title;
  // A date axis prints the day under its first tick: with the legend at Plotly's default spot below the plot (and an
  // axis title) the three overlapped. The time axis needs no title; the legend sits at the figure's foot, below the
  // axis however tall its labels grow, and the right axis makes room for its own title.
  const layout = baseLayout({ title: heading, yTitle: 'per second (cs, bo) / count (perf)', height: 440 });
  layout.yaxis2 = { title: { text: 'CPU %' }, overlaying: 'y', side: 'right', range: [0, 100], showgrid: false, automargin: true };
  layout.xaxis = { ...(layout.xaxis as object), type: 'date' };
  layout.legend = { orientation: 'h', xref: 'container', yref: 'container', x: 0.02, y: 0, yanchor: 'bottom' };
  layout.margin = { ...(layout.margin as object), b: 100 };
  const shapes: unknown[] = [];
  const annotations: unknown[] = [];
  let previous: string | null | undefined;
  for (const r of runs) {
    if (r.startedMs === null) continue;
    const change = previous !== undefined && r.policy !== previous;
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: r.startedMs, x1: r.startedMs, y0: 0, y1: 1, line: { width: change ? 2 : 1, dash: change ? 'solid' : 'dot', color: change ? '#d62728' : '#999999' } });
    annotations.push({ x: r.startedMs, y: 1, xref: 'x', yref: 'paper', yanchor: 'bottom', showarrow: false, font: { size: 10 }, text: `${change || previous === undefined ? `${r.policy ?? ''} ` : ''}run ${r.run}` });
    previous = r.policy;
  }
  layout.shapes = shapes;
  layout.annotations = annotations;
  const data: Trace[] = series.map((s, i) => ({
    type: 'scatter',
    mode: 'lines+markers',
    marker: { size: 4 },
    name: `${s.guest ? `${s.host}/${s.guest}` : s.host} ${s.name.replace(/^(vmstat|perf)_/, '')}`,
    x: s.x.map((t) => new Date(t).toISOString()),
    y: [...s.y],
    line: { color: PALETTE[i % PALETTE.length] },
    ...(PERCENT.has(s.name) ? { yaxis: 'y2' } : {}),
  }));
  return { data, layout };
}

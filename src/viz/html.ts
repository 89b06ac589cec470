/**
 * Figures as HTML: a `<div>` and a small script that draws it once Plotly is
 * there, and a self-contained page that inlines plotly.js exactly once.
 */
import { randomUUID } from 'node:crypto';
import { figureJson, type Figure } from './figure.js';
import { DRAIN_SCRIPT, NOTEBOOK_LOADER_MARKER, plotlyLoaderScript } from './plotly-source.js';

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that is safe inside an inline `<script>` ("<" never appears, so no "</script>" or "<!--"). */
export function scriptJson(value: unknown): string {
  return (typeof value === 'string' ? value : JSON.stringify(value))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export const DEFAULT_PLOT_CONFIG = { responsive: true, displaylogo: false, showLink: false };

export interface FigureHtmlOptions {
  /** Element id; a random one by default (several notebooks/outputs share one page). */
  id?: string;
  /** Used when the figure's layout has no height. */
  height?: number;
}

/** The figure's `<div>` and draw script (needs plotly.js on the page: see `plotlyScriptTag`). */
export function figureHtml(figure: Figure, options: FigureHtmlOptions = {}): string {
  const id = options.id ?? `expert-fig-${randomUUID()}`;
  const height = (figure.layout.height as number | undefined) ?? options.height ?? 450;
  const spec = scriptJson(figureJson({ data: figure.data, layout: figure.layout, config: { ...DEFAULT_PLOT_CONFIG, ...(figure.config ?? {}) } }));
  const missing = 'plotly.js is not loaded on this page: the output that carried it is gone. Restart the kernel and run the cells again (the first chart of a kernel session carries plotly.js).';
  return (
    `<div id="${escapeHtml(id)}" class="expert-figure" style="width:100%;min-height:${height}px;"></div>\n` +
    `<script type="text/javascript">\n(function () {\n` +
    `var id = ${scriptJson(JSON.stringify(id))}, spec = ${spec};\n` +
    `function draw() { var el = document.getElementById(id); if (el) { window.Plotly.newPlot(el, spec.data, spec.layout, spec.config); ${REPAIR_SCRIPT} } }\n` +
    `window.__expertPlots = window.__expertPlots || [];\nwindow.__expertPlots.push(draw);\n` +
    `if (window.__expertDrain) window.__expertDrain(); else if (window.Plotly) { ${DRAIN_SCRIPT.replace(/\n/g, ' ')} }\n` +
    `setTimeout(function () { var el = document.getElementById(id); if (el && !window.Plotly && !el.firstChild) el.textContent = ${scriptJson(JSON.stringify(missing))}; }, 4000);\n` +
    `})();\n</script>\n`
  );
}

/**
 * `<script>` that defines window.Plotly if absent (4.8 MB: include once per
 * page or notebook). In a notebook output it comes with a hidden marker
 * element, by which figures see whether a carrier output is still there.
 */
export function plotlyScriptTag(options: { notebookMarker?: boolean } = {}): string {
  return `${options.notebookMarker ? NOTEBOOK_LOADER_MARKER + '\n' : ''}<script type="text/javascript">\n${plotlyLoaderScript()}</script>\n`;
}

/**
 * Live Jupyter Notebook 6 only (window.Jupyter): when a figure is drawn and no
 * output on the page carries plotly.js any more (the carrier's cell was
 * re-run), the figure puts the loader into its own output in the notebook
 * model (found by the figure's unique id), so the saved notebook and its
 * nbconvert export still draw offline.
 * Runs inside draw(), where \`id\` is the figure's element id.
 */
const REPAIR_SCRIPT = [
  'var J = window.Jupyter, html = window.__expertPlotlyLoaderHtml, tries = 0;',
  // Notebook 6 records an output in its model only after rendering it: look again a few times.
  'function repair() {',
  "  if (!J || !J.notebook || !html || document.querySelector('.expert-plotly-loader')) return;",
  '  var done = false;',
  '  J.notebook.get_cells().forEach(function (cell) {',
  '    var area = cell.output_area;',
  '    if (done || !area || !area.outputs) return;',
  '    area.outputs.forEach(function (out) {',
  "      var h = out.data && out.data['text/html']; var text = Array.isArray(h) ? h.join('') : h;",
  "      if (done || typeof text !== 'string' || text.indexOf(id) < 0) return;",
  "      out.data['text/html'] = html + text;",
  "      var mark = document.createElement('div'); mark.className = 'expert-plotly-loader'; mark.hidden = true; el.parentNode.insertBefore(mark, el);",
  '      if (J.notebook.set_dirty) J.notebook.set_dirty(true);',
  '      done = true;',
  '    });',
  '  });',
  '  if (!done && ++tries < 20) setTimeout(repair, 100);',
  '}',
  'if (J && J.notebook && html) setTimeout(repair, 0);',
].join(' ');

export interface PageOptions {
  title: string;
  /** Inner HTML of `<body>` (already escaped where it carries data). */
  body: string;
  /** Extra CSS. */
  style?: string;
}

/** One self-contained HTML file: plotly.js inlined once in `<head>`, nothing fetched from the network. */
export function htmlPage(options: PageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${PAGE_STYLE}${options.style ?? ''}</style>
${plotlyScriptTag()}</head>
<body>
${options.body}
</body>
</html>
`;
}

const PAGE_STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #555; } .warn { color: #a15c00; } .ok { color: #2a7a2a; }
pre { background: #f7f7f7; padding: .5rem; overflow-x: auto; font-size: .8rem; }
.table-wrap { overflow-x: auto; } .expert-figure { margin: .5rem 0 1.5rem; }
`;

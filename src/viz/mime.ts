/**
 * Figures for notebooks: a MIME bundle with
 * - `application/vnd.plotly.v1+json` for front ends that draw Plotly natively
 *   (JupyterLab with its Plotly renderer, VS Code), and
 * - `text/html` for Jupyter Notebook 6 and nbconvert's HTML export, offline:
 *   the first bundle of a kernel session carries plotly.js (guarded: it only
 *   defines window.Plotly if absent), later ones only a draw script that waits
 *   for Plotly. nbconvert keeps each output's HTML as it is, in cell order; the
 *   draw queue makes figures before the loader still draw. When the cell that
 *   carried plotly.js is re-run in Notebook 6, its new figure copies the loader
 *   back into its own output in the notebook model (html.ts), so the saved
 *   notebook and its export keep exactly one copy.
 */
import { figureJson, type Figure } from './figure.js';
import { DEFAULT_PLOT_CONFIG, figureHtml, plotlyScriptTag } from './html.js';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export interface MimeBundle {
  'text/html': string;
  [PLOTLY_MIME]: { data: unknown[]; layout: Record<string, unknown>; config: Record<string, unknown> };
  'text/plain': string;
}

export interface MimeOptions {
  /** `auto` (default): plotly.js goes with the first bundle of this process; `always` / `never` force it. */
  plotly?: 'auto' | 'always' | 'never';
}

let plotlyShipped = false;

/** Whether plotly.js has gone out with a bundle in this process (one kernel = one notebook). */
export function plotlyShippedInSession(): boolean {
  return plotlyShipped;
}

/** Makes the next `auto` bundle carry plotly.js again (e.g. after the notebook's outputs were cleared). */
export function resetPlotlySession(): void {
  plotlyShipped = false;
}

export function toMimeBundle(figure: Figure, options: MimeOptions = {}): MimeBundle {
  const mode = options.plotly ?? 'auto';
  const withPlotly = mode === 'always' || (mode === 'auto' && !plotlyShipped);
  if (withPlotly) plotlyShipped = true;
  const plain: Figure = JSON.parse(figureJson(figure)) as Figure;
  const title = (figure.layout.title as { text?: string } | undefined)?.text;
  return {
    'text/html': (withPlotly ? plotlyScriptTag({ notebookMarker: true }) : '') + figureHtml(figure),
    [PLOTLY_MIME]: { data: plain.data, layout: plain.layout, config: { ...DEFAULT_PLOT_CONFIG, ...(figure.config ?? {}) } },
    'text/plain': `<Plotly figure${title ? `: ${title}` : ''}, ${figure.data.length} trace${figure.data.length === 1 ? '' : 's'}>`,
  };
}

/**
 * The plotly.js bundle from `plotly.js-dist-min`, read once, made safe to
 * inline in an HTML `<script>` element, and wrapped so it always defines
 * `window.Plotly` (even where require.js or a CommonJS `module` is around,
 * as in Jupyter Notebook 6) and only when Plotly is not there yet.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cached: { version: string; loader: string } | undefined;

export function plotlyVersion(): string {
  return load().version;
}

/** JavaScript (no `<script>` tags) that defines window.Plotly if absent, then draws any queued figures. */
export function plotlyLoaderScript(): string {
  return load().loader;
}

function load(): { version: string; loader: string } {
  if (cached) return cached;
  const bundlePath = require.resolve('plotly.js-dist-min');
  const source = readFileSync(bundlePath, 'utf8');
  const { version } = JSON.parse(readFileSync(require.resolve('plotly.js-dist-min/package.json'), 'utf8')) as { version: string };
  // "</script" would end the inline element early; "<!--" would switch the HTML parser's script state.
  // Both can only occur inside string literals in minified code, where "<\/" and "<\!" mean the same.
  const safe = source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
  const loader =
    `if (!window.Plotly) { (function (define, module, exports) {\n${safe}\n}).call(window); }\n` +
    `window.__expertPlotlyVersion = ${JSON.stringify(version)};\n` +
    KEEP_LOADER_SCRIPT +
    DRAIN_SCRIPT;
  cached = { version, loader };
  return cached;
}

/**
 * In a live Jupyter Notebook 6 page the loader keeps its own HTML, so that a
 * figure shown after the carrying output was replaced (its cell re-run) can
 * put plotly.js back into the notebook it will be saved in (see html.ts).
 * "<\/script>" because this text itself sits inside a <script> element.
 */
export const NOTEBOOK_LOADER_MARKER = '<div class="expert-plotly-loader" hidden></div>';
const KEEP_LOADER_SCRIPT =
  'if (window.Jupyter && window.Jupyter.notebook && !window.__expertPlotlyLoaderHtml && document.currentScript && document.currentScript.text) {\n' +
  `  window.__expertPlotlyLoaderHtml = ${JSON.stringify(NOTEBOOK_LOADER_MARKER + '\n<script type="text/javascript">\n').replace(/</g, '\\u003c')} + document.currentScript.text + "<\\/script>\\n";\n` +
  '}\n';

/**
 * Every figure pushes its draw function on a page-wide queue and drains it
 * when Plotly is present. The loader drains it too, so figures may come
 * before the loader in the page (nbconvert keeps outputs in cell order, and
 * the output that carried plotly.js need not be the first).
 */
export const DRAIN_SCRIPT =
  'window.__expertPlots = window.__expertPlots || [];\n' +
  'window.__expertDrain = window.__expertDrain || function () {\n' +
  '  if (!window.Plotly) return;\n' +
  '  var q = window.__expertPlots, f;\n' +
  '  while ((f = q.shift())) { try { f(); } catch (e) { console.error("expert: a chart failed to draw:", e); } }\n' +
  '};\n' +
  'window.__expertDrain();\n';

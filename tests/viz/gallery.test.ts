/**
 * Every kind of figure the builders make, on one offline page in headless
 * Chromium: each draws, with one SVG marker per data point (heatmaps: an
 * image), and no console error. Also the MIME bundle's contract.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distributionFigure } from '../../src/viz/distribution.js';
import { scatterFigure } from '../../src/viz/scatter.js';
import { timeSeriesFigure } from '../../src/viz/timeseries.js';
import { affinityFigure, heatmapFigure } from '../../src/viz/heatmap.js';
import { facetFigure } from '../../src/viz/facet.js';
import { figureHtml, htmlPage } from '../../src/viz/html.js';
import { PLOTLY_MIME, resetPlotlySession, toMimeBundle, plotlyShippedInSession } from '../../src/viz/mime.js';
import type { Figure } from '../../src/viz/figure.js';
import { HeadlessChromium } from './browser.js';
import { expectedPoints, renderedCharts, waitForCharts } from './points.js';

let dir: string;
let browser: HeadlessChromium;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-gallery-'));
  browser = await HeadlessChromium.launch();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

const t0 = Date.parse('2026-03-01T10:00:00Z');
const runs = {
  policy: ['baseline', 'baseline', 'baseline', 'pin <one>', 'pin <one>', 'pin <one>', 'pin <one>'],
  size: ['16m', '64m', '16m', '64m', '16m', '64m', '16m'],
  misses: [10n, 20n, 30n, 15n, 25n, 35n, null],
  write_kbps: [500, 450, 420, 700, 690, 640, Number.NaN],
};

function gallery(): Figure[] {
  return [
    distributionFigure(runs, { y: 'write_kbps', color: 'policy', kind: 'violin', title: 'violin' }),
    facetFigure(runs, 'size', (slice) => scatterFigure(slice, { x: 'misses', y: 'write_kbps', color: 'policy' }), { title: 'facets' }),
    timeSeriesFigure(
      { ts: [0, 1, 2, 3, 4, 5].map((s) => new Date(t0 + s * 1000)), us: [5, 50, 60, 55, 10, 4], sy: [1, 10, 12, 11, 2, 1] },
      { x: 'ts', y: ['us', 'sy'], windows: [{ start: new Date(t0 + 1000), end: new Date(t0 + 3500), label: 'run 0 · baseline' }], title: 'time series' },
    ),
    heatmapFigure({ tid: ['vcpu0', 'vcpu0', 'vcpu1', 'vcpu1', 'io'], t: [0, 1, 0, 1, 1], cpu_pct: [90, 80, 10, 30, 5] }, { x: 't', y: 'tid', z: 'cpu_pct', title: 'per-thread CPU' }),
    affinityFigure([{ thread: 'vm1 vcpu0', cpus: '0' }, { thread: 'vm1 vcpu1', cpus: '0-1' }], { cpuCount: 2 }),
  ];
}

test('every figure kind draws offline in Chromium with the right number of points', async () => {
  const figures = gallery();
  const body = figures.map((f, i) => figureHtml(f, { id: `g${i}` })).join('\n');
  const file = join(dir, 'gallery.html');
  writeFileSync(file, htmlPage({ title: 'gallery <all kinds>', body }));
  const { page, consoleErrors, blockedRequests } = await browser.open(file);
  await waitForCharts(page, figures.length);
  const charts = await renderedCharts(page);
  assert.deepEqual(charts.map((c) => c.points), figures.map(expectedPoints));
  // violin: 6 finite values; facets: 6 points with both x and y; series: 2 × 6 markers
  assert.deepEqual(figures.slice(0, 3).map(expectedPoints), [6, 6, 12]);
  assert.ok(charts[3]!.heatmapImages > 0 && charts[4]!.heatmapImages > 0, 'heatmaps drew their image');
  assert.equal(await page.title(), 'gallery <all kinds>');
  mkdirSync('test-output', { recursive: true });
  await page.screenshot({ path: join('test-output', 'viz-gallery.png'), fullPage: true });
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(blockedRequests, []);
});

test('MIME bundle: plotly.js once per session, Plotly JSON without NaN, a text fallback', () => {
  resetPlotlySession();
  const [first, second] = [toMimeBundle(gallery()[0]!), toMimeBundle(gallery()[1]!)];
  assert.equal(plotlyShippedInSession(), true);
  assert.equal(first['text/html'].split('(function (define, module, exports)').length - 1, 1);
  assert.equal(second['text/html'].includes('(function (define, module, exports)'), false);
  assert.equal(toMimeBundle(gallery()[2]!, { plotly: 'always' })['text/html'].includes('(function (define, module, exports)'), true);
  // NaN became null, bigints numbers: the JSON survives a round trip through a notebook file.
  const json = JSON.parse(JSON.stringify(first[PLOTLY_MIME]));
  assert.deepEqual(json.data[1].y, [700, 690, 640, null]);
  assert.equal(first['text/plain'], '<Plotly figure: violin, 2 traces>');
  assert.equal(json.config.responsive, true);
  // the draw script cannot end its <script> early, whatever the data says
  const tricky = toMimeBundle(scatterFigure({ a: [1, 2], b: [3, 4], c: ['</script><b>x', 'y'] }, { x: 'a', y: 'b', color: 'c' }));
  assert.equal(tricky['text/html'].includes('</script><b>'), false);
});

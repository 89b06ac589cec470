/**
 * Notebook display, offline: figures shown through `toMimeBundle` render in
 * (1) nbconvert's HTML export and (2) a live Jupyter Notebook 6 page (with its
 * require.js), both in real headless Chromium with the network off. The
 * output that carries plotly.js is deliberately not the first one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { resetPlotlySession, toMimeBundle, PLOTLY_MIME } from '../../src/viz/mime.js';
import { scatterFigure } from '../../src/viz/scatter.js';
import { distributionFigure } from '../../src/viz/distribution.js';
import { timeSeriesFigure } from '../../src/viz/timeseries.js';
import type { Figure } from '../../src/viz/figure.js';
import { HeadlessChromium } from './browser.js';
import { expectedPoints, renderedCharts, waitForCharts } from './points.js';

const JUPYTER = '/usr/bin/jupyter';
const PYTHON = '/usr/bin/python3';
const SCREENSHOTS = join(process.cwd(), 'test-output');

let dir: string;
let browser: HeadlessChromium;
let server: ChildProcess | undefined;
let figures: Figure[];
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-nb-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  env = {
    ...process.env,
    HOME: dir,
    JUPYTER_DATA_DIR: join(dir, 'data'),
    JUPYTER_CONFIG_DIR: join(dir, 'config'),
    JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
    IPYTHONDIR: join(dir, 'ipython'),
    PYTHONNOUSERSITE: '1',
  };
  const runs = { policy: ['a', 'a', 'a', 'b', 'b', 'b'], misses: [1, 2, 3, 1.5, 2.5, 3.5], write_kbps: [10, 12, 15, 20, 19, 25] };
  figures = [
    distributionFigure(runs, { y: 'write_kbps', color: 'policy', title: 'box first' }),
    scatterFigure(runs, { x: 'misses', y: 'write_kbps', color: 'policy', title: 'scatter carries plotly.js' }),
    timeSeriesFigure({ t: [0, 1, 2, 3, 4], cs: [5, 7, 6, 9, 8] }, { x: 't', y: 'cs', windows: [{ start: 1, end: 3, label: 'run 0' }] }),
  ];
  // Display order in the kernel: scatter first (it carries plotly.js), then box, then time series.
  resetPlotlySession();
  const scatter = toMimeBundle(figures[1]!);
  const box = toMimeBundle(figures[0]!);
  const series = toMimeBundle(figures[2]!);
  assert.ok(scatter['text/html'].length > 3_000_000, 'the first bundle carries plotly.js');
  assert.ok(box['text/html'].length < 50_000 && series['text/html'].length < 50_000, 'later bundles do not');
  assert.deepEqual(box[PLOTLY_MIME].data.map((t) => (t as { name: string }).name), ['a', 'b']);
  // In the notebook the box cell sits above the scatter cell (e.g. re-ordered or re-run later).
  const cell = (bundle: object, n: number) => ({
    cell_type: 'code', execution_count: n, id: `cell-${n}`, metadata: {}, source: [`show(${n})`],
    outputs: [{ output_type: 'display_data', data: bundle, metadata: {} }],
  });
  const notebook = {
    nbformat: 4, nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    cells: [cell(box, 1), cell(scatter, 2), cell(series, 3)],
  };
  writeFileSync(join(dir, 'charts.ipynb'), JSON.stringify(notebook));
  browser = await HeadlessChromium.launch();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null && server.pid) {
    process.kill(server.pid, 'SIGTERM');
    await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) process.kill(server.pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Console errors other than the ones for requests we blocked on purpose (nbconvert's template links CDNs). */
function realErrors(errors: string[]): string[] {
  return errors.filter((e) => !/net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
}

async function checkCharts(page: import('playwright-core').Page, selector: string) {
  await waitForCharts(page, 3, selector);
  const charts = await renderedCharts(page, selector);
  assert.equal(charts.length, 3);
  // Page order: box, scatter, series.
  assert.deepEqual(charts.map((c) => c.points), [expectedPoints(figures[0]!), expectedPoints(figures[1]!), expectedPoints(figures[2]!)]);
  assert.ok(charts.every((c) => c.hasSvg));
  const plotlyDefinitions = await page.evaluate(() => typeof (window as unknown as { Plotly?: { newPlot?: unknown } }).Plotly?.newPlot);
  assert.equal(plotlyDefinitions, 'function');
}

test('nbconvert HTML export draws every figure offline, plotly.js included once', async () => {
  execFileSync(JUPYTER, ['nbconvert', '--to', 'html', '--output-dir', dir, join(dir, 'charts.ipynb')], { env, stdio: 'pipe' });
  const html = readFileSync(join(dir, 'charts.html'), 'utf8');
  assert.equal(html.split('(function (define, module, exports)').length - 1, 1, 'one plotly.js loader in the export');
  const { page, consoleErrors } = await browser.open(join(dir, 'charts.html'));
  await checkCharts(page, '.expert-figure');
  await page.screenshot({ path: join(SCREENSHOTS, 'viz-nbconvert.png'), fullPage: true });
  assert.deepEqual(realErrors(consoleErrors), []);
});

test('Jupyter Notebook 6 (require.js page) draws the saved outputs of a trusted notebook', async () => {
  execFileSync(PYTHON, ['-c', 'import sys, nbformat; from nbformat.sign import NotebookNotary; nb = nbformat.read(sys.argv[1], 4); NotebookNotary().sign(nb)', join(dir, 'charts.ipynb')], { env, stdio: 'pipe' });
  const token = 'expert-viz-test';
  const port = 20000 + Math.floor(Math.random() * 20000);
  server = spawn(JUPYTER, ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=50', `--NotebookApp.token=${token}`, `--notebook-dir=${dir}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`notebook server did not start:\n${log}`)), 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    server!.stdout!.on('data', onData);
    server!.stderr!.on('data', onData);
    server!.once('exit', (code) => reject(new Error(`notebook server exited ${code}:\n${log}`)));
  });
  const { page, consoleErrors, blockedRequests } = await browser.open('', { url: `${url}/notebooks/charts.ipynb?token=${token}`, allow: url });
  await checkCharts(page, '.output_area .expert-figure');
  const usesRequire = await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require === 'function');
  assert.ok(usesRequire, 'the Notebook 6 page has require.js');
  await page.screenshot({ path: join(SCREENSHOTS, 'viz-notebook6.png'), fullPage: false });

  // Re-run the cell that carried plotly.js: its output is replaced by a figure without it (the
  // kernel ships plotly.js once). The new figure must put the loader back into the notebook model.
  const rerun = toMimeBundle(figures[1]!, { plotly: 'never' });
  const newId = /id="(expert-fig-[^"]+)"/.exec(rerun['text/html'])![1]!;
  await page.evaluate((bundle) => {
    const nb = (window as unknown as { Jupyter: { notebook: { get_cell(i: number): { clear_output(): void; output_area: { append_output(o: unknown): void } } } } }).Jupyter.notebook;
    const cell = nb.get_cell(1);
    cell.clear_output();
    cell.output_area.append_output({ output_type: 'display_data', data: bundle, metadata: {} });
  }, rerun as unknown as Record<string, unknown>);
  await page.waitForFunction((id) => Boolean(document.querySelector(`#${id} svg.main-svg`)), newId, { timeout: 30_000 });
  await page.waitForSelector('.expert-plotly-loader', { state: 'attached', timeout: 10_000 });
  const saved = await page.evaluate(() => JSON.stringify((window as unknown as { Jupyter: { notebook: { toJSON(): unknown } } }).Jupyter.notebook.toJSON()));
  const loaders = saved.split('(function (define, module, exports)').length - 1;
  assert.equal(loaders, 1, 'the saved notebook carries plotly.js again, once');
  const notebook = JSON.parse(saved) as { cells: { outputs: { data: Record<string, string | string[]> }[] }[] };
  const carrier = [notebook.cells[1]!.outputs[0]!.data['text/html']].flat().join('');
  assert.ok(carrier.includes(newId) && carrier.includes('(function (define, module, exports)'), 'the re-run output now carries the loader');

  // ... and that saved notebook still exports to a page that draws offline.
  writeFileSync(join(dir, 'rerun.ipynb'), saved);
  execFileSync(JUPYTER, ['nbconvert', '--to', 'html', '--output-dir', dir, join(dir, 'rerun.ipynb')], { env, stdio: 'pipe' });
  const exported = await browser.open(join(dir, 'rerun.html'));
  await checkCharts(exported.page, '.expert-figure');
  assert.deepEqual(realErrors(exported.consoleErrors), []);

  assert.deepEqual(realErrors(consoleErrors).filter((e) => /plotly|expert/i.test(e)), []);
  assert.deepEqual(blockedRequests.filter((u) => /plot/i.test(u)), [], 'no attempt to fetch plotly.js');
});

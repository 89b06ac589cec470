/**
 * A notebook the user executed with `expert notebook run` opens trusted in
 * Jupyter Notebook 6 (Debian's, on loopback with a token) and every Plotly
 * chart in it is drawn, counted in headless Chromium. An untrusted notebook
 * would show blank space where each chart is (Jupyter drops the scripts of
 * its HTML outputs).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { HeadlessChromium } from '../viz/browser.js';
import { installTestKernel } from '../helpers/kernel.js';
import { isolatedJupyterEnv, startNotebookServer, type NotebookServer } from '../helpers/notebook-server.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

let dir: string;
let env: NodeJS.ProcessEnv;
let server: NotebookServer | undefined;
let browser: HeadlessChromium | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-trusted-'));
  env = await installTestKernel(dir, isolatedJupyterEnv(dir));
  delete env.EXPERT_STORE;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let cellCount = 0;
const code = (source: string) => ({ cell_type: 'code', id: `cell-${++cellCount}`, metadata: {}, source, outputs: [], execution_count: null });

test('an executed notebook opens trusted in Notebook 6 and draws every chart', async () => {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'expert', display_name: 'ExPerT (TypeScript)', language: 'typescript' } },
    cells: [
      code('%store open charts.duckdb'),
      code('%%plot\ntitle: squares\ndata: {sql: "SELECT range AS x, range * range AS y FROM range(6)"}\nkind: scatter\nx: x\ny: y'),
      code('%%plot\ntitle: remainders\ndata: {sql: "SELECT range AS t, range % 3 AS v FROM range(6)"}\nkind: line\nx: t\ny: v'),
    ],
  };
  writeFileSync(join(dir, 'charts.ipynb'), JSON.stringify(notebook));
  await run(process.execPath, [CLI, 'notebook', 'run', join(dir, 'charts.ipynb'), '--out', join(dir, 'charts.out.ipynb')], { env, cwd: dir, timeout: 300_000 });
  const executed = JSON.parse(readFileSync(join(dir, 'charts.out.ipynb'), 'utf8')) as { cells: { outputs: { data?: Record<string, unknown> }[] }[] };
  const charts = executed.cells.flatMap((c) => c.outputs).filter((o) => o.data?.[PLOTLY_MIME]).length;
  assert.equal(charts, 2, 'the executed notebook holds two Plotly figures');

  server = await startNotebookServer(dir, env);
  browser = await HeadlessChromium.launch();
  const { page } = await browser.open('', { url: server.pageOf('charts.out.ipynb'), allow: server.url });
  await page.waitForFunction(() => (window as unknown as { Jupyter?: { notebook?: { _fully_loaded?: boolean } } }).Jupyter?.notebook?._fully_loaded === true, undefined, { timeout: 60_000 });
  const trusted = await page.evaluate(() => (window as unknown as { Jupyter: { notebook: { trusted: boolean } } }).Jupyter.notebook.trusted);
  assert.equal(trusted, true, 'Jupyter trusts the notebook the user ran');
  const drawn = () => page.$$eval('.output_area .js-plotly-plot', (plots) => plots.filter((p) => p.querySelector('.main-svg')).length);
  await page.waitForFunction((n) => document.querySelectorAll('.output_area .js-plotly-plot .main-svg').length > 0 && [...document.querySelectorAll('.output_area .js-plotly-plot')].filter((p) => p.querySelector('.main-svg')).length >= n, charts, { timeout: 30_000 }).catch(() => {});
  assert.equal(await drawn(), charts, 'every chart of the notebook is drawn');
});

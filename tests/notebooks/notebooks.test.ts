/**
 * CI for the notebooks: every notebook in notebooks/ runs headless, top to
 * bottom, with the `expert` kernel (installed into a temporary prefix, found
 * through JUPYTER_PATH) on a real QEMU testbed at reduced sizes, through
 * `expert notebook run -p ...`. Any cell error fails the test. Each notebook
 * brings its own testbed up and down: afterwards no QEMU of our testbed folder
 * may be left, also when a cell fails half-way. The study is published to HTML
 * and opened in headless Chromium with the network off: its charts must draw
 * their points and the page must reference nothing outside itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { externalReferences } from '../../kernel-extensions/notebook/offline-html.js';
import type { Figure } from '../../src/viz/figure.js';
import { pgrep, until } from '../helpers/processes.js';
import { HeadlessChromium } from '../viz/browser.js';
import { expectedPoints, renderedCharts, waitForCharts } from '../viz/points.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const NOTEBOOKS = join(ROOT, 'notebooks');

let dir: string;
let env: NodeJS.ProcessEnv;
const testbedDir = () => join(dir, 'testbed');
const studyStore = () => join(dir, 'study.duckdb');

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown>; ename?: string; evalue?: string }
interface Cell { cell_type: string; source: string | string[]; execution_count?: number | null; outputs?: Output[]; metadata: { tags?: string[] } }

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-notebooks-'));
  const prefix = join(dir, 'prefix');
  await run(process.execPath, [CLI, 'kernel', 'install', '--prefix', prefix]);
  env = {
    ...process.env,
    JUPYTER_PATH: join(prefix, 'share', 'jupyter'),
    EXPERT_TESTBED_DIR: testbedDir(),
  };
  delete env.EXPERT_STORE;
});

after(async () => {
  // Belt and braces: whatever a failed notebook left, the testbed goes down before the folder goes.
  if (dir && existsSync(testbedDir())) await run(process.execPath, [CLI, 'testbed', 'down'], { env, cwd: dir }).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runNotebook(name: string, params: Record<string, string | number>): Promise<{ ok: boolean; cells: Cell[]; stderr: string }> {
  const out = join(dir, name.replace(/\.ipynb$/, '.out.ipynb'));
  const args = [CLI, 'notebook', 'run', join(NOTEBOOKS, name), '--out', out];
  for (const [key, value] of Object.entries(params)) args.push('-p', `${key}=${value}`);
  let ok = true;
  let stderr = '';
  try {
    ({ stderr } = await run(process.execPath, args, { env, cwd: dir, maxBuffer: 256 << 20, timeout: 420_000 }));
  } catch (error) {
    ok = false;
    stderr = String((error as { stderr?: string }).stderr ?? error);
  }
  const cells = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { cells: Cell[] }).cells : [];
  return { ok, cells, stderr };
}

const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
const source = (cell: Cell) => text(cell.source);
const markdownOutputs = (cells: Cell[]) =>
  cells.flatMap((c) => c.outputs ?? []).map((o) => text(o.data?.['text/markdown'] as string | string[] | undefined)).join('\n');

/** Every code cell ran and none has an error output. */
function assertAllCellsRan(name: string, result: { ok: boolean; cells: Cell[]; stderr: string }): void {
  assert.ok(result.ok, `${name} failed:\n${result.stderr.slice(-4000)}`);
  const code = result.cells.filter((c) => c.cell_type === 'code');
  assert.ok(code.length > 3, `${name}: expected its code cells in the executed notebook`);
  for (const [i, cell] of code.entries()) {
    assert.equal(typeof cell.execution_count, 'number', `${name}: code cell ${i} did not run:\n${source(cell)}`);
    const errors = (cell.outputs ?? []).filter((o) => o.output_type === 'error');
    assert.equal(errors.length, 0, `${name}: code cell ${i} has an error: ${errors.map((e) => `${e.ename}: ${e.evalue}`).join('; ')}`);
  }
}

async function assertTestbedDown(name: string): Promise<void> {
  // The kernel's exit hook may still be finishing `testbed down` just after nbclient returned.
  // QEMU (or anything) with our testbed folder on its command line would still be running.
  const state = join(testbedDir(), 'state.json');
  const processesOfOurTestbed = () => pgrep(testbedDir());
  await until(() => processesOfOurTestbed().length === 0 && !existsSync(state), 30_000);
  assert.deepEqual(processesOfOurTestbed(), [], `${name} left testbed processes behind`);
  assert.equal(existsSync(state), false, `${name} left the testbed up (state.json)`);
}

test('01-quickstart runs top to bottom on its own testbed and takes it down', async () => {
  const result = await runNotebook('01-quickstart.ipynb', { guests: 1, size: '1m', reps: 1, store: join(dir, 'quickstart.duckdb') });
  assertAllCellsRan('01-quickstart', result);
  assert.match(markdownOutputs(result.cells), /Mean write throughput: \*\*baseline\*\* \d+ kB\/s, \*\*pin-one\*\* \d+ kB\/s/);
  await assertTestbedDown('01-quickstart');
});

test('a notebook that fails half-way still takes its testbed down (the kernel exit hook)', async () => {
  // repeat=0 is rejected by the batch config check, after the testbed came up.
  const result = await runNotebook('01-quickstart.ipynb', { guests: 1, size: '1m', reps: 0, store: join(dir, 'failing.duckdb') });
  assert.equal(result.ok, false, 'the notebook should fail at the %%batch cell');
  assert.match(result.stderr, /repeat/);
  const up = result.cells.find((c) => source(c).startsWith('%testbed up'));
  assert.equal(typeof up?.execution_count, 'number', 'the testbed came up before the failing cell');
  await assertTestbedDown('the failed 01-quickstart');
});

test('02-pinning-study runs at CI size, says what counters the CPU has, and its HTML draws offline', async () => {
  const result = await runNotebook('02-pinning-study.ipynb', { guests: 2, size: '1m', reps: 1, store: studyStore() });
  assertAllCellsRan('02-pinning-study', result);
  await assertTestbedDown('02-pinning-study');

  // The notebook's claim about counters agrees with perf on this machine.
  const probe = await run('perf', ['stat', '-x,', '-e', 'cache-misses', 'true']).catch((e: { stderr?: string }) => ({ stderr: String(e.stderr) }));
  const cacheMissesCounted = /^\d+,/m.test(probe.stderr);
  const prose = markdownOutputs(result.cells);
  if (!cacheMissesCounted) assert.match(prose, /exposes \*\*no cache-miss counter\*\*.*context switches and CPU migrations/s);
  assert.match(prose, /Pinning every guest to one core moved mean write throughput by \*\*[+-]\d+%\*\*/);

  // Runs in the study, counted from the store by the CLI, independently of the notebook.
  const summary = JSON.parse((await run(process.execPath, [CLI, 'mine', 'summary', '--store', studyStore(), '--format', 'json'], { cwd: dir })).stdout) as Record<string, unknown>[];
  const studyRuns = summary.filter((r) => r.batch === 'pinning-study');
  assert.equal(studyRuns.length, 2 * 3, 'two guests under three policies, one repetition');

  const html = join(dir, 'study.html');
  await run(process.execPath, [CLI, 'notebook', 'publish', join(dir, '02-pinning-study.out.ipynb'), '--html', html], { env, cwd: dir });
  assert.deepEqual(externalReferences(readFileSync(html, 'utf8')), [], 'the published study references nothing outside itself');

  const figures = result.cells.flatMap((c) => c.outputs ?? []).map((o) => o.data?.['application/vnd.plotly.v1+json'] as Figure | undefined).filter((f): f is Figure => Boolean(f));
  const browser = await HeadlessChromium.launch();
  try {
    const { page, blockedRequests, consoleErrors } = await browser.open(html);
    await waitForCharts(page, 2);
    const charts = await renderedCharts(page);
    assert.equal(charts.length, 2, 'two charts: throughput per policy, throughput against the cache metric');
    for (const chart of charts) assert.ok(chart.hasSvg && chart.points > 0, `chart ${chart.id} drew no points: ${JSON.stringify(chart)}`);
    // The %%plot chart carries its figure: every point of it is drawn. The scatter has one point per run.
    assert.equal(figures.length, 1);
    assert.equal(charts[0]!.points, expectedPoints(figures[0]!));
    const scatterRuns = studyRuns.filter((r) => Number.isFinite(r.iozone_write_kbps) && Number.isFinite(r.perf_context_switches)).length;
    assert.equal(charts[1]!.points, scatterRuns);
    assert.deepEqual(blockedRequests, [], 'the page asked for nothing outside itself');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test('paper reads the study store and writes every section with computed numbers', async () => {
  assert.ok(existsSync(studyStore()), 'the study test wrote the store');
  const result = await runNotebook('paper.ipynb', { studyStore: studyStore() });
  assertAllCellsRan('paper', result);
  const prose = markdownOutputs(result.cells);
  for (const heading of ['## Abstract', '## 2. Method', '## 4. Threats to validity', '## 5. Reproducing']) assert.ok(prose.includes(heading), `missing ${heading}`);
  assert.match(prose, /iozone writes in 2 co-located QEMU guests under three CPU-pinning policies, 1 repetition\(s\) each\s+\(6 runs in all\)/);
  assert.match(prose, /\| baseline \| 2 \| [\d,]+ \|/);
  assert.doesNotMatch(prose, /undefined|NaN|Invalid Date/);
  // Published, it reads as a paper: prose and figures, no code, nothing outside the file.
  const html = join(dir, 'paper.html');
  await run(process.execPath, [CLI, 'notebook', 'publish', join(dir, 'paper.out.ipynb'), '--html', html], { env, cwd: dir });
  const page = readFileSync(html, 'utf8');
  assert.ok(page.includes('Threats to validity') && page.includes('Figure 2'), 'the paper has its sections and figures');
  assert.doesNotMatch(page, /tslab\.display|figureFromSpecText|%%plot/, 'cells tagged remove-input/remove-cell keep their code out of the page');
  assert.deepEqual(externalReferences(page), []);
});

test('03-mine-exploration parses lazily, with a user parser, Arquero and danfo', async () => {
  const result = await runNotebook('03-mine-exploration.ipynb', { guests: 1, size: '1m', store: join(dir, 'mine.duckdb') });
  assertAllCellsRan('03-mine-exploration', result);
  const streams = result.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'stream').map((o) => text(o.text)).join('');
  assert.match(streams, /parsed\.fio \(version \d+\): parsed 2 process\(es\), 0 cached/);
  assert.match(streams, /parsed\.fio \(version \d+\): parsed 0 process\(es\), 2 cached/);
  assert.match(streams, /parsed\.loadavg \(version user-[0-9a-f]+\): parsed [1-9]\d* process\(es\)/);
  assert.match(streams, /loadavg samples: [1-9]\d* rows x 4 columns/);
  await assertTestbedDown('03-mine-exploration');
});

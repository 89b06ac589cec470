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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { externalReferences } from '../../kernel-extensions/notebook/offline-html.js';
import { signedPercent } from '../../src/viz/numbers.js';
import { pgrep, until } from '../helpers/processes.js';
import { HeadlessChromium } from '../viz/browser.js';
import { renderedCharts, waitForCharts } from '../viz/points.js';

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
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
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

async function runNotebook(name: string, params: Record<string, string | number>, timeoutMs = 420_000): Promise<{ ok: boolean; cells: Cell[]; stderr: string }> {
  const out = join(dir, name.replace(/\.ipynb$/, '.out.ipynb'));
  const args = [CLI, 'notebook', 'run', join(NOTEBOOKS, name), '--out', out];
  for (const [key, value] of Object.entries(params)) args.push('-p', `${key}=${value}`);
  let ok = true;
  let stderr = '';
  try {
    ({ stderr } = await run(process.execPath, args, { env, cwd: dir, maxBuffer: 256 << 20, timeout: timeoutMs }));
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

/** `expert <args>` against a store, parsed from JSON. */
async function cliJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await run(process.execPath, [CLI, ...args, '--format', 'json'], { cwd: dir, maxBuffer: 64 << 20 })).stdout) as T;
}

test('02-pinning-study runs at CI size: interleaved, a warm-up, compared run by run; its HTML draws offline', async () => {
  // The search and the online optimizer at CI size too: 4 placements measured, the climber 30 s.
  const result = await runNotebook('02-pinning-study.ipynb', { guests: 2, size: '1m', reps: 3, searchTrials: 4, climbSeconds: 30, store: studyStore() }, 900_000);
  assertAllCellsRan('02-pinning-study', result);
  await assertTestbedDown('02-pinning-study');

  // The notebook's claim about counters agrees with perf on this machine.
  const probe = await run('perf', ['stat', '-x,', '-e', 'cache-misses', 'true']).catch((e: { stderr?: string }) => ({ stderr: String(e.stderr) }));
  const cacheMissesCounted = /^\d+,/m.test(probe.stderr);
  const prose = markdownOutputs(result.cells);
  if (!cacheMissesCounted) assert.match(prose, /exposes \*\*no cache-miss counter\*\*.*context switches and CPU migrations/s);

  // Runs in the study, counted from the store by the CLI, independently of the notebook: 2 guests × 3 policies × (3 runs + 1 warm-up).
  const summary = await cliJson<Record<string, unknown>[]>(['mine', 'summary', '--store', studyStore()]);
  const studyRows = summary.filter((r) => r.batch === 'pinning-study');
  assert.equal(studyRows.length, 2 * 3 * 4);
  assert.equal(studyRows.filter((r) => r.warmup === true).length, 2 * 3);
  // Interleaved: warm-ups first, then every repetition runs each policy once, the first policy rotating.
  const order = await cliJson<{ policy: string; rep: number; warmup: boolean }[]>(['mine', 'sql', '--store', studyStore(),
    `SELECT any_value(policy) AS policy, any_value(rep) AS rep, bool_or(warmup) AS warmup FROM process
     WHERE batch_id = (SELECT max(batch_id) FROM batch WHERE name = 'pinning-study') AND role = 'workload' GROUP BY run ORDER BY any_value(position)`]);
  assert.deepEqual(order.slice(0, 3).map((r) => r.warmup), [true, true, true]);
  const reps = [1, 2, 3].map((rep) => order.filter((r) => !r.warmup && r.rep === rep).map((r) => r.policy));
  for (const policies of reps) assert.deepEqual([...policies].sort(), ['baseline', 'pin-all-to-one', 'pin-one']);
  assert.deepEqual(reps.map((p) => p[0]), ['baseline', 'pin-one', 'pin-all-to-one'], 'the first policy rotates');

  // The effect in the text is compare()'s, as the CLI computes it from the store.
  const rows = await cliJson<{ group: string; n: number; delta_pct: number | null }[]>(['compare', 'pinning-study', '--metric', 'iozone_write_kbps', '--store', studyStore()]);
  assert.deepEqual(rows.map((r) => [r.group, r.n]), [['baseline', 3], ['pin-one', 3], ['pin-all-to-one', 3]]);
  const allToOne = rows.find((r) => r.group === 'pin-all-to-one')!;
  assert.ok(prose.includes(`Pinning every guest to one core moved the median node-total write throughput by **${signedPercent(allToOne.delta_pct, 2)}**`), prose);
  assert.doesNotMatch(prose, /kB\/s|undefined|NaN/);

  // The search section: the space as the dry run counts it, at most 4 placements measured, a ranking.
  const htmlOutputs = result.cells.flatMap((c) => c.outputs ?? []).map((o) => text(o.data?.['text/html'] as string | string[] | undefined));
  assert.match(prose, /space: 18 placements of 2 guests \(18 combinations of 3 knobs; 0 ruled out by constraints, 0 swaps of interchangeable guests left out\); strategy model\./);
  const searched = /The search measured \*\*(\d+) of 18 placements\*\* \((\d+) runs in (\d+) rounds; ended: (done|trial budget)\)\. Best: \*\*`([^`]+)`\*\*\. How sure: (sure|fairly sure|not sure)/.exec(prose);
  assert.ok(searched, prose);
  assert.ok(Number(searched[1]) >= 2 && Number(searched[1]) <= 4, searched[0]);
  const found = searched[5]!;
  assert.ok(htmlOutputs.some((h) => h.includes('<th>rank</th>') && h.includes(found)), 'the ranking table names the best');
  // The found placement beside the hand-picked ones, in one batch, as the CLI's compare computes it from the store.
  const check = await cliJson<{ group: string; n: number; delta_pct: number | null }[]>(['compare', 'placement-check', '--metric', 'iozone_write_kbps', '--store', studyStore()]);
  const groups = ['baseline', 'pin-one', 'pin-all-to-one', ...(found === 'baseline' ? [] : [found])];
  assert.deepEqual(check.map((r) => [r.group, r.n]), groups.map((g) => [g, 3]));
  assert.ok(htmlOutputs.some((h) => groups.every((g) => h.includes(`<td>${g.replace(/&/g, '&amp;')}</td>`)) && h.includes('CI of the change')), 'a compare table with the found and the hand-picked policies');
  if (found !== 'baseline') {
    const f = check.find((r) => r.group === found)!;
    assert.ok(prose.includes(`the found placement \`${found}\` moved the median node-total write throughput by **${signedPercent(f.delta_pct, 2)}**`), prose);
  }
  // The online optimizer: its moves in the store, charted and counted in the text; nothing left tuned.
  const moves = await cliJson<{ n: number; kept: number; batch_id: number }[]>(['mine', 'sql', '--store', studyStore(),
    `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE kept)::INTEGER AS kept, any_value(batch_id) AS batch_id FROM dynamic_move
     WHERE batch_id = (SELECT max(batch_id) FROM batch WHERE name = 'online-climb')`]);
  const { n: moveCount, kept } = moves[0]!;
  assert.ok(moveCount >= 1, 'the climber moved at least once in 30 s');
  assert.match(prose, new RegExp(`\\*\\*${moveCount} moves\\*\\* in 30 s, \\*\\*${kept} kept\\*\\*, ${moveCount - kept} undone\\. The optimizer changed (\\d+) thread settings; \\1 of them were restored`));
  const movesChart = htmlOutputs.find((h) => h.includes('before the move'));
  assert.ok(movesChart, 'a moves chart');
  const spec = JSON.parse(/spec = (\{.*\});\nfunction draw\(\)/.exec(movesChart)![1]!) as { data: { name: string; y: number[] }[] };
  assert.equal(spec.data.filter((t) => t.name === 'before the move').reduce((a, t) => a + t.y.length, 0), moveCount, 'one point per move');
  assert.equal(spec.data.filter((t) => t.name === 'after: kept').reduce((a, t) => a + t.y.length, 0), kept);
  const left = await cliJson<{ n: number }[]>(['mine', 'sql', '--store', studyStore(), `SELECT count(*)::INTEGER AS n FROM tuning WHERE restored_at IS NULL`]);
  assert.equal(left[0]!.n, 0, 'every tuned thread restored');

  const html = join(dir, 'study.html');
  await run(process.execPath, [CLI, 'notebook', 'publish', join(dir, '02-pinning-study.out.ipynb'), '--html', html], { env, cwd: dir });
  assert.deepEqual(externalReferences(readFileSync(html, 'utf8')), [], 'the published study references nothing outside itself');

  const browser = await HeadlessChromium.launch();
  try {
    const { page, blockedRequests, consoleErrors } = await browser.open(html);
    // A run counts for a monitor when every one of its guests had a sample of it in its window (as runValues and compare).
    const measured = studyRows.filter((r) => r.warmup !== true);
    const runsWithPerf = [...new Set(measured.map((r) => r.run))].filter((run) => measured.filter((r) => r.run === run).every((r) => Number.isFinite(r.perf_context_switches))).length;
    // The study's charts, then the moves chart of the online optimizer.
    const expected = (runsWithPerf > 0 ? 3 : 2) + 1;
    await waitForCharts(page, expected);
    const charts = await renderedCharts(page);
    assert.equal(charts.length, expected, 'throughput per policy, per guest (tuned or not), against the cache metric when perf had samples, and the moves');
    assert.equal(charts[0]!.points, 9, 'one point per measured run');
    assert.equal(charts[1]!.points, 18, 'one point per guest of each measured run');
    if (runsWithPerf > 0) assert.equal(charts[2]!.points, runsWithPerf, 'one point per run and node');
    assert.equal(charts.at(-1)!.points, 2 * moveCount, 'the moves chart: before and after of every move');
    await page.screenshot({ path: join(ROOT, 'test-output', 'study.png'), fullPage: true });
    assert.deepEqual(blockedRequests, [], 'the page asked for nothing outside itself');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test('paper reads the study store: effects with intervals and n, the method as a reader writes it, computed threats, the exact recipe', async () => {
  assert.ok(existsSync(studyStore()), 'the study test wrote the store');
  const result = await runNotebook('paper.ipynb', { studyStore: studyStore() });
  assertAllCellsRan('paper', result);
  const prose = markdownOutputs(result.cells);
  for (const heading of ['## Abstract', '## 2. Method', '## 4. Threats to validity', '## 5. Reproducing']) assert.ok(prose.includes(heading), `missing ${heading}`);
  assert.match(prose, /iozone writes in 2 co-located QEMU guests \([^)]*\) under three CPU-pinning policies:\s+3 measured runs per policy after 1 warm-up run each, in interleaved order \(9 runs measured in all\)/);

  // Effects as compare() computes them, with their intervals and n.
  const rows = await cliJson<{ group: string; n: number; delta_pct: number | null; delta_ci_low: number | null; delta_ci_high: number | null }[]>(['compare', 'pinning-study', '--metric', 'iozone_write_kbps', '--store', studyStore()]);
  const abstract = prose.slice(prose.indexOf('## Abstract'), prose.indexOf('## 2. Method'));
  for (const r of rows.filter((x) => x.group !== 'baseline')) {
    assert.ok(abstract.includes(`${signedPercent(r.delta_pct, 2)} (95% CI ${signedPercent(r.delta_ci_low, 2)} to ${signedPercent(r.delta_ci_high, 2)}; n = ${r.n} vs 3 runs; p = `), `${r.group} in the abstract:\n${abstract}`);
  }
  // No p-value from fewer than 3 runs, no negative interval of a positive quantity.
  for (const m of prose.matchAll(/n = (\d+) vs (\d+) runs; p = /g)) assert.ok(Number(m[1]) >= 3 && Number(m[2]) >= 3, m[0]);
  for (const m of prose.matchAll(/(-?[\d,.]+) – (-?[\d,.]+)/g)) assert.ok(!m[1]!.startsWith('-') && !m[2]!.startsWith('-'), `an interval of a positive quantity: ${m[0]}`);
  // One unit per quantity: KiB/s for throughput, per s for counts over time.
  assert.match(prose, /median \(KiB\/s\)/);
  assert.doesNotMatch(prose, /kB\/s|kbps|\(count\)/);
  assert.doesNotMatch(prose, /undefined|NaN|Invalid Date|n\/a/);
  // The method reads as a reader would write the config: values filled in, no JSON, no RCS keywords.
  const method = prose.slice(prose.indexOf('## 2. Method'), prose.indexOf('**Table 1.**'));
  assert.match(method, /iozone -i 0 -s 1m -r 64k -f \/tmp\/iozone\.tmp/);
  assert.doesNotMatch(method, /\{size\}|\{guest_pids\}|\$Revision|\["|\{"|":/);
  assert.match(method, /repetition 1: baseline → pin-one → pin-all-to-one; repetition 2: pin-one → pin-all-to-one → baseline/);
  // Threats are computed from the store: acceleration, missing counters, n per cell, the order.
  const threats = prose.slice(prose.indexOf('## 4. Threats to validity'), prose.indexOf('## 5. Reproducing'));
  assert.match(threats, /acceleration/);
  assert.match(threats, /Runs per policy: baseline: 3, pin-one: 3, pin-all-to-one: 3/);
  assert.match(threats, /smallest two-sided Mann–Whitney p-value possible is 0\.1/);
  assert.match(threats, /interleaved order/);
  // The recipe is the command that made this store.
  assert.ok(prose.includes(`expert notebook run notebooks/02-pinning-study.ipynb -p guests=2 -p size=1m -p reps=3 -p warmup=1 -p store=${studyStore()}`), 'the exact study command');

  // Published, it reads as a paper: prose and figures, no code, nothing outside the file.
  const html = join(dir, 'paper.html');
  await run(process.execPath, [CLI, 'notebook', 'publish', join(dir, 'paper.out.ipynb'), '--html', html], { env, cwd: dir });
  const page = readFileSync(html, 'utf8');
  assert.ok(page.includes('Threats to validity') && page.includes('Figure 3'), 'the paper has its sections and figures');
  assert.doesNotMatch(page, /tslab\.display|runDistributionFigure|%%plot/, 'cells tagged remove-input/remove-cell keep their code out of the page');
  assert.doesNotMatch(page, /Parameters injected|const studyStore/, 'the injected parameters are hidden like the parameters cell');
  assert.deepEqual(externalReferences(page), []);
  const browser = await HeadlessChromium.launch();
  try {
    const opened = await browser.open(html);
    await waitForCharts(opened.page, 2);
    await opened.page.screenshot({ path: join(ROOT, 'test-output', 'paper.png'), fullPage: true });
    assert.deepEqual(opened.consoleErrors, []);
  } finally {
    await browser.close();
  }
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

/**
 * `expert report` end to end: a real small batch (dd writes of two sizes
 * under two policies with a warm-up run per cell, vmstat and pidstat beside
 * them, and a test whose workload fails) runs into a real DuckDB store; the
 * report is written by the CLI code, opened in headless Chromium with the
 * network off, and every chart must draw its points without a console error.
 * The per-policy charts have one point per run and never pool the two sizes;
 * the header counts the workloads that did not succeed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadBatchConfig } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { reportCommand, plotCommand } from '../../src/cli/plot.js';
import { loadReportModel } from '../../src/viz/report-data.js';
import { runSummaryColumns } from '../../src/viz/run-summary.js';
import { parseChartSpec } from '../../src/viz/spec.js';
import type { LinearFit } from '../../src/viz/fit.js';
import { significant } from '../../src/viz/numbers.js';
import { scipy } from '../helpers/scipy.js';
import { HeadlessChromium } from './browser.js';
import { expectedPoints, renderedCharts, waitForCharts } from './points.js';

const SCREENSHOTS = join(process.cwd(), 'test-output');
let dir: string;
let storePath: string;
let batchId: number;
let browser: HeadlessChromium;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-report-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  storePath = join(dir, 'report.duckdb');
  // The description carries HTML: the report must show it as text.
  writeFileSync(
    join(dir, 'batch.yaml'),
    `name: report-test
description: "dd writes <script>alert(1)</script> & vmstat"
monitors:
  - name: vmstat
    on: nodes
    command: vmstat -n 1
  - name: pidstat
    on: nodes
    command: pidstat -t -u 1
tests:
  - name: dd-write
    on: nodes
    command: sleep 1.2 && dd if=/dev/zero of=${dir}/dd-{run}.tmp bs=64k count={blocks} conv=fsync && rm -f ${dir}/dd-{run}.tmp
    params: {blocks: [16, 64]}
    repeat: 2
    warmup: 1
    timeout: 1m
    parser: dd
  - name: fails
    on: nodes
    command: echo 'no such device' >&2; exit 3
    repeat: 1
policies:
  - name: baseline
  - name: nice-5
    nice: 5
`,
  );
  const config = await loadBatchConfig(join(dir, 'batch.yaml'));
  const store = await openStore(storePath);
  try {
    const outcome = await runBatch(expandPlan(config), { store });
    assert.equal(outcome.ok, false, 'the failing test failed');
    batchId = outcome.batchId;
    const dd = await store.query(`SELECT count(*) FILTER (WHERE exit_code = 0), count(*) FILTER (WHERE exit_code = 3) FROM process WHERE batch_id = $1 AND role = 'workload'`, [batchId]);
    assert.deepEqual(dd.rows[0]!.map(Number), [12, 2], 'every dd exited 0 (8 runs and 4 warm-ups), the two failing workloads 3');
  } finally {
    await store.close();
  }
  browser = await HeadlessChromium.launch();
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withStore<T>(use: (store: ExpertStore) => Promise<T>): Promise<T> {
  const store = await openStore(storePath);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** dd's rate as bytes / seconds of its own summary line ("N bytes ... copied, S s, ..."), per (policy, blocks), warm-ups left out: read straight from the line table. */
async function ddRatesByCell(store: ExpertStore): Promise<Map<string, number[]>> {
  const result = await store.query(
    `SELECT p.policy, p.params, l.text FROM line l JOIN process p USING (process_id)
     WHERE p.batch_id = $1 AND p.role = 'workload' AND NOT p.warmup AND l.text LIKE '% copied, %' ORDER BY p.process_id`,
    [batchId],
  );
  const rates = new Map<string, number[]>();
  for (const [policy, params, text] of result.rows as [string, string, string][]) {
    const m = /^(\d+) bytes .*copied, ([\d.e+-]+) s, /.exec(text);
    assert.ok(m, `dd summary line: ${text}`);
    const key = `${policy} blocks=${(JSON.parse(params) as { blocks: number }).blocks}`;
    rates.set(key, [...(rates.get(key) ?? []), Number(m[1]) / Number(m[2])]);
  }
  return rates;
}

const sorted = (xs: number[]) => xs.slice().sort((a, b) => a - b);

test('the report model: runs with exit_code, failures counted, per-run charts per size, policies compared', async () => {
  await withStore(async (store) => {
    const model = await loadReportModel(store, batchId, { runSummary: runSummaryColumns });
    assert.deepEqual(model.notes, []);
    assert.deepEqual(model.workloads, { total: 14, failed: 2, warmup: 4 });
    assert.equal(model.runs.rows.length, 14, '2 sizes × 2 policies × (2 reps + 1 warm-up) dd runs and 2 failing runs');
    const exitAt = model.runs.columns.indexOf('exit_code');
    assert.ok(exitAt >= 0, `the runs table has exit_code: ${model.runs.columns.join(', ')}`);
    assert.deepEqual(model.runs.rows.map((r) => Number(r[exitAt])).filter((c) => c !== 0), [3, 3]);
    assert.deepEqual(model.policies.map((p) => p.name), ['baseline', 'nice-5']);
    const dd = model.parseErrors.find((p) => p.parser === 'dd')!;
    assert.equal(dd.errors, 0);
    assert.equal(dd.processes, 12);
    assert.ok(model.parseErrors.some((p) => p.parser === 'vmstat'));

    // One point per run, each box the runs of one policy at one size: never both sizes in one box.
    const titles = model.charts.map((c) => c.title);
    const perPolicy = model.charts.find((c) => c.title === 'dd rate (B/s) per policy')!;
    assert.ok(perPolicy, `a per-policy chart among ${titles.join(' | ')}`);
    const want = await ddRatesByCell(store);
    const boxes = perPolicy.figure.data.filter((t) => t.type === 'box');
    assert.equal(boxes.length, 4, 'a box per policy in each of the 2 size panels');
    const panelOf = new Map(((perPolicy.figure.layout.annotations ?? []) as { text: string }[]).map((a, i) => [i === 0 ? 'x' : `x${i + 1}`, a.text.replace(/^.*: /, '')]));
    for (const trace of boxes) {
      const key = `${trace.name} ${panelOf.get(String(trace.xaxis))}`;
      const got = sorted(trace.y as number[]);
      const expected = sorted(want.get(key) ?? []);
      assert.equal(got.length, 2, `${key}: the two runs, not the warm-up`);
      got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-9 * expected[i]!, `${key}: ${v} vs ${expected[i]}`));
    }
    assert.match(perPolicy.caption!, /one panel per test and parameter combination \(never pooled\).* 6 runs left out/);

    // compare(): one row per (size, policy), n = 2 runs each, so no interval and no p-value; the median is the runs' median.
    const comparison = model.comparisons!.find((c) => c.metric === 'dd_rate_bps')!;
    assert.ok(comparison, 'dd_rate_bps compared across policies');
    const col = (name: string) => comparison.table.columns.indexOf(name);
    assert.ok(col('median (B/s)') >= 0, `the unit is in the header: ${comparison.table.columns.join(', ')}`);
    assert.deepEqual(comparison.table.rows.map((r) => [r[col('cell')], r[col('policy')], r[col('runs')]]), [
      ['blocks=16', 'baseline', 2], ['blocks=16', 'nice-5', 2], ['blocks=64', 'baseline', 2], ['blocks=64', 'nice-5', 2],
    ]);
    const medians = scipy<number[]>('out([float(np.median(x)) for x in data])', comparison.table.rows.map((r) => want.get(`${r[col('policy')]} ${r[col('cell')]}`)));
    comparison.table.rows.forEach((r, i) => assert.equal(r[col('median (B/s)')], significant(medians[i]!, 4)));
    assert.ok(comparison.table.rows.every((r) => r[col('CI of the median')] === 'n too small'));
    assert.ok(comparison.table.rows.filter((r) => r[col('policy')] !== 'baseline').every((r) => r[col('p (Holm)')] === 'n too small'));
    assert.ok(comparison.method.some((m) => /unit: the run/.test(m)));

    // Throughput against a monitor: one point per run and node, only the runs with samples of it in their window.
    const scatter = model.charts.find((c) => c.title === 'dd rate (B/s) against vmstat context switches (per s)');
    assert.ok(scatter, `a scatter against vmstat cs among ${titles.join(' | ')}`);
    assert.equal(scatter.figure.data.filter((t) => (t.meta as { fit?: LinearFit } | undefined)?.fit).length, 0, 'two runs per policy and size: too few for a line');
    const points = scatter.figure.data.filter((t) => t.mode === 'markers').reduce((n, t) => n + (t.y as unknown[]).length, 0);
    const m = /(\d+) of 8 runs had samples/.exec(scatter.caption!);
    assert.ok(m, scatter.caption);
    assert.equal(points, Number(m[1]), 'one point per run (one node)');
    assert.ok(points >= 2 && points <= 8);
    assert.ok(model.charts.some((c) => Array.isArray(c.figure.layout.shapes) && (c.figure.layout.shapes as unknown[]).length === 14), 'a time series with a window per run (warm-ups and failed runs too)');
    const heat = model.charts.find((c) => c.figure.data[0]?.type === 'heatmap');
    assert.ok(heat, `a per-thread CPU heatmap among ${titles.join(' | ')}`);
    assert.ok((heat.figure.data[0]!.y as string[]).length >= 1);
  });
});

test('expert report writes one offline page that draws every chart in Chromium', async () => {
  const out = join(dir, 'report.html');
  assert.equal(await reportCommand(String(batchId), { out, store: storePath }), out);
  const html = readFileSync(out, 'utf8');
  assert.equal(html.split('(function (define, module, exports)').length - 1, 1, 'plotly.js inlined exactly once');
  assert.ok(!html.includes('<script>alert(1)</script>'), 'the description is escaped');
  assert.ok(html.includes('dd writes &lt;script&gt;alert(1)&lt;/script&gt; &amp; vmstat'));
  assert.doesNotMatch(html, /<script[^>]+src=/, 'nothing loaded from elsewhere');
  assert.match(html, /<b>2 of 14 workload processes did not succeed<\/b>/);
  assert.match(html, / · 14 runs · report generated /, 'one workload per run here: runs, not processes');
  assert.match(html, /4 of them warm-ups, left out of the statistics/);
  assert.match(html, /<h2 id="comparison">Policies compared<\/h2>/);
  assert.doesNotMatch(html, /id="moves"|moves-chart/, 'no online-optimizer section for a batch without moves');

  const model = await withStore((store) => loadReportModel(store, batchId, { runSummary: runSummaryColumns }));
  const { page, consoleErrors, blockedRequests } = await browser.open(out);
  await waitForCharts(page, model.charts.length);
  const charts = await renderedCharts(page);
  assert.equal(charts.length, model.charts.length);
  charts.forEach((chart, i) => {
    const figure = model.charts[i]!.figure;
    assert.ok(chart.hasSvg, `chart ${i + 1} drew`);
    assert.equal(chart.points, expectedPoints(figure), `points in chart ${i + 1} (${model.charts[i]!.title})`);
    if (figure.data[0]?.type === 'heatmap') assert.ok(chart.heatmapImages > 0);
  });
  await page.screenshot({ path: join(SCREENSHOTS, 'viz-report.png'), fullPage: true });
  copyFileSync(out, join(SCREENSHOTS, 'viz-report.html'));
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(blockedRequests, []);
});

test('expert plot draws a chart spec over the run summary, faceted by a param', async () => {
  const specPath = join(dir, 'chart.yaml');
  writeFileSync(specPath, `title: dd rate by policy and size\ndata: {runs: true, batch: ${batchId}}\nkind: box\ny: dd_rate_bps\ncolor: policy\nfacet: blocks\n`);
  const out = join(dir, 'chart.html');
  await plotCommand(specPath, { out, store: storePath });
  const { page, consoleErrors } = await browser.open(out);
  await waitForCharts(page, 1);
  const [chart] = await renderedCharts(page);
  assert.equal(chart!.points, 12, 'every dd run is a point (warm-ups too: a chart spec over the run summary draws its rows)');
  const panels = await page.$$eval('.expert-figure g.subplot', (els) => els.length);
  assert.equal(panels, 2, 'one panel per block count');
  assert.deepEqual(consoleErrors, []);
});

test('expert plot: a parser table as a line chart with run windows, and a SQL query as a scatter', async () => {
  const lineSpec = join(dir, 'line.yaml');
  writeFileSync(lineSpec, `data: {parser: vmstat, batch: report-test}\nkind: line\nx: line_ts\ny: cs\ncolor: host\n`);
  const sqlSpec = join(dir, 'sql.yaml');
  writeFileSync(sqlSpec, `data:\n  sql: SELECT policy, rep, epoch(ended_at) - epoch(started_at) AS duration_s FROM process WHERE role = 'workload'\nkind: scatter\nx: rep\ny: duration_s\ncolor: policy\n`);
  const vmstatRows = await withStore(async (store) => {
    // vmstat's first row of each process (averages since boot) is not drawn.
    const r = await store.query(`SELECT count(*) FROM parsed.vmstat v JOIN process p USING (process_id) WHERE p.batch_id = $1 AND NOT v.parse_error AND NOT v.since_boot`, [batchId]);
    return Number(r.rows[0]![0]);
  });
  for (const [spec, points, shapes] of [[lineSpec, vmstatRows, 14], [sqlSpec, 14, 0]] as const) {
    const out = spec.replace('.yaml', '.html');
    await plotCommand(spec, { out, store: storePath });
    const { page, consoleErrors } = await browser.open(out);
    await waitForCharts(page, 1);
    const [chart] = await renderedCharts(page);
    assert.equal(chart!.points, points, spec);
    assert.equal(await page.$$eval('.expert-figure .shapelayer path', (els) => els.length), shapes, `shaded windows in ${spec}`);
    assert.deepEqual(consoleErrors, []);
  }
});

test('a bad chart spec and an unknown batch are clear user errors', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'data: {runs: true}\nkind: pie\ny: dd_rate_bps\n');
  await assert.rejects(plotCommand(bad, { out: join(dir, 'x.html'), store: storePath }), /bad\.yaml:2:7: 'kind' must be one of scatter, box, violin, line, heatmap, got 'pie'/);
  await assert.rejects(reportCommand('999', { out: join(dir, 'x.html'), store: storePath }), /no batch '999' in store .*recent batches: \d+ \(report-test\)/);
  await assert.rejects(reportCommand('1', { out: join(dir, 'x.html'), store: join(dir, 'missing.duckdb') }), /no store at .*missing\.duckdb/);
});

test('expert mine wizard asks, re-asks on a wrong answer, and writes a spec that expert plot accepts', async () => {
  const answers = ['', 'runs', 'pie', 'scatter', '', '', '', '', '', join(dir, 'wiz.yaml'), join(dir, 'wiz.html')];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mine', 'wizard', '--store', storePath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '', stdout = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stdin.end(answers.join('\n') + '\n');
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `${join(dir, 'wiz.yaml')}\n${join(dir, 'wiz.html')}\n`);
  assert.match(stderr, /'pie' is not one of: scatter, box, violin, line, heatmap/);
  assert.match(stderr, /Columns with numbers: .*dd_rate_bps/);
  assert.match(stderr, /x column \(Enter: vmstat_cs\)/, 'the x suggestion is a monitor figure');
  assert.match(stderr, /y column \(Enter: dd_rate_bps\)/, 'the y suggestion is the throughput');
  const spec = parseChartSpec(readFileSync(join(dir, 'wiz.yaml'), 'utf8'), 'wiz.yaml');
  assert.deepEqual(
    { data: spec.data, kind: spec.kind, x: spec.x, y: spec.y, color: spec.color, fit: spec.fit },
    { data: { runs: true, batch: batchId }, kind: 'scatter', x: 'vmstat_cs', y: 'dd_rate_bps', color: 'policy', fit: 'each' },
  );
  const { page, consoleErrors } = await browser.open(join(dir, 'wiz.html'));
  await waitForCharts(page, 1);
  const [chart] = await renderedCharts(page);
  assert.equal(chart!.points, 12);
  assert.deepEqual(consoleErrors, []);
});

test('the expert CLI: report exits 0 and prints the file; a missing batch exits 2 with one line', async () => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    return { code, stdout, stderr };
  };
  const out = join(dir, 'cli-report.html');
  const ok = await run(['report', 'report-test', '--out', out, '--store', storePath]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), out);
  assert.ok(readFileSync(out, 'utf8').startsWith('<!DOCTYPE html>'));
  const bad = await run(['report', 'nope', '--out', out, '--store', storePath]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^expert: no batch 'nope' in store/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

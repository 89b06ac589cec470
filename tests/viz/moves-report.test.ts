/**
 * The report of a real batch whose policy is `dynamic: {optimizer:
 * hill-climb}` (a real paused QEMU guest on this machine, the climber moving
 * its threads while the workload runs) charts the moves over time: the page's
 * moves chart carries exactly the `dynamic_move` rows of the store (times,
 * objective before and after, kept and undone apart, a hover naming guest,
 * action and settings), draws a marker per point in Chromium, and a table
 * lists every move. The notebook-facing functions build the same figure.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBatchConfigText } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { defaultHooks } from '../../src/batch/runner/default-hooks.js';
import { reportCommand } from '../../src/cli/plot.js';
import { openStore } from '../../src/store/store.js';
import { dynamicMoves, movesFigure, movesTable } from '../../src/viz/index.js';
import type { Figure } from '../../src/viz/figure.js';
import { climbPolicyLines, startPausedGuest } from '../tune/guests.js';
import { HeadlessChromium } from './browser.js';
import { expectedPoints, renderedCharts, waitForCharts } from './points.js';

const dir = mkdtempSync(join(tmpdir(), 'expert-moves-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The figure JSON a `figureHtml` script carries for the element `id`. */
function figureIn(html: string, id: string): Figure {
  const marker = `var id = ${JSON.stringify(id)}, spec = `;
  const start = html.indexOf(marker);
  assert.ok(start >= 0, `the page has a figure ${id}`);
  const from = start + marker.length;
  const end = html.indexOf(';\nfunction draw()', from);
  return JSON.parse(html.slice(from, end)) as Figure;
}

test('expert report of a hill-climb batch charts its moves over time and lists them', { timeout: 180_000 }, async () => {
  const name = `moves-${process.pid}`;
  const g = await startPausedGuest(name, { smp: 2, iothreads: 1 });
  const storePath = join(dir, 'moves.duckdb');
  let batchId: number;
  try {
    const store = await openStore(storePath);
    try {
      const config = await parseBatchConfigText(
        [
          'name: climb-report',
          'machines: {nodes: [{name: n1, host: local}]}',
          'tests:',
          '  - name: wait',
          '    on: nodes',
          '    command: sleep 4',
          '    repeat: 2',
          'policies:',
          '  - name: baseline',
          ...climbPolicyLines(name),
          '',
        ].join('\n'),
        { file: 'climb.yaml', cwd: dir },
      );
      const plan = expandPlan(config);
      const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }) });
      assert.equal(outcome.ok, true);
      batchId = outcome.batchId;
    } finally {
      await store.close();
    }
  } finally {
    await g.stop();
  }

  // What the store holds, read straight from the table.
  const store = await openStore(storePath, { readOnly: true });
  let rows: unknown[][];
  try {
    rows = (await store.query(`SELECT epoch_ms("at"), run, guest, action, objective_before, objective_after, kept, "before"::VARCHAR, "after"::VARCHAR FROM dynamic_move WHERE batch_id = $1 ORDER BY "at"`, [batchId])).rows;
    const climbRuns = (await store.query(`SELECT DISTINCT run FROM process WHERE batch_id = $1 AND policy = 'climb' AND role = 'workload' ORDER BY run`, [batchId])).rows.map((r) => Number(r[0]));
    assert.ok(rows.length >= 4, `moves in both climb runs: ${JSON.stringify(rows)}`);
    assert.deepEqual([...new Set(rows.map((r) => Number(r[1])))].sort(), climbRuns, 'moves in every climb run, none in baseline runs');
    // The functions a notebook calls give the same figure as the report.
    const viaApi = movesFigure(await dynamicMoves(store, batchId));
    // A point before every move, one after each move the run's end did not cut off.
    assert.equal(expectedPoints(viaApi), rows.length + rows.filter((r) => r[5] !== null).length);
  } finally {
    await store.close();
  }

  const out = join(dir, 'report.html');
  assert.equal(await reportCommand(String(batchId), { out, store: storePath }), out);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /<h2 id="moves">Online optimizer: moves<\/h2>/);
  const kept = rows.filter((r) => r[6] === true).length;
  const cut = rows.filter((r) => r[5] === null).length;
  assert.ok(html.includes(`${rows.length} moves, ${kept} kept, ${rows.length - kept - cut} undone${cut ? `, ${cut} cut off by the end of its run` : ''}`), 'the summary line counts the moves');

  // Near the top, where a reader looks first: after the comparison, before the charts; and in the contents line.
  assert.ok(html.indexOf('<h2 id="moves">') < html.indexOf('<h2 id="charts">'), 'the moves section comes before the charts');
  assert.match(html, /<nav class="contents"><b>Contents<\/b>: .*<a href="#moves">Online optimizer: moves<\/a>.*<a href="#charts">Charts<\/a>/);
  assert.ok(html.indexOf('<nav class="contents">') > html.indexOf('</h1>') && html.indexOf('<nav class="contents">') < html.indexOf('<h2 id="moves">'), 'the contents line is under the header');

  // The affinity chart shows where each climb run settled (its kept moves), not the pins it tried and undid.
  const affinityAt = [...html.matchAll(/<h3>CPU affinity of guest threads<\/h3>\n<p class="meta">([^<]*)<\/p>\n<div id="(chart-\d+)"/g)][0];
  assert.ok(affinityAt, 'the report has the affinity chart');
  assert.match(affinityAt[1]!, /For the online optimizer \(climb\), one row per thread and run: where the climb settled by the run&#39;s end, its kept moves only/);
  const affinity = figureIn(html, affinityAt[2]!);
  const heat = affinity.data[0]!;
  const labels = heat.y as string[];
  const cells = heat.z as number[][];
  const cpusOf = (row: number) => (heat.x as number[]).filter((_, c) => cells[row]![c] === 1).join(',');
  const reader = await openStore(storePath, { readOnly: true });
  try {
    const threads = (await reader.query(`SELECT run, guest, tid, arg_min("before"->>'cpus', tuning_id) FROM tuning WHERE batch_id = $1 AND policy = 'climb' GROUP BY ALL`, [batchId])).rows;
    assert.ok(threads.length > 0);
    for (const [run, guest, tid, own] of threads) {
      const kept = rows.filter((r) => Number(r[1]) === Number(run) && r[2] === guest && r[6] === true).map((r) => String((JSON.parse(String(r[8])) as { cpus: string }).cpus));
      const settled = kept.length ? kept[kept.length - 1]! : '*';
      const row = labels.findIndex((l) => l.startsWith(`climb · run ${run} · `) && l.endsWith(` ${tid}`));
      assert.ok(row >= 0, `a row for thread ${tid} of run ${run}: ${labels.join(' | ')}`);
      const expected = settled === '*' ? String(own) : settled;
      const range = (list: string) => list.split(',').flatMap((p) => { const [a, b] = p.split('-').map(Number); return Array.from({ length: (b ?? a!) - a! + 1 }, (_, k) => a! + k); }).join(',');
      assert.equal(cpusOf(row), range(expected), `thread ${tid} of run ${run}: ${settled === '*' ? 'no pin kept: its own CPUs' : 'the kept pin'}`);
    }
  } finally {
    await reader.close();
  }

  const figure = figureIn(html, 'moves-chart');
  // Two panels (one per climb run), each: a segment trace, the before points, kept and undone after points.
  const before = figure.data.filter((t) => t.name === 'before the move');
  const keptTraces = figure.data.filter((t) => t.name === 'after: kept');
  const undone = figure.data.filter((t) => t.name === 'after: undone');
  assert.equal(before.length, 2, 'a panel per climb run');
  const xs = before.flatMap((t) => t.x as string[]).map((x) => Date.parse(x));
  assert.deepEqual(xs, rows.map((r) => Number(r[0])), 'x: the time of each move');
  assert.deepEqual(before.flatMap((t) => t.y as number[]), rows.map((r) => r[4]), 'objective before');
  assert.deepEqual(keptTraces.flatMap((t) => t.y as number[]), rows.filter((r) => r[6] === true).map((r) => r[5]), 'kept: objective after');
  assert.deepEqual(undone.flatMap((t) => t.y as number[]), rows.filter((r) => r[6] !== true).map((r) => r[5]), 'undone: objective after');
  const markerOf = (t: Figure['data'][number]) => (t.marker as { symbol: string; color: string });
  assert.notEqual(markerOf(keptTraces[0]!).symbol, markerOf(undone[0]!).symbol, 'kept and undone are marked apart');
  assert.notEqual(markerOf(keptTraces[0]!).color, markerOf(undone[0]!).color);
  const hovers = undone.flatMap((t) => t.text as string[]);
  const firstUndone = rows.find((r) => r[6] !== true)!;
  const settings = (json: unknown) => Object.entries(JSON.parse(String(json)) as Record<string, unknown>).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  assert.ok(hovers[0]!.includes(`<b>${name}</b> · ${String(firstUndone[3])}`), hovers[0]);
  assert.ok(hovers[0]!.includes(`${settings(firstUndone[7])} → ${settings(firstUndone[8])}`), hovers[0]);
  assert.ok(hovers[0]!.endsWith('undone'));

  // The table: one row per move, with its settings and whether it was kept.
  const table = movesTable({ at: rows.map((r) => r[0]), guest: rows.map((r) => r[2]), action: rows.map((r) => r[3]), objective_before: rows.map((r) => r[4]), objective_after: rows.map((r) => r[5]), kept: rows.map((r) => r[6]), before: rows.map((r) => r[7]), after: rows.map((r) => r[8]) });
  for (const row of table.rows) assert.ok(html.includes(`<td>${row[5]}</td><td>${row[6]}</td>`), `the table shows ${row[5]} → ${row[6]}`);

  // Drawn in Chromium: every point of the moves chart is a marker.
  mkdirSync(join(process.cwd(), 'test-output'), { recursive: true });
  const browser = await HeadlessChromium.launch();
  try {
    const { page, consoleErrors, blockedRequests } = await browser.open(out);
    await waitForCharts(page, 1, '#moves-chart');
    const [drawn] = await renderedCharts(page, '#moves-chart');
    assert.equal(drawn!.points, expectedPoints(figure));
    assert.equal(drawn!.points, rows.length + rows.filter((r) => r[5] !== null).length, 'before every move, after every move not cut off');
    await page.locator('#moves-chart').screenshot({ path: join(process.cwd(), 'test-output', 'moves-chart.png') });
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(blockedRequests, []);
  } finally {
    await browser.close();
  }
});

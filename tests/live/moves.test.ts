// The online optimizer's moves, live: `expert run --dashboard` of a batch whose policy is `dynamic: {optimizer:
// hill-climb}` on a real paused QEMU guest of this machine; while it runs, `expert watch` (a second process, reading
// through the writer's live socket) prints the moves as they come (kept or undone, the objective before → after,
// the settings), and the dashboard page lists them; what both show at the end is what `dynamic_move` holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HeadlessChromium } from '../viz/browser.js';
import { until } from '../helpers/processes.js';
import { openStore } from '../../src/store/store.js';
import { climbPolicyLines, startPausedGuest, type PausedGuest } from '../tune/guests.js';
import { LiveDir, startCli } from './helpers.js';

let d: LiveDir;
let guest: PausedGuest;
let browser: HeadlessChromium | undefined;
const name = `live-moves-${process.pid}`;

before(async () => {
  d = new LiveDir();
  guest = await startPausedGuest(name, { smp: 2, iothreads: 1 });
  d.file(
    'climb.yaml',
    [
      'name: live-climb',
      'machines: {nodes: [{name: local, host: local}]}',
      'tests:',
      '  - name: wait',
      '    on: nodes',
      '    command: sleep 14',
      'policies:',
      ...climbPolicyLines(name),
      '',
    ].join('\n'),
  );
});
after(async () => {
  await browser?.close();
  d.cleanup();
  await guest?.stop();
});

test('expert watch and the dashboard show the moves of a running hill-climb batch', { timeout: 120_000 }, async () => {
  const writer = await d.run('climb.yaml', 'climb.duckdb', ['--dashboard']);
  assert.ok(await until(() => /dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.test(writer.stderr()), 20_000), writer.stderr());
  const url = /dashboard: (\S+)/.exec(writer.stderr())![1]!;
  const watch = startCli(['watch', '--store', 'climb.duckdb'], d.dir);
  d.children.add(watch.child);

  // A move line: time, run, where, kept/undone, knob, objective before → after (change), settings before → after.
  const MOVE = new RegExp(`^\\d\\d:\\d\\d:\\d\\d  run 1  local/${name}\\s+(kept|undone|cut off)\\s+(pin|nice)\\s+cpu_pct \\S+ → \\S+( \\([-+]?[\\d.]+%\\))?\\s+cpus \\S+, nice \\d+ → cpus \\S+, nice \\d+$`, 'm');
  // Frames follow one another (not a terminal); each starts with its header line.
  const frames = () => watch.stdout().split(/\n(?=batch \d+ ')/);
  // Seen while the batch still runs: a frame that says running and lists a move.
  assert.ok(await until(() => frames().some((f) => /' running ·/.test(f) && MOVE.test(f)), 30_000), `watch showed no move while running:\n${watch.stdout().slice(-3000)}\n${watch.stderr()}`);
  const running = frames().find((f) => /' running ·/.test(f) && MOVE.test(f))!;
  assert.match(running, /^moves: \d+ so far, \d+ kept/m);

  mkdirSync(join(process.cwd(), 'test-output'), { recursive: true });
  browser = await HeadlessChromium.launch();
  const { page, consoleErrors, blockedRequests } = await browser.open('', { url, allow: new URL(url).origin });
  await page.waitForFunction(`document.querySelectorAll('#moves table tr').length > 1`, undefined, { timeout: 30_000 });
  const head = (await page.textContent('#moves .moves-head')) ?? '';
  assert.match(head, /^online optimizer: \d+ moves? so far, \d+ kept/);
  const firstRow = await page.$$eval('#moves table tr:nth-child(2) td', (tds) => tds.map((td) => td.textContent ?? ''));
  assert.equal(firstRow[2], `local/${name}`);
  assert.match(firstRow[3]!, /^(pin|nice)$/);
  assert.match(firstRow[4]!, /^cpus \S+, nice \d+ → cpus \S+, nice \d+$/);
  assert.match(firstRow[5]!, /^cpu_pct \S+ → \S+$/);
  assert.match(firstRow[7]!, /^(kept|undone|cut off)$/);
  await page.screenshot({ path: join(process.cwd(), 'test-output', 'dashboard-moves.png') });

  assert.equal((await writer.result).code, 0, writer.stderr());
  assert.equal((await watch.result).code, 0, watch.stderr());
  await page.waitForFunction(`/finished/.test(document.getElementById('progress').textContent)`, undefined, { timeout: 15_000 }).catch(() => undefined);

  // The last frame and the page list the latest moves of the table, in order.
  const store = await openStore(d.path('climb.duckdb'), { readOnly: true });
  try {
    const rows = (await store.query(`SELECT guest, action, kept FROM dynamic_move ORDER BY "at"`)).rows;
    assert.ok(rows.length >= 3, JSON.stringify(rows));
    const last = frames().filter((f) => f.trim()).at(-1)!;
    assert.match(last, new RegExp(`^moves: ${rows.length} so far, ${rows.filter((r) => r[2] === true).length} kept( \\(the latest 5\\))?$`, 'm'));
    const shown = last.split('\n').filter((l) => MOVE.test(l)).map((l) => MOVE.exec(l)!).map((m) => [m[2], m[1] === 'kept']);
    assert.deepEqual(shown, rows.slice(-5).map((r) => [r[1], r[2]]));
    const pageRows = await page.$$eval('#moves table tr', (trs) => trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    // The page shows what its last update carried (the writer may have ended before one more tick): consecutive moves of the table.
    const want = JSON.stringify(pageRows.map((r) => [r[3], r[7] === 'kept']));
    assert.ok(pageRows.length > 0 && rows.some((_, k) => JSON.stringify(rows.slice(k, k + pageRows.length).map((r) => [r[1], r[2]])) === want), `${want} in ${JSON.stringify(rows)}`);
  } finally {
    await store.close();
  }
  assert.deepEqual(blockedRequests, []);
  // After the writer ended, the page's EventSource tries to reconnect to a server that is gone.
  assert.deepEqual(consoleErrors.filter((e) => !/net::ERR_CONNECTION_REFUSED/.test(e)), []);
});

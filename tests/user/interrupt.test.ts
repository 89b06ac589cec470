// Ctrl-C on the installed `expert run` (issue 11 item 16): the batch is `interrupted`, exit 130, and no process is
// left `pending` forever: the runs that never started say so (their own status, not `pending`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expert } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';
import { pyCsv } from './helpers/python.js';

let dir: string;
let cli: Installed;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-interrupt-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  writeFileSync(join(dir, 'five.yaml'), 'name: five-naps\ntests:\n  - name: nap\n    command: sleep 3\n    repeat: 5\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('SIGINT to the process group of `expert run` (as Ctrl-C sends it) during run 1 of 5: exit 130, nothing left pending', async () => {
  let pid = 0;
  const running = expert(cli, ['run', 'five.yaml'], { cwd: dir, onSpawn: (p) => (pid = p) });
  const deadline = Date.now() + 30_000;
  while (!existsSync(join(dir, 'expert.duckdb')) && Date.now() < deadline) await delay(50);
  await delay(1500); // the first nap is running
  process.kill(-pid, 'SIGINT');
  const ran = await running;
  assert.equal(ran.code, 130, describe(ran));

  const query = (sql: string) => expert(cli, ['mine', 'sql', sql, '--format', 'csv'], { cwd: dir });
  const batch = await query('SELECT status FROM batch');
  assert.deepEqual(pyCsv(batch.stdout), [['status'], ['interrupted']], describe(batch));
  const processes = await query('SELECT rep, status FROM process ORDER BY rep');
  assert.equal(processes.code, 0, describe(processes));
  const [, ...rows] = pyCsv(processes.stdout);
  assert.equal(rows.length, 5, 'every planned process has a row');
  assert.ok(['killed', 'interrupted', 'failed'].includes(rows[0]![1]!), `the running nap was stopped: ${rows[0]}`);
  const neverStarted = rows.slice(1).map((r) => r[1]);
  assert.ok(neverStarted.every((s) => s !== 'pending' && s !== 'running'), `runs 2-5 never started, and say so: ${neverStarted}`);
  assert.equal(new Set(neverStarted).size, 1, `one status for every run that never started: ${neverStarted}`);
});

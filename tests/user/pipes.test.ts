// Big outputs of the installed `expert` through real pipes and into files arrive whole (issue 11 item 2: piped
// output was cut at ~64 KiB with exit 0) and parse with Python's csv and json; a big plan prints in every format
// (item 7: `--dry-run --format table` of a big plan hit "Maximum call stack size exceeded").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTHER } from './helpers/batches.js';
import { describe, expert, shell, shQuote } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';
import { pyCsv, pyJsonRowCount, python } from './helpers/python.js';

let dir: string;
let cli: Installed;

/** A plan of A × B runs with one process each. */
const A = 200;
const B = 100;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-pipes-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  writeFileSync(join(dir, 'user-other.yaml'), OTHER);
  const ran = await expert(cli, ['run', 'user-other.yaml'], { cwd: dir }); // ./expert.duckdb, the default store
  assert.equal(ran.code, 0, describe(ran));
  const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  writeFileSync(join(dir, 'big-plan.yaml'), `name: big-plan\ntests:\n  - name: t\n    command: echo {a}-{b}\n    params: {a: ${list(A)}, b: ${list(B)}}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('mine sql of a million rows as CSV through `| wc -l`: 1,000,001 lines', async () => {
  const ran = await shell(cli, `expert mine sql "select * from range(1000000)" --format csv | wc -l`, { cwd: dir });
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(ran.stdout.trim(), '1000001');
});

test('mine sql through a pipe whose reader starts late (the pipe fills): every line, exit 0', async () => {
  // `set -o pipefail` is not POSIX sh: the status of expert itself comes back through a file.
  const ran = await shell(cli, `{ expert mine sql "select range, 'x' || range from range(300000)"; echo $? > status; } | { sleep 2; wc -l; }`, { cwd: dir });
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(ran.stdout.trim(), '300001');
  assert.equal(readFileSync(join(dir, 'status'), 'utf8').trim(), '0', 'expert exit status');
});

test('mine sql --format json of 200,000 rows through a pipe parses with Python json, every row there', async () => {
  const reader = `import json, sys
rows = json.load(sys.stdin)
assert [r["i"] for r in rows] == list(range(200000)), "rows missing or out of order"
assert all(r["s"] == "row %d" % r["i"] for r in rows)
print(len(rows))`;
  const ran = await shell(cli, `expert mine sql "select range AS i, 'row ' || range AS s from range(200000)" --format json | /usr/bin/python3 -c ${shQuote(reader)}`, { cwd: dir });
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(ran.stdout.trim(), '200000');
});

test('mine sql into a file (no --format: CSV off a terminal): the file holds every row', async () => {
  const ran = await shell(cli, `expert mine sql "select range AS n from range(150000)" > out.csv`, { cwd: dir });
  assert.equal(ran.code, 0, describe(ran));
  const rows = pyCsv(readFileSync(join(dir, 'out.csv'), 'utf8'));
  assert.equal(rows.length, 150001);
  assert.deepEqual(rows[0], ['n']);
  assert.deepEqual(rows.at(-1), ['149999']);
});

test(`run --dry-run of a ${A * B}-process plan through a pipe: complete as CSV and JSON`, async () => {
  const csv = await shell(cli, 'expert run big-plan.yaml --dry-run --format csv | cat', { cwd: dir });
  assert.equal(csv.code, 0, describe(csv));
  const rows = pyCsv(csv.stdout);
  assert.equal(rows.length, A * B + 1);
  const command = rows[0]!.indexOf('command');
  assert.ok(command >= 0, `a command column: ${rows[0]}`);
  assert.equal(rows.at(-1)![command], `echo ${A - 1}-${B - 1}`);

  const json = await shell(cli, 'expert run big-plan.yaml --dry-run --format json | cat', { cwd: dir });
  assert.equal(json.code, 0, describe(json));
  assert.equal(pyJsonRowCount(json.stdout), A * B);
});

test(`run --dry-run --format table of a ${A * B}-process plan: no stack overflow, every process with its whole command`, async () => {
  const ran = await shell(cli, 'expert run big-plan.yaml --dry-run --format table | cat', { cwd: dir, env: { COLUMNS: '100' } });
  assert.equal(ran.code, 0, describe(ran));
  assert.ok(!ran.stderr.includes('Maximum call stack'), ran.stderr);
  const lines = ran.stdout.split('\n');
  for (let a = 0; a < A; a += 37) {
    for (let b = 0; b < B; b += 11) {
      assert.ok(lines.some((l) => l.includes(`echo ${a}-${b}`) && l.trimEnd().endsWith(`echo ${a}-${b}`)), `the table shows process a=${a} b=${b} with its whole command`);
    }
  }
  assert.ok(lines.filter((l) => l.includes('echo ')).length >= A * B, 'one line per process');
});

test('the default --format off a terminal is CSV, and the big plan piped with it parses', async () => {
  const ran = await shell(cli, 'expert run big-plan.yaml --dry-run | /usr/bin/python3 -c "import csv, sys; print(sum(1 for _ in csv.reader(sys.stdin)))"', { cwd: dir });
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(python<number>('import sys; print(int(sys.stdin.read()))', ran.stdout), A * B + 1);
});

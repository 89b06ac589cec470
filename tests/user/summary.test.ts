// `expert mine summary` as a user reads it (issue 11 item 8): an exit_code column, so a run that exited 127 is
// visibly not a success; --columns picks columns; a table fits the terminal (COLUMNS=100) with floats rounded to
// significant digits, while CSV and JSON keep every column at full precision.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSmallStore } from './helpers/batches.js';
import { describe, expert, type Ran } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';
import { pyCsv, pyJson, type Parsed } from './helpers/python.js';

let dir: string;
let cli: Installed;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-summary-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  await makeSmallStore(cli, dir, 'expert.duckdb'); // the default store: no --store needed below
});
after(() => rmSync(dir, { recursive: true, force: true }));

function summary(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return expert(cli, ['mine', 'summary', ...args], { cwd: dir, env });
}

function csvObjects(ran: Ran): Record<string, string>[] {
  assert.equal(ran.code, 0, describe(ran));
  const [header, ...rows] = pyCsv(ran.stdout);
  return rows.map((r) => Object.fromEntries(header!.map((c, i) => [c, r[i]!])));
}

/** Significant digits of a number as written (`0.049627` → 5, `12449700000` → 6, `1.50` → 3). */
function significantDigits(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  return (text.includes('.') ? digits : digits.replace(/0+$/, '')).length;
}

test('CSV and JSON have exit_code; the run of a missing program shows 127, the dd runs 0', async () => {
  const rows = csvObjects(await summary(['--format', 'csv']));
  assert.ok('exit_code' in rows[0]!, `columns: ${Object.keys(rows[0]!)}`);
  for (const row of rows) assert.equal(row.exit_code, row.label!.startsWith('missing') ? '127' : '0', row.label);
  const json = pyJson((await summary(['--format', 'json'])).stdout).value as Parsed[];
  const codes = json.map((r) => (r.value as Record<string, Parsed>).exit_code!);
  assert.ok(codes.every((c) => c.type === 'int'), 'exit_code is a number in JSON');
  assert.deepEqual(codes.map((c) => c.value).sort(), [0, 0, 0, 0, 0, 127, 127]);
});

test('the default table on a 100-column terminal: every line fits (notes too)', async () => {
  const ran = await summary(['--format', 'table'], { COLUMNS: '100' });
  assert.equal(ran.code, 0, describe(ran));
  assert.deepEqual(ran.stdout.split('\n').filter((l) => l.length > 100), [], 'every line is at most 100 characters');
});

test('the default table on a 100-column terminal: the 127 run does not look like a success', async () => {
  const ran = await summary(['--format', 'table'], { COLUMNS: '100' });
  assert.equal(ran.code, 0, describe(ran));
  const missing = ran.stdout.split('\n').filter((l) => l.includes('missing'));
  assert.equal(missing.length, 2, `the two runs of the missing program are rows: ${ran.stdout}`);
  for (const line of missing) {
    const words = line.split(/\s+/);
    assert.ok(words.includes('127') || words.some((w) => /^(failed|error)$/i.test(w)), `the 127 run shows its exit code or a failure: ${line}`);
  }
});

test('--columns picks the columns, in that order, in every format', async () => {
  const rows = csvObjects(await summary(['--columns', 'exit_code,label', '--format', 'csv']));
  assert.deepEqual(Object.keys(rows[0]!), ['exit_code', 'label']);
  assert.equal(rows.length, 7);
  const json = pyJson((await summary(['--columns', 'label,exit_code', '--format', 'json'])).stdout).value as Parsed[];
  assert.deepEqual(Object.keys(json[0]!.value as object), ['label', 'exit_code']);
  const table = await summary(['--columns', 'exit_code,label', '--format', 'table'], { COLUMNS: '100' });
  assert.equal(table.code, 0, describe(table));
  assert.deepEqual(table.stdout.split('\n')[0]!.split(/\s+/).filter(Boolean), ['exit_code', 'label']);
});

test('--columns with a column that does not exist: exit 2, naming it', async () => {
  const ran = await summary(['--columns', 'exit_code,no_such_column', '--format', 'csv']);
  assert.equal(ran.code, 2, describe(ran));
  assert.ok(ran.stderr.includes('no_such_column'), ran.stderr);
});

test('floats: rounded to significant digits in the table, full precision in CSV and JSON', async () => {
  const columns = 'duration_s,dd_rate_bps,process_id';
  const full = csvObjects(await summary(['--columns', columns, '--format', 'csv']));
  const json = (pyJson((await summary(['--columns', columns, '--format', 'json'])).stdout).value as Parsed[]).map((r) => r.value as Record<string, Parsed>);
  const rates = full.filter((r) => r.dd_rate_bps !== '');
  assert.equal(rates.length, 5, 'every dd run has a rate');
  for (const [i, row] of full.entries()) {
    for (const column of ['duration_s', 'dd_rate_bps']) {
      if (row[column] === '') continue;
      assert.equal(json[i]![column]!.type, 'float', `${column} is a JSON number`);
      assert.equal(Number(row[column]), json[i]![column]!.value, `${column}: CSV and JSON hold the same full value`);
    }
  }
  assert.ok(rates.some((r) => significantDigits(r.dd_rate_bps!) > 7), `CSV keeps full precision: ${rates.map((r) => r.dd_rate_bps)}`);

  const table = await summary(['--columns', columns, '--format', 'table'], { COLUMNS: '100' });
  assert.equal(table.code, 0, describe(table));
  const byProcess = new Map(full.map((r) => [r.process_id, r]));
  const rows = table.stdout.split('\n').slice(2).map((l) => l.trim().split(/\s+/)).filter((w) => w.length === 3);
  assert.equal(rows.length, 5, `the dd rows of the table (the missing program's have no rate): ${table.stdout}`);
  for (const [duration, rate, processId] of rows) {
    const exact = byProcess.get(processId!);
    assert.ok(exact, `process ${processId} is in the CSV`);
    for (const [shown, value] of [[duration!, exact.duration_s!], [rate!, exact.dd_rate_bps!]]) {
      assert.ok(significantDigits(shown) <= 6, `the table rounds ${value} to at most 6 significant digits, shows ${shown}`);
      assert.ok(Math.abs(Number(shown) - Number(value)) <= Math.abs(Number(value)) * 1e-5, `the table's ${shown} is ${value} rounded`);
    }
  }
});

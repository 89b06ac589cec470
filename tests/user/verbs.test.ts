// Every verb of the README's command table that runs without a testbed, through the installed `expert`
// (npm link, as the README says), its output read with Python's csv and json or checked as a file.
// `run` and `run --dry-run` are in pipes.test.ts and install-paths.test.ts, `mine sql` in types.test.ts,
// `mine summary` in summary.test.ts; testbed up/down, tune apply/search and notebooks are tested by their parts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSmallStore } from './helpers/batches.js';
import { describe, expert, type Ran } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';
import { pyCsv, pyJson, python, type Parsed } from './helpers/python.js';

let dir: string;
let cli: Installed;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-verbs-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  await makeSmallStore(cli, dir, 'expert.duckdb');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return expert(cli, args, { cwd: options.cwd ?? dir, input: options.input, env: options.env });
}

function csvObjects(ran: Ran): Record<string, string>[] {
  assert.equal(ran.code, 0, describe(ran));
  const [header, ...rows] = pyCsv(ran.stdout);
  return rows.map((r) => Object.fromEntries(header!.map((c, i) => [c, r[i]!])));
}

/** A self-contained HTML page: a document, plotly.js inlined, no script loaded from elsewhere. */
function assertOfflineHtml(path: string): void {
  const html = readFileSync(path, 'utf8');
  assert.ok(/^<!doctype html>/i.test(html.trimStart()), `${path} is an HTML document`);
  assert.ok(html.includes('Plotly'), `${path} carries plotly.js`);
  assert.ok(!/<script[^>]+src=["']https?:/i.test(html), `${path} loads no script from the network`);
}

test('mine parsers: every parser with its version, as CSV and JSON', async () => {
  const rows = csvObjects(await run(['mine', 'parsers', '--format', 'csv']));
  const names = rows.map((r) => r.parser);
  for (const name of ['dd', 'fio', 'iozone', 'vmstat', 'perf-stat']) assert.ok(names.includes(name), `${name} in ${names}`);
  assert.ok(rows.every((r) => Number(r.version) >= 1), 'versions are numbers');
  const json = pyJson((await run(['mine', 'parsers', '--format', 'json'])).stdout);
  assert.equal((json.value as Parsed[]).length, rows.length);
});

test('mine parsers --store F is accepted (every verb takes --store)', async () => {
  const ran = await run(['mine', 'parsers', '--store', 'expert.duckdb', '--format', 'csv']);
  assert.equal(ran.code, 0, describe(ran));
  assert.ok(pyCsv(ran.stdout).length > 5);
});

test('mine parse dd and vmstat: parsed rows of the workloads and monitors; a second parse is cached', async () => {
  const dd = csvObjects(await run(['mine', 'parse', 'dd', '--format', 'csv']));
  assert.equal(dd.length, 5, 'one transfer summary per dd run (2 + 2 + 1)');
  // bs=64k × count 16 and 32 (user-small, twice) and 8 (user-other).
  assert.deepEqual(dd.map((r) => Number(r.bytes)).sort((a, b) => a - b), [8, 16, 16, 32, 32].map((count) => count * 65536));
  assert.ok(dd.every((r) => Number(r.seconds) > 0), 'every transfer took some time');
  const vmstat = await run(['mine', 'parse', 'vmstat', '--format', 'json']);
  assert.equal(vmstat.code, 0, describe(vmstat));
  const samples = pyJson(vmstat.stdout).value as Parsed[];
  assert.ok(samples.length >= 6, `vmstat samples of the 6 runs with a monitor: ${samples.length}`);
  assert.equal((samples[0]!.value as Record<string, Parsed>).cs!.type, 'int', 'vmstat figures are numbers');
  const again = await run(['mine', 'parse', 'dd', '--format', 'csv']);
  assert.equal(again.code, 0, describe(again));
  assert.deepEqual(csvObjects(again), dd, 'the same rows from the cache');
});

test('mine export --parquet DIR: one Parquet file per table, readable by DuckDB with the rows it reported', async () => {
  const files = csvObjects(await run(['mine', 'export', '--parquet', 'parquet-out', '--format', 'csv']));
  const tables = files.map((f) => f.table);
  for (const table of ['batch', 'process', 'line']) assert.ok(tables.includes(table), `${table} in ${tables}`);
  for (const f of files) {
    assert.ok(existsSync(f.file!) && statSync(f.file!).size > 0, `${f.file} written`);
    const [count] = csvObjects(await run(['mine', 'sql', `SELECT count(*) AS n FROM read_parquet('${f.file}')`, '--format', 'csv']));
    assert.equal(count!.n, f.rows, `${f.table}: the file holds the rows reported`);
  }
  const [batches] = csvObjects(await run(['mine', 'sql', 'SELECT count(*) AS n FROM batch', '--format', 'csv']));
  assert.equal(files.find((f) => f.table === 'batch')!.rows, batches!.n);
});

test('report latest --out F.html: a self-contained page of the newest batch', async () => {
  const ran = await run(['report', 'latest', '--out', 'report.html']);
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(ran.stdout.trim(), join(dir, 'report.html'), 'prints the path written');
  assertOfflineHtml(join(dir, 'report.html'));
  assert.ok(readFileSync(join(dir, 'report.html'), 'utf8').includes('user-other'));
});

test('plot chart.yaml --out F.html: the chart of the spec', async () => {
  writeFileSync(join(dir, 'chart.yaml'), 'title: dd time per run\ndata: {runs: true, batch: latest}\nkind: box\nx: policy\ny: duration_s\n');
  const ran = await run(['plot', 'chart.yaml', '--out', 'chart.html']);
  assert.equal(ran.code, 0, describe(ran));
  assertOfflineHtml(join(dir, 'chart.html'));
  assert.ok(readFileSync(join(dir, 'chart.html'), 'utf8').includes('dd time per run'));
});

test('mine wizard with answers piped in (Enter takes each default): writes a spec that expert plot redraws', async () => {
  const wizard = join(dir, 'wizard');
  mkdirSync(wizard);
  const ran = await run(['mine', 'wizard', '--store', '../expert.duckdb'], { cwd: wizard, input: '\n'.repeat(20) });
  assert.equal(ran.code, 0, describe(ran));
  assert.deepEqual(ran.stdout.trim().split('\n'), [join(wizard, 'chart.yaml'), join(wizard, 'chart.html')]);
  assertOfflineHtml(join(wizard, 'chart.html'));
  const again = await run(['plot', 'chart.yaml', '--store', '../expert.duckdb', '--out', 'again.html'], { cwd: wizard });
  assert.equal(again.code, 0, describe(again));
});

test('tune discover on this machine: CSV with the thread columns, JSON with the node and its topology', async () => {
  const rows = await run(['tune', 'discover', '--format', 'csv']);
  assert.equal(rows.code, 0, describe(rows));
  const header = pyCsv(rows.stdout)[0]!;
  for (const column of ['node', 'guest', 'pid', 'tid', 'kind', 'vcpu', 'comm', 'cpus', 'nice']) assert.ok(header.includes(column), `${column} in ${header}`);
  const json = await run(['tune', 'discover', '--format', 'json']);
  assert.equal(json.code, 0, describe(json));
  const [local] = pyJson(json.stdout).value as Parsed[];
  const node = local!.value as Record<string, Parsed>;
  assert.equal(node.node!.value, 'local');
  assert.equal(node.guests!.type, 'list');
  const cpus = python<number>('import os; print(os.cpu_count())', '');
  assert.equal(((node.topology!.value as Record<string, Parsed>).cpus!.value as Parsed[]).length, cpus, 'every CPU of this machine');
});

test('tune restore with nothing tuned here: exit 0, says there is nothing to restore', async () => {
  const ran = await run(['tune', 'restore']);
  assert.equal(ran.code, 0, describe(ran));
  assert.ok(`${ran.stdout}${ran.stderr}`.trim().length > 0, 'says what it did');
});

test('testbed status where no testbed is up: exit 1 with one message naming `expert testbed up`', async () => {
  const ran = await run(['testbed', 'status']);
  assert.equal(ran.code, 1, describe(ran));
  assert.ok(ran.stderr.includes('expert testbed up'), ran.stderr);
});

test('kernel install --prefix DIR: a kernelspec Jupyter can read', async () => {
  const ran = await run(['kernel', 'install', '--prefix', join(dir, 'jupyter')]);
  assert.equal(ran.code, 0, describe(ran));
  const spec = join(dir, 'jupyter/share/jupyter/kernels/expert/kernel.json');
  const parsed = pyJson(readFileSync(spec, 'utf8')).value as Record<string, Parsed>;
  assert.equal(parsed.argv!.type, 'list');
  assert.ok((parsed.argv!.value as Parsed[]).some((a) => String(a.value).includes('{connection_file}')), 'argv takes the connection file');
  assert.equal(parsed.language!.value, 'typescript');
});

// Stores and batches as a user names them on the installed `expert` (issue 11 items 4-6): a mistyped --store
// never creates a store (only `expert run` does) and names the stores nearby; readers started together all succeed;
// --batch takes an id, a name (the newest of that name) or `latest` on every verb, and an unknown batch lists recent
// ones; every flag and verb a message advises exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAdviceTrue } from './helpers/advice.js';
import { makeSmallStore, type SmallStore } from './helpers/batches.js';
import { describe, expert, type Ran } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';
import { pyCsv } from './helpers/python.js';

let dir: string;
let cli: Installed;
let store: SmallStore;

/** A chart of the run summary whose categories are the runs' labels (so the HTML shows which batch it drew). */
const CHART = 'data: {runs: true}\nkind: box\nx: label\ny: duration_s\n';
/** Printed only by user-small's runs (its missing program). */
const SMALL_ONLY = 'missing baseline #1 @local';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-stores-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  store = await makeSmallStore(cli, dir);
  writeFileSync(join(dir, 'chart.yaml'), CHART);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], cwd = dir, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return expert(cli, args, { cwd, env });
}

function csv(ran: Ran): Record<string, string>[] {
  assert.equal(ran.code, 0, describe(ran));
  const [header, ...rows] = pyCsv(ran.stdout);
  return rows.map((r) => Object.fromEntries(header!.map((c, i) => [c, r[i]!])));
}

// First, on a store nothing has parsed yet: the summaries must parse (write) while the others read.
test('4 mine summary and 4 mine sql started together on one store all succeed', async () => {
  const started = [
    ...Array.from({ length: 4 }, () => run(['mine', 'summary', '--store', 'small.duckdb', '--format', 'csv'])),
    ...Array.from({ length: 4 }, (_, i) => run(['mine', 'sql', `SELECT count(*) + ${i} AS n FROM line`, '--store', 'small.duckdb', '--format', 'csv'])),
  ];
  const results = await Promise.all(started);
  results.forEach((ran, i) => assert.equal(ran.code, 0, `reader ${i + 1} of 8: ${describe(ran)}`));
  const summaries = results.slice(0, 4).map((r) => csv(r).length);
  assert.deepEqual(summaries, [7, 7, 7, 7], 'each summary has every workload run of the three batches (3 + 3 + 1)');
  for (const ran of results) await assertAdviceTrue(cli, dir, ran === results[0] ? ['mine', 'summary'] : ['mine', 'sql'], ran.stderr);
});

/** Every verb that only reads a store, with the arguments it needs; `out` is what it would write. */
const READ_VERBS: { verb: string[]; args: string[]; out?: string }[] = [
  { verb: ['mine', 'parse'], args: ['mine', 'parse', 'dd'] },
  { verb: ['mine', 'summary'], args: ['mine', 'summary'] },
  { verb: ['mine', 'export'], args: ['mine', 'export', '--parquet', 'typo-export'], out: 'typo-export' },
  { verb: ['mine', 'sql'], args: ['mine', 'sql', 'SELECT 1'] },
  { verb: ['report'], args: ['report', 'latest', '--out', 'typo-report.html'], out: 'typo-report.html' },
  { verb: ['plot'], args: ['plot', 'chart.yaml', '--out', 'typo-plot.html'], out: 'typo-plot.html' },
];

for (const { verb, args, out } of READ_VERBS) {
  test(`expert ${verb.join(' ')} --store <a typo>: exit 2, no file made, names the store nearby`, async () => {
    const before = readdirSync(dir).sort();
    const ran = await run([...args, '--store', 'smal.duckdb']);
    assert.equal(ran.code, 2, describe(ran));
    assert.equal(ran.stderr.trim().split('\n').length, 1, `one message: ${ran.stderr}`);
    assert.ok(ran.stderr.includes('small.duckdb'), `names the store it sees nearby: ${ran.stderr}`);
    assert.deepEqual(readdirSync(dir).sort(), before, 'no file or folder appeared');
    if (out) assert.ok(!existsSync(join(dir, out)));
    await assertAdviceTrue(cli, dir, verb, ran.stderr);
  });
}

test('in a folder with no store, a read verb with the default store exits 2 and creates no expert.duckdb', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const ran = await run(['mine', 'summary'], empty);
  assert.equal(ran.code, 2, describe(ran));
  assert.deepEqual(readdirSync(empty), []);
  await assertAdviceTrue(cli, empty, ['mine', 'summary'], ran.stderr);
});

test('a reader started while `expert run` writes the store waits for it (saying so, with true advice) and then succeeds', async () => {
  writeFileSync(join(dir, 'slow.yaml'), 'name: slow\ntests:\n  - name: nap\n    command: sleep 3\n');
  const batch = run(['run', 'slow.yaml', '--store', 'slow.duckdb']);
  // The batch holds the store once it has printed its id.
  const deadline = Date.now() + 30_000;
  while (!existsSync(join(dir, 'slow.duckdb')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  const reader = await run(['mine', 'sql', 'SELECT count(*) AS n FROM batch', '--store', 'slow.duckdb', '--format', 'csv']);
  const ran = await batch;
  assert.equal(ran.code, 0, `the batch: ${describe(ran)}`);
  assert.equal(reader.code, 0, `the reader: ${describe(reader)}`);
  assert.deepEqual(csv(reader), [{ n: '1' }]);
  await assertAdviceTrue(cli, dir, ['mine', 'sql'], reader.stderr);
});

test('a reader started while a long batch writes the store ends promptly: its answer, or a user error whose advice is true', async () => {
  writeFileSync(join(dir, 'long.yaml'), 'name: long\ntests:\n  - name: nap\n    command: sleep 45\n');
  let pid = 0;
  const batch = expert(cli, ['run', 'long.yaml', '--store', 'long.duckdb'], { cwd: dir, onSpawn: (p) => (pid = p) });
  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'long.duckdb')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    // EXPERT_LOCK_WAIT_MS shortens a wait for the lock; without it the default wait (30 s) still ends before the 45 s nap.
    const reader = await expert(cli, ['mine', 'summary', '--store', 'long.duckdb', '--format', 'csv'], { cwd: dir, env: { EXPERT_LOCK_WAIT_MS: '1500' }, timeoutMs: 40_000 });
    assert.ok(!reader.timedOut, 'the reader did not hang');
    if (reader.code === 0) {
      // The nap is still running: at most its own row, without an exit code yet.
      const rows = csv(reader);
      assert.ok(rows.length <= 1 && rows.every((r) => r.label!.startsWith('nap') && r.exit_code === ''), `the running nap: ${reader.stdout}`);
    } else {
      assert.notEqual(reader.code, 70, `a user error, not a bug: ${describe(reader)}`);
      assert.ok(reader.stderr.includes('long.duckdb'), `names the store: ${reader.stderr}`);
    }
    await assertAdviceTrue(cli, dir, ['mine', 'summary'], reader.stderr);
  } finally {
    process.kill(-pid, 'SIGINT');
    assert.equal((await batch).code, 130, 'the batch stopped on Ctrl-C');
  }
});

/** What `--batch` names in the small store: [reference, the batch id it means]. */
function references(): [string, number][] {
  const [first, second, third] = store.batches;
  return [
    [String(first!.id), first!.id],
    ['user-small', second!.id], // the newest batch of that name
    ['user-other', third!.id],
    ['latest', third!.id],
  ];
}

test('mine summary --batch: an id, a name (the newest of that name), latest', async () => {
  for (const [ref, id] of references()) {
    const rows = csv(await run(['mine', 'summary', '--store', 'small.duckdb', '--batch', ref, '--format', 'csv']));
    assert.ok(rows.length > 0, `--batch ${ref}: rows`);
    assert.deepEqual([...new Set(rows.map((r) => r.batch_id))], [String(id)], `--batch ${ref} is batch ${id} (CSV keeps every column)`);
    const own = csv(await run(['mine', 'sql', `SELECT process_id FROM process WHERE batch_id = ${id} AND role = 'workload'`, '--store', 'small.duckdb', '--format', 'csv'])).map((r) => r.process_id);
    assert.deepEqual(rows.map((r) => r.process_id).sort(), own.sort(), `--batch ${ref}: the workloads of batch ${id}`);
  }
});

test('mine parse --batch: an id, a name, latest', async () => {
  for (const [ref, id] of references()) {
    const rows = csv(await run(['mine', 'parse', 'dd', '--store', 'small.duckdb', '--batch', ref, '--format', 'csv']));
    const own = new Set(csv(await run(['mine', 'sql', `SELECT process_id FROM process WHERE batch_id = ${id}`, '--store', 'small.duckdb', '--format', 'csv'])).map((r) => r.process_id));
    assert.ok(rows.length > 0, `--batch ${ref}: dd rows`);
    assert.ok(rows.every((r) => own.has(r.process_id!)), `--batch ${ref}: only processes of batch ${id}`);
  }
});

test('mine export --batch: an id, a name, latest', async () => {
  for (const [ref, id] of references()) {
    const out = `export-${ref}`;
    const files = csv(await run(['mine', 'export', '--parquet', out, '--store', 'small.duckdb', '--batch', ref, '--format', 'csv']));
    const batchFile = files.find((f) => f.table === 'batch')?.file;
    assert.ok(batchFile, `a batch table among ${JSON.stringify(files)}`);
    const inFile = csv(await run(['mine', 'sql', `SELECT batch_id FROM '${batchFile}'`, '--store', 'small.duckdb', '--format', 'csv']));
    assert.deepEqual(inFile, [{ batch_id: String(id) }], `--batch ${ref}`);
  }
});

test('report <batch> and plot --batch: an id, a name, latest', async () => {
  for (const [ref, id] of references()) {
    const isSmall = store.batches.find((b) => b.id === id)!.name === 'user-small';
    const report = await run(['report', ref, '--store', 'small.duckdb', '--out', `report-${ref}.html`]);
    assert.equal(report.code, 0, describe(report));
    const html = readFileSync(join(dir, `report-${ref}.html`), 'utf8');
    assert.equal(html.includes('expert-no-such-program-xyz'), isSmall, `report ${ref} shows batch ${id}'s processes`);
    const plot = await run(['plot', 'chart.yaml', '--store', 'small.duckdb', '--batch', ref, '--out', `plot-${ref}.html`]);
    assert.equal(plot.code, 0, describe(plot));
    assert.equal(readFileSync(join(dir, `plot-${ref}.html`), 'utf8').includes(SMALL_ONLY), isSmall, `plot --batch ${ref} draws batch ${id}`);
  }
});

for (const ref of ['999', 'no-such-batch']) {
  test(`--batch ${ref} (unknown) on every verb: exit 2, the message lists the recent batches`, async () => {
    const verbs: [string[], string[]][] = [
      [['mine', 'summary'], ['mine', 'summary', '--batch', ref]],
      [['mine', 'parse'], ['mine', 'parse', 'dd', '--batch', ref]],
      [['mine', 'export'], ['mine', 'export', '--parquet', `unknown-${ref}`, '--batch', ref]],
      [['report'], ['report', ref, '--out', `unknown-${ref}.html`]],
      [['plot'], ['plot', 'chart.yaml', '--batch', ref, '--out', `unknown-plot-${ref}.html`]],
    ];
    for (const [verb, args] of verbs) {
      const ran = await run([...args, '--store', 'small.duckdb']);
      assert.equal(ran.code, 2, `expert ${args.join(' ')}: ${describe(ran)}`);
      for (const b of store.batches) assert.ok(ran.stderr.includes(String(b.id)) && ran.stderr.includes(b.name), `lists batch ${b.id} (${b.name}): ${ran.stderr}`);
      for (const out of [`unknown-${ref}`, `unknown-${ref}.html`, `unknown-plot-${ref}.html`]) assert.ok(!existsSync(join(dir, out)), `${out} was not made`);
      await assertAdviceTrue(cli, dir, verb, ran.stderr);
    }
  });
}

// Reading a store while `expert run` writes it (issue 14 item 1): read verbs, openStore(), summary and parse go
// through the writer's live socket with the same output as a direct read; writes are refused; the socket is 0600.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { LiveStore } from '../../src/live/live-store.js';
import { runSummary } from '../../src/mine/summary.js';
import { toArquero } from '../../src/mine/interop.js';
import { openStore } from '../../src/store/store.js';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureParsed } from '../../src/mine/engine.js';
import { cli, count, liveBatch, LiveDir, type Started } from './helpers.js';

let d: LiveDir;
let writer: Started;

/** Values of (nearly) every DuckDB type, and a row of NULLs of the same types. */
const EVERY_TYPE = `WITH v AS (SELECT 42::INTEGER AS i, 9007199254740993::BIGINT AS big, 170141183460469231731687303715884105727::HUGEINT AS huge,
  340282366920938463463374607431768211455::UHUGEINT AS uhuge, 12345678901234567890123456.789012345678::DECIMAL(38,12) AS dec,
  1.25::DECIMAL(5,2) AS dec_small, 'NaN'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf, -0.0::DOUBLE AS negzero, 0.1::FLOAT AS f,
  'a "q", b' || chr(10) || 'c' AS txt, '\\xFF\\x00abc'::BLOB AS blob, INTERVAL '1 year 2 months 3 days 04:05:06.789' AS iv,
  DATE '2024-02-29' AS d, TIME '12:34:56.123456' AS t, '12:34:56.123456+02:00'::TIMETZ AS ttz,
  TIMESTAMP '2024-02-29 12:34:56.123456' AS ts, TIMESTAMPTZ '2024-02-29 12:34:56.123456+00' AS tstz,
  '2024-02-29 12:34:56.123456789'::TIMESTAMP_NS AS tsns, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u,
  'ok'::ENUM('sad', 'ok') AS e, '101010'::BIT AS bits, MAP {'a': 1, 'b': 2} AS m, {'x': 1, 'y': [1, 2]} AS s,
  [1, NULL, 3] AS l, [1.5, 2.5]::DOUBLE[2] AS arr, union_value(num := 42)::UNION(num INTEGER, str VARCHAR) AS un,
  '{"k": [1, {"n": null}]}'::JSON AS j, true AS b)
SELECT * FROM v UNION ALL SELECT v.* FROM (SELECT 1 AS k) one LEFT JOIN v ON one.k = 2`;

before(async () => {
  d = new LiveDir();
  d.file('live.yaml', liveBatch('live-read', 400));
  writer = await d.run('live.yaml', 'live.duckdb');
});
after(() => d.cleanup());

test('while expert run writes: the socket is 0600, mine sql counts lines that grow, output equals a direct read in every format, writes are refused', async () => {
  const socket = d.path('live.duckdb.sock');
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  assert.ok(statSync(socket).isSocket());

  const first = await cli(['mine', 'sql', 'select count(*) from line', '--store', 'live.duckdb', '--format', 'csv'], d.dir);
  assert.equal(first.code, 0, first.stderr);
  await delay(1500);
  const second = await cli(['mine', 'sql', 'select count(*) from line', '--store', 'live.duckdb', '--format', 'csv'], d.dir);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(count(second.stdout) > count(first.stdout), `${first.stdout} then ${second.stdout}`);
  assert.doesNotMatch(first.stderr + second.stderr, /locked|waiting/);

  const live: Record<string, string> = {};
  for (const format of ['table', 'csv', 'json']) {
    const r = await cli(['mine', 'sql', EVERY_TYPE, '--store', 'live.duckdb', '--format', format], d.dir);
    assert.equal(r.code, 0, r.stderr);
    live[format] = r.stdout;
  }

  for (const [sql, what] of [
    ["insert into batch(name) values ('sneaky')", /statements that write are refused: process \d+ \(expert run\) is writing this store/],
    ['create table sneaky(a int)', /statements that write are refused/],
    ["set memory_limit = '1GB'", /SET statements are refused/],
    ['checkpoint', /CALL statements are refused/],
  ] as const) {
    const r = await cli(['mine', 'sql', sql, '--store', 'live.duckdb'], d.dir);
    assert.equal(r.code, 2, `${sql}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, what);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  // A TEMP table of the reader's own session is fine (Mine's summary uses them).
  const temp = await cli(['mine', 'sql', 'create temp table t as select 7 as x; select x * 6 as answer from t', '--store', 'live.duckdb', '--format', 'csv'], d.dir);
  assert.equal(temp.code, 0, temp.stderr);
  assert.equal(temp.stdout, 'answer\n42\n');

  // openStore() in this process: the same store, read through the writer; Mine works on it unchanged.
  const store = await openStore(d.path('live.duckdb'));
  try {
    assert.ok(store instanceof LiveStore);
    assert.equal(store.readOnly, true);
    const lines = await store.query('select count(*) AS n, max(seq) AS top from line');
    assert.ok(Number(lines.rows[0]![0]) > 0);
    const perProcess = await toArquero(store, 'select process_id, count(*) AS n from line group by 1 order by 1');
    assert.ok(perProcess.numRows() >= 2);
    const first = await ensureParsed(store, 'vmstat');
    const watermark = async () => Number((await store.query(`select max(watermark) from parsed._state where parser = 'vmstat'`)).rows[0]![0]);
    const before = await watermark();
    await delay(2500);
    const again = await ensureParsed(store, 'vmstat');
    assert.ok(again.parsedProcesses >= 1, 'the running vmstat is parsed again (its new lines)');
    assert.ok(again.rows > first.rows, `${first.rows} then ${again.rows} rows`);
    assert.ok((await watermark()) > before, 'the watermark moves on with the new lines');
    const summary = await runSummary(store);
    assert.ok(summary.columns.includes('vmstat_cs'), summary.columns.join(','));
    assert.ok(summary.rows.length >= 1);
    // A reader polling fast must not grow the writer's memory (its DuckDB is capped at 128 MB): 400 queries.
    const allocated = async () => Number((await store.query(`select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory() where tag = 'ALLOCATOR'`)).rows[0]![0]);
    const start = await allocated();
    for (let i = 0; i < 400; i++) await store.query(`select l.text from line l join process p using (process_id) where p.role = 'workload' order by l.seq desc limit 1`);
    assert.ok((await allocated()) - start < 16 << 20, `the writer's allocator grew from ${start} to ${await allocated()} bytes`);
    await assert.rejects(store.createBatch({ name: 'x', config: {}, provenance: {} }), /being written by process \d+ \(expert run\).*read-only/s);
    await assert.rejects(store.connection.run("insert into batch(name) values ('sneaky')"), /statements that write are refused/);
  } finally {
    await store.close();
  }

  const done = await writer.result;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(!existsSync(socket), 'the socket goes with the writer');
  for (const format of ['table', 'csv', 'json']) {
    const direct = await cli(['mine', 'sql', EVERY_TYPE, '--store', 'live.duckdb', '--format', format], d.dir);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(live[format], direct.stdout, `${format} through the writer differs from a direct read`);
  }
  const sneaky = await cli(['mine', 'sql', "select count(*) from batch where name = 'sneaky'", '--store', 'live.duckdb', '--format', 'csv'], d.dir);
  assert.equal(sneaky.stdout, 'count_star()\n0\n');
});

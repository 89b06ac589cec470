/**
 * The engine's promises: garbage, truncated and killed output give NULLs and
 * counted errors (never an exception); a version change re-parses; a new
 * process is parsed alone; a still-running process is parsed again later.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureParsed } from '../../src/mine/engine.js';
import { ParserRegistry } from '../../src/mine/registry.js';
import { parseMemoryLimit, sizeInBytes } from '../../src/mine/parse-memory.js';
import { builtinParsers } from '../../src/mine/parsers/index.js';
import type { ParserDefinition } from '../../src/mine/types.js';
import { loadFixture, readFixture, tempStore, type TempStore } from './helpers.js';

let t: TempStore;
before(async () => {
  t = await tempStore();
});
after(async () => {
  await t?.cleanup();
});

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await t.store.query(sql, params);
  return Number(r.rows[0]![0]);
}

test('a garbage line yields a row of NULLs and a counted error', async () => {
  const batchId = await t.store.createBatch({ name: 'garbage', config: {}, provenance: {} });
  const fixture = await readFixture('vmstat', 'plain');
  const id = await loadFixture(t.store, fixture, { batchId, extraStdout: ['this is not vmstat', ' 1  0 0 12 x7 y'] });
  const report = await ensureParsed(t.store, 'vmstat', { batchId });
  const dataLines = fixture.stdout.filter((l) => /^\s*\d/.test(l)).length;
  assert.equal(report.rows, dataLines + 2);
  assert.equal(report.errors, 2);
  const bad = await t.store.query(`SELECT r, cs, parse_error FROM parsed.vmstat WHERE process_id = $1 AND parse_error`, [id]);
  assert.deepEqual(bad.rows.map((r) => [r[0], r[1]]), [[null, null], [null, null]]);
  const state = await t.store.query(`SELECT "rows", errors FROM parsed._state WHERE parser = 'vmstat' AND process_id = $1`, [id]);
  assert.deepEqual(state.rows[0]!.map(Number), [dataLines + 2, 2]);
});

test('a process killed mid-output: truncated line and cut JSON count as errors', async () => {
  const batchId = await t.store.createBatch({ name: 'killed', config: {}, provenance: {} });
  // vmstat killed in the middle of a line: the last line is cut short.
  const vmstat = await readFixture('vmstat', 'timestamped');
  const cut = vmstat.stdout.slice(0, 4);
  const half = vmstat.stdout[4]!.slice(0, 30);
  await loadFixture(t.store, { ...vmstat, stdout: [...cut, half] }, { batchId, status: 'killed' });
  const v = await ensureParsed(t.store, 'vmstat', { batchId });
  assert.equal(v.rows, 3);
  assert.equal(v.errors, 1);
  // fio JSON killed half way: the document does not parse; one error row, no exception.
  const fio = await readFixture('fio', 'json');
  const fioId = await loadFixture(t.store, fio, { batchId, truncateStdout: Math.floor(fio.stdout.length / 2), status: 'killed' });
  const f = await ensureParsed(t.store, 'fio', { batchId });
  assert.equal(f.errors, 1);
  assert.equal(await count(`SELECT count(*) FROM parsed.fio WHERE process_id = $1 AND bw_kibps IS NULL AND parse_error`, [fioId]), 1);
  // perf stat cut inside a line (after the interval): counted, not thrown.
  const perf = await readFixture('perf-stat', 'interval');
  const perfCut = { ...perf, stderr: [...perf.stderr.slice(0, 5), perf.stderr[5]!.slice(0, 17)] };
  await loadFixture(t.store, perfCut, { batchId, status: 'killed' });
  const p = await ensureParsed(t.store, 'perf-stat', { batchId });
  assert.equal(p.rows, 6);
  assert.equal(p.errors, 1);
  // A truncated run with no data at all parses to nothing, without error.
  await loadFixture(t.store, { ...vmstat, stdout: vmstat.stdout.slice(0, 2) }, { batchId, status: 'killed' });
  const again = await ensureParsed(t.store, 'vmstat', { batchId });
  assert.equal(again.parsedProcesses, 1);
  assert.equal(again.rows, 3);
});

test('adding a process parses only that process; cached ones are reused', async () => {
  const batchId = await t.store.createBatch({ name: 'incremental', config: {}, provenance: {} });
  const fixture = await readFixture('mpstat', 'all');
  const first = await loadFixture(t.store, fixture, { batchId });
  const r1 = await ensureParsed(t.store, 'mpstat', { batchId });
  assert.deepEqual([r1.parsedProcesses, r1.cachedProcesses], [1, 0]);
  const parsedAt = await t.store.query(`SELECT parsed_at FROM parsed._state WHERE parser = 'mpstat' AND process_id = $1`, [first]);
  const second = await loadFixture(t.store, fixture, { batchId, label: 'second' });
  const r2 = await ensureParsed(t.store, 'mpstat', { batchId });
  assert.deepEqual([r2.parsedProcesses, r2.cachedProcesses], [1, 1]);
  const after = await t.store.query(`SELECT parsed_at FROM parsed._state WHERE parser = 'mpstat' AND process_id = $1`, [first]);
  assert.deepEqual(after.rows, parsedAt.rows, 'the first process was not parsed again');
  assert.equal(await count(`SELECT count(*) FROM parsed.mpstat WHERE process_id = $1`, [second]), await count(`SELECT count(*) FROM parsed.mpstat WHERE process_id = $1`, [first]));
  const r3 = await ensureParsed(t.store, 'mpstat', { batchId });
  assert.deepEqual([r3.parsedProcesses, r3.cachedProcesses], [0, 2]);
});

test('a running process is parsed again once more lines arrive', async () => {
  const batchId = await t.store.createBatch({ name: 'running', config: {}, provenance: {} });
  const fixture = await readFixture('vmstat', 'plain');
  // One writer for the running process, as in a batch: its first lines are flushed and parsed, then more arrive (seq goes on).
  const id = await t.store.createProcess({ batchId, label: 'p', host: 'local', role: 'monitor', command: fixture.command });
  await t.store.updateProcess(id, { status: 'running', startedAt: Date.now() });
  const writer = t.store.lineWriter();
  for (const text of fixture.stdout.slice(0, 3)) writer.append(id, { stream: 'stdout', ts: Date.now(), bytes: Buffer.from(text) });
  await writer.flush();
  assert.equal((await ensureParsed(t.store, 'vmstat', { batchId })).rows, 1);
  for (const text of fixture.stdout.slice(3)) writer.append(id, { stream: 'stdout', ts: Date.now(), bytes: Buffer.from(text) });
  await writer.close();
  await t.store.updateProcess(id, { status: 'exited', exitCode: 0, endedAt: Date.now() });
  const report = await ensureParsed(t.store, 'vmstat', { batchId });
  assert.equal(report.parsedProcesses, 1);
  assert.equal(report.rows, fixture.stdout.length - 2);
  assert.equal(await count(`SELECT count(*) FROM parsed.vmstat WHERE process_id = $1 AND since_boot`, [id]), 1);
  assert.equal((await ensureParsed(t.store, 'vmstat', { batchId })).parsedProcesses, 0);
});

test('changing a parser version re-parses every process with the new definition', async () => {
  const batchId = await t.store.createBatch({ name: 'versions', config: {}, provenance: {} });
  const fixture = await readFixture('dd', 'write');
  await loadFixture(t.store, fixture, { batchId });
  await loadFixture(t.store, fixture, { batchId, label: 'b' });
  const dd = builtinParsers().find((p) => p.name === 'dd')!;
  const v1 = new ParserRegistry([dd]);
  const r1 = await ensureParsed(t.store, 'dd', { batchId, registry: v1 });
  assert.equal(r1.parsedProcesses, 2);
  assert.equal((await ensureParsed(t.store, 'dd', { batchId, registry: v1 })).parsedProcesses, 0);
  // Version 2 adds a column: the table is rebuilt and both processes re-parsed.
  const v2def: ParserDefinition = { ...dd, version: 'test-2', sql: (src) => `SELECT *, bytes / 1024 AS kib FROM (${dd.sql(src)})` };
  const r2 = await ensureParsed(t.store, 'dd', { batchId, registry: new ParserRegistry([v2def]) });
  assert.equal(r2.parsedProcesses, 2);
  assert.equal(r2.cachedProcesses, 0);
  const kib = await t.store.query(`SELECT DISTINCT kib FROM parsed.dd`);
  assert.deepEqual(kib.rows.map((r) => Number(r[0])), [16384]);
  const versions = await t.store.query(`SELECT DISTINCT version FROM parsed._state WHERE parser = 'dd'`);
  assert.deepEqual(versions.rows, [['test-2']]);
  // Back to the built-in version: re-parsed again, the extra column is gone.
  const r3 = await ensureParsed(t.store, 'dd', { batchId, registry: v1 });
  assert.equal(r3.parsedProcesses, 2);
  const cols = await t.store.query(`SELECT column_name FROM duckdb_columns() WHERE schema_name = 'parsed' AND table_name = 'dd'`);
  assert.ok(!cols.rows.some((r) => r[0] === 'kib'));
});

test('a process names its parser in the parser column even when the program is unknown', async () => {
  const batchId = await t.store.createBatch({ name: 'named', config: {}, provenance: {} });
  const fixture = await readFixture('vmstat', 'plain');
  await loadFixture(t.store, fixture, { batchId, command: './collect-stats.sh', parser: 'vmstat' });
  await loadFixture(t.store, fixture, { batchId, command: './collect-stats.sh', label: 'unnamed' });
  const report = await ensureParsed(t.store, 'vmstat', { batchId });
  assert.equal(report.parsedProcesses, 1);
});

test('concurrent parse requests on one store are serialised, not interleaved', async () => {
  const batchId = await t.store.createBatch({ name: 'concurrent', config: {}, provenance: {} });
  await loadFixture(t.store, await readFixture('vmstat', 'plain'), { batchId });
  await loadFixture(t.store, await readFixture('mpstat', 'all'), { batchId });
  await loadFixture(t.store, await readFixture('iostat', 'extended'), { batchId });
  const [a, b, c, again] = await Promise.all([
    ensureParsed(t.store, 'vmstat', { batchId }),
    ensureParsed(t.store, 'mpstat', { batchId }),
    ensureParsed(t.store, 'iostat', { batchId }),
    ensureParsed(t.store, 'vmstat', { batchId }),
  ]);
  assert.deepEqual([a.parsedProcesses, b.parsedProcesses, c.parsedProcesses, again.parsedProcesses], [1, 1, 1, 0]);
  assert.equal(again.rows, a.rows);
});

test('a parse raises DuckDB memory to the parse limit and restores the store cap after', async () => {
  const limitNow = async () => String((await t.store.query(`SELECT current_setting('memory_limit')`)).rows[0]![0]);
  const before = await limitNow();
  assert.ok(sizeInBytes(before)! < sizeInBytes(parseMemoryLimit())!, `a writable test store starts under the parse limit (${before})`);
  const batchId = await t.store.createBatch({ name: 'memory', config: {}, provenance: {} });
  await loadFixture(t.store, await readFixture('vmstat', 'plain'), { batchId });
  // A parser whose rows record the limit in force while its SQL ran.
  const probe: ParserDefinition = {
    name: 'memory-probe', version: '1', description: 'records the memory limit while parsing', programs: ['vmstat'], columns: [],
    sql: (src) => `SELECT process_id, seq, ts AS line_ts, current_setting('memory_limit') AS memory_limit, false AS parse_error FROM ${src}`,
  };
  const registry = new ParserRegistry([...builtinParsers().filter((p) => p.name !== 'vmstat'), probe]);
  await ensureParsed(t.store, 'memory-probe', { batchId, registry });
  const during = await t.store.query(`SELECT DISTINCT memory_limit FROM parsed."memory-probe"`);
  assert.equal(during.rows.length, 1);
  assert.ok(sizeInBytes(String(during.rows[0]![0]))! >= sizeInBytes(parseMemoryLimit())! * 0.99, `limit during the parse: ${during.rows[0]![0]}`);
  assert.equal(await limitNow(), before);
  assert.equal(sizeInBytes('488.2 MiB'), 488.2 * 1024 * 1024);
  assert.equal(sizeInBytes('4GB'), 4e9);
  assert.equal(sizeInBytes('lots'), undefined);
  assert.throws(() => parseMemoryLimit({ EXPERT_MINE_MEMORY_LIMIT: 'lots' }), /EXPERT_MINE_MEMORY_LIMIT='lots' is not a size/);
});

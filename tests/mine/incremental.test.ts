// Incremental parsing of running processes (issue 14 item 2): a line-local parser (vmstat, perf-stat) reads only the
// lines above its watermark; a row parsed before is not parsed again. A block parser (mpstat) parses the process again.
// Either way the table ends equal to a parse from scratch of the finished process.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureParsed } from '../../src/mine/engine.js';
import { ParserRegistry } from '../../src/mine/registry.js';
import { builtinParsers } from '../../src/mine/parsers/index.js';
import type { OutputLine } from '../../src/batch/executor.js';
import { readFixture, tempStore, type TempStore } from './helpers.js';

let t: TempStore;
before(async () => (t = await tempStore()));
after(async () => t.cleanup());

async function rowsOf(sql: string, params: unknown[] = []): Promise<unknown[][]> {
  return (await t.store.query(sql, params)).rows;
}

/** A running process whose lines come in two parts through one writer (as in a batch), parsed after each part. */
async function twoParts(parser: string, fixtureName: string, variant: string, stream: 'stdout' | 'stderr', cut: number, column: string) {
  const fixture = await readFixture(fixtureName, variant);
  const lines = fixture[stream];
  const batchId = await t.store.createBatch({ name: `${parser}-${variant}`, config: {}, provenance: {} });
  const id = await t.store.createProcess({ batchId, label: 'm', host: 'local', role: 'monitor', command: fixture.command });
  await t.store.updateProcess(id, { status: 'running', startedAt: Date.now() });
  const writer = t.store.lineWriter();
  const line = (text: string): OutputLine => ({ stream, ts: Date.now(), bytes: Buffer.from(text) });
  for (const text of lines.slice(0, cut)) writer.append(id, line(text));
  await writer.flush();
  const first = await ensureParsed(t.store, parser, { batchId });
  const table = `parsed."${parser}"`;
  const [[seq]] = (await rowsOf(`SELECT min(seq) FROM ${table} WHERE process_id = $1 AND NOT parse_error`, [id])) as [[number]];
  // Mark a row parsed in the first round (a figure no tool prints): a parse that reads its line again puts the real one back.
  const [[original]] = await rowsOf(`SELECT "${column}" FROM ${table} WHERE process_id = $1 AND seq = $2`, [id, seq]);
  await t.store.connection.run(`UPDATE ${table} SET "${column}" = -12345 WHERE process_id = ${id} AND seq = ${seq}`);
  const [[watermark]] = (await rowsOf(`SELECT watermark FROM parsed._state WHERE parser = $1 AND process_id = $2`, [parser, id])) as [[number]];
  for (const text of lines.slice(cut)) writer.append(id, line(text));
  await writer.close();
  await t.store.updateProcess(id, { status: 'exited', exitCode: 0, endedAt: Date.now() });
  const second = await ensureParsed(t.store, parser, { batchId });
  const [[value]] = await rowsOf(`SELECT "${column}" FROM ${table} WHERE process_id = $1 AND seq = $2`, [id, seq]);
  const marked = value === -12345;
  // Put the real figure back, to compare with a parse from scratch.
  await t.store.connection.run(`UPDATE ${table} SET "${column}" = ${Number(original)} WHERE process_id = ${id} AND seq = ${seq}`);
  const [[top]] = (await rowsOf(`SELECT watermark FROM parsed._state WHERE parser = $1 AND process_id = $2`, [parser, id])) as [[number]];
  return { batchId, id, first, second, marked, watermark, top, lines: lines.length, table, seq };
}

/** The table's rows of one process, as a parse from scratch (another version of the same parser) gives them. */
async function fromScratch(parser: string, batchId: number, id: number, table: string): Promise<{ incremental: unknown[][]; scratch: unknown[][] }> {
  const columns = '*';
  const incremental = await rowsOf(`SELECT ${columns} FROM ${table} WHERE process_id = $1 ORDER BY seq`, [id]);
  const def = builtinParsers().find((p) => p.name === parser)!;
  await ensureParsed(t.store, parser, { batchId, registry: new ParserRegistry([{ ...def, version: `${def.version}-scratch` }]) });
  const scratch = await rowsOf(`SELECT ${columns} FROM ${table} WHERE process_id = $1 ORDER BY seq`, [id]);
  return { incremental, scratch };
}

test('vmstat: the second parse reads only the lines above the watermark; the result equals a parse from scratch', async () => {
  const r = await twoParts('vmstat', 'vmstat', 'header-repeat', 'stdout', 10, 'cs');
  assert.equal(r.watermark, 9, 'the first parse covered lines 0..9');
  assert.equal(r.top, r.lines - 1, 'the second covered the rest');
  assert.equal(r.marked, true, 'a row of the first part was not parsed again');
  assert.ok(r.second.rows > r.first.rows);
  const { incremental, scratch } = await fromScratch('vmstat', r.batchId, r.id, r.table);
  assert.ok(incremental.length > 0);
  assert.deepEqual(incremental, scratch);
});

test('perf-stat -I: incremental too, equal to a parse from scratch', async () => {
  const r = await twoParts('perf-stat', 'perf-stat', 'interval', 'stderr', 4, 'value');
  assert.equal(r.marked, true);
  assert.equal(r.top, r.lines - 1);
  const { incremental, scratch } = await fromScratch('perf-stat', r.batchId, r.id, r.table);
  assert.ok(incremental.length > 0);
  assert.deepEqual(incremental, scratch);
});

test('mpstat (blocks under headers): a running process is parsed again in full', async () => {
  const r = await twoParts('mpstat', 'mpstat', 'all', 'stdout', 8, 'pct_usr');
  assert.equal(r.marked, false, 'the first part was parsed again');
  assert.equal(r.top, r.lines - 1);
  const { incremental, scratch } = await fromScratch('mpstat', r.batchId, r.id, r.table);
  assert.deepEqual(incremental, scratch);
});

/**
 * Run summary over a batch with a workload and monitors, Arquero/danfo interop,
 * Parquet export read back, and the `expert mine` CLI verbs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { runSummary } from '../../src/mine/summary.js';
import { parsedToArquero, toArquero, toDanfo } from '../../src/mine/interop.js';
import { exportParquet } from '../../src/mine/export.js';
import { loadFixture, readFixture, tempStore, type TempStore } from './helpers.js';

const run = promisify(execFile);
let t: TempStore;
let batchId: number;
let workload: number;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

before(async () => {
  t = await tempStore();
  batchId = await t.store.createBatch({ name: 'summary', config: {}, provenance: {} });
  // vmstat beside the workload on the same host: lines 1 s apart from T0.
  await loadFixture(t.store, await readFixture('vmstat', 'plain'), { batchId, label: 'vmstat', startedAt: T0 });
  await loadFixture(t.store, await readFixture('perf-stat', 'interval-per-cpu'), { batchId, label: 'perf', startedAt: T0 });
  // vmstat inside guest vm1 (the workload's guest) and inside vm2 (another guest): only vm1's counts, as guest_*.
  // (vm2 prints other figures: mixing it in would change the average.)
  for (const [vm, variant] of [['vm1', 'plain'], ['vm2', 'timestamped']] as const) {
    const fixture = await readFixture('vmstat', variant);
    const id = await t.store.createProcess({ batchId, label: `vmstat-${vm}`, host: 'local', vm, role: 'monitor', command: fixture.command });
    const w = t.store.lineWriter();
    fixture.stdout.forEach((text, i) => w.append(id, { stream: 'stdout', ts: T0 + 1000 * i, bytes: Buffer.from(text) }));
    await w.close();
    await t.store.updateProcess(id, { status: 'exited', exitCode: 0, startedAt: T0, endedAt: T0 + 10_000 });
  }
  // The workload ran from T0+2.5 s to T0+4.5 s: only monitor lines in that window count.
  const dd = await readFixture('dd', 'write');
  workload = await t.store.createProcess({ batchId, label: 'dd', host: 'local', vm: 'vm1', role: 'workload', command: dd.command, params: { bs: '1M' }, policy: 'baseline', rep: 1 });
  const writer = t.store.lineWriter();
  dd.stderr.forEach((text, i) => writer.append(workload, { stream: 'stderr', ts: T0 + 3000 + i, bytes: Buffer.from(text) }));
  await writer.close();
  await t.store.updateProcess(workload, { status: 'exited', exitCode: 0, startedAt: T0 + 2500, endedAt: T0 + 4500 });
});

after(async () => {
  await t?.cleanup();
});

test('run summary: workload figures and monitors averaged over its own window', async () => {
  const vmstat = (await readFixture('vmstat', 'plain')).stdout;
  const perf = (await readFixture('perf-stat', 'interval-per-cpu')).stderr;
  const summary = await runSummary(t.store, { batchId });
  assert.equal(summary.rows.length, 1);
  const row = Object.fromEntries(summary.columns.map((c, i) => [c, summary.rows[0]![i]]));
  assert.equal(row.policy, 'baseline');
  assert.equal(row.rep, 1);
  assert.equal(row.label, 'dd');
  // The rate from dd's bytes and seconds (printed in full), not its rounded printed rate.
  const line = (await readFixture('dd', 'write')).stderr.find((l) => l.includes('copied'))!;
  const [, bytes, seconds] = /^(\d+) bytes.*copied, ([\d.e+-]+) s/.exec(line)!;
  assert.equal(row.dd_rate_bps, Number(bytes) / Number(seconds));
  // vmstat lines have seq i at T0 + i s; window [2.5 s, 4.5 s] holds seq 3 and 4 (data rows 2 and 3).
  const cs = (i: number) => Number(vmstat[i]!.trim().split(/\s+/)[11]);
  assert.equal(row.vmstat_cs, (cs(3) + cs(4)) / 2);
  assert.equal(row.guest_vmstat_cs, (cs(3) + cs(4)) / 2, "the workload's own guest monitor, kept apart from the host's");
  assert.equal(row.guest, 'vm1');
  // perf lines 3 and 4 are in the window: one cpu-migrations and one context-switches figure.
  assert.equal(row.perf_context_switches, Number(perf[4]!.split(',')[2]));
  assert.equal(row.perf_cpu_migrations, Number(perf[3]!.split(',')[2]));
});

test('toArquero and toDanfo receive columns of the query', async () => {
  const sql = `SELECT process_id, cs, us FROM parsed.vmstat WHERE process_id = (SELECT min(process_id) FROM process WHERE label = 'vmstat') ORDER BY seq`;
  const table = await toArquero(t.store, sql);
  const plain = (await readFixture('vmstat', 'plain')).stdout.filter((l) => /^\s*\d/.test(l));
  assert.equal(table.numRows(), plain.length);
  assert.deepEqual(table.array('cs'), plain.map((l) => Number(l.trim().split(/\s+/)[11])));
  const { table: parsed, report } = await parsedToArquero(t.store, 'vmstat', { batchId });
  assert.equal(parsed.numRows(), report.rows);
  assert.equal(report.rows, 3 * plain.length);
  const frame = (await toDanfo(t.store, sql)) as { shape: number[]; columns: string[] };
  assert.deepEqual(frame.shape, [plain.length, 3]);
  assert.deepEqual(frame.columns, ['process_id', 'cs', 'us']);
});

test('Parquet export of a batch reads back with the same rows', async () => {
  const dir = join(t.dir, 'parquet');
  const files = await exportParquet(t.store, dir, { batchId });
  const byTable = Object.fromEntries(files.map((f) => [f.table, f]));
  for (const table of ['batch', 'process', 'line', 'tuning', 'parsed_vmstat', 'parsed_dd', 'parsed_perf-stat']) assert.ok(byTable[table], table);
  const lines = await t.store.query(`SELECT count(*) FROM line WHERE process_id IN (SELECT process_id FROM process WHERE batch_id = $1)`, [batchId]);
  assert.equal(byTable.line!.rows, Number(lines.rows[0]![0]));
  const back = await t.store.query(`SELECT sum(cs) FROM read_parquet('${byTable.parsed_vmstat!.file}')`);
  const orig = await t.store.query(`SELECT sum(cs) FROM parsed.vmstat`);
  assert.equal(Number(back.rows[0]![0]), Number(orig.rows[0]![0]));
});

test('CLI: mine parsers, parse, sql, summary, export', async () => {
  await t.store.close();
  const store = join(t.dir, 'test.duckdb');
  const cli = async (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mine', ...args], { cwd: new URL('../../', import.meta.url).pathname });
  const parsers = JSON.parse((await cli('parsers', '--format', 'json')).stdout) as { parser: string }[];
  assert.ok(['vmstat', 'iozone', 'fio', 'perf-stat', 'dd', 'sar', 'sadf', 'iostat', 'mpstat', 'pidstat'].every((p) => parsers.some((x) => x.parser === p)));
  const parse = await cli('parse', 'vmstat', '--batch', String(batchId), '--store', store, '--format', 'csv');
  assert.match(parse.stderr, /parsed\.vmstat \(version \d+\): parsed 0 process(?:\(es\)|es), 3 cached/);
  assert.equal(parse.stdout.trim().split('\n')[0]!.split(',').slice(0, 5).join(','), 'process_id,seq,line_ts,ts,r');
  const sql = await cli('sql', 'SELECT count(*) AS n FROM parsed.dd', '--store', store, '--format', 'json');
  assert.deepEqual(JSON.parse(sql.stdout), [{ n: 1 }]);
  const summary = await cli('summary', '--store', store, '--format', 'json');
  assert.equal((JSON.parse(summary.stdout) as unknown[]).length, 1);
  const out = join(t.dir, 'cli-parquet');
  const exported = await cli('export', '--parquet', out, '--batch', String(batchId), '--store', store, '--format', 'csv');
  assert.match(exported.stdout, /parsed_vmstat/);
  await assert.rejects(cli('parse', 'nope', '--store', store), (e: { code: number; stderr: string }) => e.code === 2 && /no parser named 'nope'/.test(e.stderr));
  await assert.rejects(cli('sql', 'SELEC 1', '--store', store), (e: { code: number; stderr: string }) => e.code === 2 && /SQL error/.test(e.stderr));
});

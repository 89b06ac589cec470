/**
 * The run summary keeps the precision the tools give: dd's rate from its bytes
 * and seconds (its printed rate has 2-3 digits, so repetitions tie), durations
 * to the microsecond, and monitors' since-boot rows (vmstat's first row,
 * iostat's first report) left out of the averages over a run's window.
 * Real captured fixtures in a real store.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runSummary } from '../../src/mine/summary.js';
import { fields, readFixture, tempStore, type Fixture, type TempStore } from './helpers.js';

let t: TempStore;
let batchId: number;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A process whose stdout (monitors) or stderr (dd) lines arrive 1 s apart from `start`. */
async function load(fixture: Fixture, options: { label: string; role: 'workload' | 'monitor'; start: number; end: number; rep?: number }): Promise<number> {
  const id = await t.store.createProcess({ batchId, label: options.label, host: 'local', role: options.role, command: fixture.command, policy: 'baseline', ...(options.rep ? { rep: options.rep } : {}) });
  const writer = t.store.lineWriter();
  [...fixture.stdout, ...fixture.stderr].forEach((text, i) => writer.append(id, { stream: options.role === 'workload' ? 'stderr' : 'stdout', ts: options.start + 1000 * i, bytes: Buffer.from(text) }));
  await writer.close();
  await t.store.updateProcess(id, { status: 'exited', exitCode: 0, startedAt: options.start, endedAt: options.end });
  return id;
}

function summaryRows(result: { columns: string[]; rows: unknown[][] }): Record<string, unknown>[] {
  return result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i]])));
}

before(async () => {
  t = await tempStore();
  batchId = await t.store.createBatch({ name: 'precision', config: {}, provenance: {} });
  // Three dd runs (the captured write, read and small transfers), each with a window that is not a whole second.
  for (const [rep, variant] of (['write', 'read', 'small'] as const).entries()) {
    await load(await readFixture('dd', variant), { label: `dd-${variant}`, role: 'workload', start: T0 + 100_000 * rep + 300, end: T0 + 100_000 * rep + 200_000 + 700, rep: rep + 1 });
  }
  // Monitors over the first run's window [T0+0.3 s, T0+200.7 s]: every line they printed is inside it.
  await load(await readFixture('iostat', 'extended'), { label: 'iostat', role: 'monitor', start: T0 + 1000, end: T0 + 50_000 });
  await load(await readFixture('vmstat', 'no-first'), { label: 'vmstat', role: 'monitor', start: T0 + 1000, end: T0 + 50_000 });
});

after(async () => {
  await t?.cleanup();
});

test('dd_rate_bps is bytes / seconds for each run, not the rounded printed rate', async () => {
  const rows = summaryRows(await runSummary(t.store, { batchId }));
  assert.equal(rows.length, 3);
  for (const row of rows) {
    const variant = String(row.label).replace('dd-', '');
    const line = (await readFixture('dd', variant)).stderr.find((l) => l.includes('copied'))!;
    const [, bytes, seconds, printed] = /^(\d+) bytes.*copied, ([\d.e+-]+) s, ([\d.]+) /.exec(line)!;
    assert.equal(row.dd_rate_bps, Number(bytes) / Number(seconds), `${variant}: bytes / seconds`);
    // What dd printed has at most 3 significant digits; the summary's figure has more.
    assert.ok(printed!.replace('.', '').replace(/^0+/, '').length <= 3, `${variant}: dd printed ${printed}`);
    assert.notEqual(Number((row.dd_rate_bps as number).toPrecision(3)), row.dd_rate_bps, `${variant}: more than 3 digits`);
  }
});

test('duration_s is exact to the microsecond', async () => {
  const rows = summaryRows(await runSummary(t.store, { batchId }));
  // Every run lasted 200.4 s (from x.3 s to x.7 s): epoch() doubles would give 200.4000000954.
  for (const row of rows) assert.equal(row.duration_s, 200.4, String(row.label));
});

test("monitor averages leave out iostat's since-boot first report, and keep vmstat -y's first row", async () => {
  const rows = summaryRows(await runSummary(t.store, { batchId }));
  const first = rows.find((r) => r.label === 'dd-write')!;
  // iostat -x 1 2: reports of an avg-cpu line and a vda line; only the second report is an interval.
  const iostat = (await readFixture('iostat', 'extended')).stdout;
  const cpuLines = iostat.map((l, i) => (l.startsWith('avg-cpu:') ? iostat[i + 1]! : null)).filter((l): l is string => l !== null);
  const vdaLines = iostat.filter((l) => l.startsWith('vda '));
  assert.equal(cpuLines.length, 2);
  assert.equal(first.iostat_pct_iowait, Number(fields(cpuLines[1]!)[3]));
  assert.equal(first.iostat_w_s, Number(fields(vdaLines[1]!)[7]));
  // vmstat -y: no since-boot row, so every printed row counts.
  const vmstat = (await readFixture('vmstat', 'no-first')).stdout.filter((l) => /^\s*\d/.test(l)).map(fields);
  assert.equal(vmstat.length, 3);
  assert.equal(first.vmstat_cs, vmstat.reduce((sum, f) => sum + Number(f[11]), 0) / vmstat.length);
});

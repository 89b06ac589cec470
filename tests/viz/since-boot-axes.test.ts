/**
 * Charts of monitor tables leave out the rows a monitor printed as averages
 * since boot (vmstat's first row, iostat's first report), unless the spec says
 * `since_boot: true`; and a line chart of two y columns of very different scale
 * puts the smaller one on its own y axis. Real captured fixtures, parsed by
 * Mine in a real DuckDB store, charted through the spec path `expert plot` uses.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { figureFromSpecText } from '../../src/viz/chart-data.js';
import { figureFromSpec } from '../../src/viz/chart.js';
import { parseChartSpec, chartSpecYaml } from '../../src/viz/spec.js';
import { timeSeriesFigure, typicalMagnitude } from '../../src/viz/timeseries.js';
import type { Figure, Trace } from '../../src/viz/figure.js';
import { ConfigError } from '../../src/errors.js';
import { ensureParsed } from '../../src/mine/engine.js';
import { fields, readFixture, tempStore, type TempStore } from '../mine/helpers.js';

let t: TempStore;
let batchId: number;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
/** vmstat's data rows per process, as printed. */
const vmstatRows = new Map<string, string[][]>();

before(async () => {
  t = await tempStore();
  batchId = await t.store.createBatch({ name: 'since-boot', config: {}, provenance: {} });
  // Two vmstat monitors on two hosts (each starts with its since-boot row) and an iostat monitor.
  for (const [host, variant] of [['node1', 'plain'], ['node2', 'header-repeat']] as const) {
    const fixture = await readFixture('vmstat', variant);
    vmstatRows.set(host, fixture.stdout.filter((l) => /^\s*\d/.test(l)).map(fields));
    await monitor(host, fixture.command, fixture.stdout);
  }
  const iostat = await readFixture('iostat', 'extended');
  await monitor('node1', iostat.command, iostat.stdout);
});

async function monitor(host: string, command: string, lines: string[]): Promise<void> {
  const id = await t.store.createProcess({ batchId, label: command.split(' ')[0]!, host, role: 'monitor', command });
  const writer = t.store.lineWriter();
  lines.forEach((text, i) => writer.append(id, { stream: 'stdout', ts: T0 + 1000 * i, bytes: Buffer.from(text) }));
  await writer.close();
  await t.store.updateProcess(id, { status: 'exited', exitCode: 0, startedAt: T0, endedAt: T0 + 1000 * lines.length });
}

after(async () => {
  await t?.cleanup();
});

const CS = 11; // vmstat's cs field
const byName = (figure: Figure, name: string): Trace => figure.data.find((d) => d.name === name)!;

test("a line chart of parsed.vmstat leaves out each process's since-boot first row", async () => {
  const { figure, data } = await figureFromSpecText(t.store, `data: {parser: vmstat, batch: ${batchId}}\nkind: line\nx: line_ts\ny: cs\ncolor: host\n`);
  for (const [host, rows] of vmstatRows) {
    assert.deepEqual(byName(figure, host).y, rows.slice(1).map((f) => Number(f[CS])), `${host}: samples only`);
  }
  assert.equal(data.columns.since_boot!.filter((v) => v === true).length, 0, 'chart data has no since-boot row');
});

test('since_boot: true keeps them', async () => {
  const { figure } = await figureFromSpecText(t.store, `data: {parser: vmstat, batch: ${batchId}}\nkind: line\nx: line_ts\ny: cs\ncolor: host\nsince_boot: true\n`);
  for (const [host, rows] of vmstatRows) assert.deepEqual(byName(figure, host).y, rows.map((f) => Number(f[CS])), host);
});

test("SQL data and iostat's first report: the since_boot column decides, whatever the source", async () => {
  await ensureParsed(t.store, 'iostat', { batchId });
  const { figure } = await figureFromSpecText(t.store, `data: {sql: "SELECT * FROM parsed.iostat WHERE kind = 'avg_cpu' ORDER BY seq"}\nkind: line\nx: line_ts\ny: pct_iowait\n`);
  const iostat = (await readFixture('iostat', 'extended')).stdout;
  const cpu = iostat.map((l, i) => (l.startsWith('avg-cpu:') ? Number(fields(iostat[i + 1]!)[3]) : null)).filter((v) => v !== null);
  assert.equal(cpu.length, 2);
  assert.deepEqual(figure.data[0]!.y, cpu.slice(1), 'the second report only: the first is since boot');
});

test('timeSeriesFigure drops rows marked since_boot unless sinceBoot: true', () => {
  const rows = { t: [0, 1, 2, 3], v: [500, 10, 12, 11], since_boot: [true, false, false, false] };
  assert.deepEqual(timeSeriesFigure(rows, { x: 't', y: 'v' }).data[0]!.y, [10, 12, 11]);
  assert.deepEqual(timeSeriesFigure(rows, { x: 't', y: 'v', sinceBoot: true }).data[0]!.y, [500, 10, 12, 11]);
});

test('two y columns more than 10x apart in typical size get two y axes; within 10x they share one', async () => {
  const rows = vmstatRows.get('node1')!.slice(1);
  const median = (i: number) => typicalMagnitude(rows.map((f) => Number(f[i])))!;
  const [cs, us, inter] = [median(CS), median(12), median(10)];
  assert.ok(cs / us > 10, `cs ${cs} and us ${us} differ by more than 10x in this capture`);
  assert.ok(cs / inter < 10 && inter / cs < 10, `cs ${cs} and in ${inter} are within 10x`);

  const spec = `data: {parser: vmstat, batch: ${batchId}}\nkind: line\nx: line_ts\ny: [cs, us]\ncolor: host\n`;
  const { figure } = await figureFromSpecText(t.store, spec);
  const layout = figure.layout as Record<string, { overlaying?: string; side?: string; title?: { text: string } }>;
  for (const trace of figure.data) assert.equal(trace.yaxis, String(trace.name).endsWith('· us') ? 'y2' : undefined, String(trace.name));
  assert.equal(layout.yaxis2!.overlaying, 'y');
  assert.equal(layout.yaxis2!.side, 'right');
  assert.equal(layout.yaxis2!.title!.text, 'User CPU (%)');
  assert.equal(layout.yaxis!.title!.text, 'Context switches (per s)');
  // The us line keeps its own values (only its axis changes).
  assert.deepEqual(byName(figure, 'node1 · us').y, rows.map((f) => Number(f[12])));

  const shared = (await figureFromSpecText(t.store, spec.replace('[cs, us]', '[cs, in]'))).figure;
  assert.ok(shared.data.every((d) => d.yaxis === undefined));
  assert.equal((shared.layout as Record<string, unknown>).yaxis2, undefined);
});

test('faceted line charts keep each panel its own second axis', async () => {
  const spec = parseChartSpec('data: {sql: "SELECT 1"}\nkind: line\nx: t\ny: [big, small]\nfacet: panel\n');
  const rows = { panel: ['a', 'a', 'b', 'b'], t: [0, 1, 0, 1], big: [1000, 1200, 900, 1100], small: [1, 2, 3, 2] };
  const figure = figureFromSpec(spec, rows);
  const layout = figure.layout as Record<string, { overlaying?: string; anchor?: string } | undefined>;
  const small = figure.data.filter((d) => d.name === 'small');
  assert.deepEqual(small.map((d) => d.yaxis), ['y3', 'y4']);
  assert.deepEqual([layout.yaxis3!.overlaying, layout.yaxis3!.anchor, layout.yaxis4!.overlaying, layout.yaxis4!.anchor], ['y', 'x', 'y2', 'x2']);
  assert.deepEqual(figure.data.filter((d) => d.name === 'big').map((d) => d.yaxis), ['y', 'y2']);
});

test("the spec's since_boot option: parsed, written back, and checked", () => {
  const spec = parseChartSpec('data: {parser: vmstat}\nkind: line\nx: line_ts\ny: cs\nsince_boot: true\n');
  assert.equal(spec.sinceBoot, true);
  assert.equal(parseChartSpec(chartSpecYaml(spec)).sinceBoot, true);
  assert.equal('sinceBoot' in parseChartSpec('data: {parser: vmstat}\nkind: line\nx: line_ts\ny: cs\n'), false);
  assert.throws(() => parseChartSpec('data: {parser: vmstat}\nkind: line\nx: line_ts\ny: cs\nsince_boot: yes please\n', 'c.yaml'),
    (e: unknown) => e instanceof ConfigError && /^c\.yaml:5:13: 'since_boot' must be true/.test(e.message));
});

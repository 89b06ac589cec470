import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import { scatterFigure } from '../../src/viz/scatter.js';
import { distributionFigure } from '../../src/viz/distribution.js';
import { timeSeriesFigure } from '../../src/viz/timeseries.js';
import { heatmapFigure, affinityFigure, parseCpuList, pivot } from '../../src/viz/heatmap.js';
import { facetFigure } from '../../src/viz/facet.js';
import { axisTitle } from '../../src/viz/axis-titles.js';
import { figureJson, PALETTE } from '../../src/viz/figure.js';
import type { LinearFit } from '../../src/viz/fit.js';

// Per-run table as a user would have it: policy, cache misses, write throughput.
const runs = {
  policy: ['baseline', 'baseline', 'baseline', 'baseline', 'pin', 'pin', 'pin', 'pin', 'pin'],
  misses: [100, 200, 300, 400, 150, 250, 350, 450, 550],
  write_kbps: [900, 810, 690, 610, 1000, 960, 890, 870, 790],
  rep: [0, 1, 2, 3, 0, 1, 2, 3, 4],
};

function ols(x: number[], y: number[]) {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b) / n, my = y.reduce((a, b) => a + b) / n;
  let sxy = 0, sxx = 0, syy = 0;
  x.forEach((xi, i) => { sxy += (xi - mx) * (y[i]! - my); sxx += (xi - mx) ** 2; syy += (y[i]! - my) ** 2; });
  return { slope: sxy / sxx, intercept: my - (sxy / sxx) * mx, r: sxy / Math.sqrt(sxx * syy) };
}

test('scatter: one marker trace per policy with its own rows, one fit line per policy', () => {
  const fig = scatterFigure(runs, { x: 'misses', y: 'write_kbps', color: 'policy', hover: ['rep'] });
  const markers = fig.data.filter((t) => t.mode === 'markers');
  const lines = fig.data.filter((t) => t.mode === 'lines');
  assert.deepEqual(markers.map((t) => t.name), ['baseline', 'pin']);
  assert.deepEqual(markers[0]!.x, [100, 200, 300, 400]);
  assert.deepEqual(markers[1]!.y, [1000, 960, 890, 870, 790]);
  assert.deepEqual(markers[1]!.customdata, [[0], [1], [2], [3], [4]]);
  assert.equal(lines.length, 2);
  for (const [i, policy] of ['baseline', 'pin'].entries()) {
    const rows = runs.policy.map((p, k) => (p === policy ? k : -1)).filter((k) => k >= 0);
    const x = rows.map((k) => runs.misses[k]!), y = rows.map((k) => runs.write_kbps[k]!);
    const want = ols(x, y);
    const fit = (lines[i]!.meta as { fit: LinearFit }).fit;
    assert.ok(Math.abs(fit.slope - want.slope) < 1e-9);
    assert.ok(Math.abs(fit.intercept - want.intercept) < 1e-9);
    assert.ok(Math.abs(fit.r - want.r) < 1e-12);
    // the line spans the group's x range on the fitted values
    assert.deepEqual(lines[i]!.x, [Math.min(...x), Math.max(...x)]);
    assert.ok(Math.abs((lines[i]!.y as number[])[1]! - (want.intercept + want.slope * Math.max(...x))) < 1e-9);
    // r and p are shown in the legend, and the colour matches the markers
    assert.match(String(lines[i]!.name), new RegExp(`^${policy} fit: r = -[01]\\.\\d\\d, p = [0-9.e-]+, n = ${rows.length}$`));
    assert.equal((lines[i]!.line as { color: string }).color, (markers[i]!.marker as { color: string }).color);
  }
  const layout = fig.layout as { xaxis: { title: { text: string } }; yaxis: { title: { text: string } } };
  assert.equal(layout.yaxis.title.text, 'Write throughput (KiB/s)');
  assert.equal(layout.xaxis.title.text, 'misses');
});

test('scatter from an Arquero table, one fit over all points, colours by category order', () => {
  const fig = scatterFigure(aq.table(runs), { x: 'misses', y: 'write_kbps', color: 'policy', fit: 'all', categories: ['pin', 'baseline'] });
  assert.deepEqual(fig.data.map((t) => t.name?.split(':')[0]), ['pin', 'baseline', 'OLS fit (all points)']);
  assert.equal((fig.data[0]!.marker as { color: string }).color, PALETTE[0]);
  const fit = (fig.data[2]!.meta as { fit: LinearFit }).fit;
  const want = ols(runs.misses, runs.write_kbps);
  assert.ok(Math.abs(fit.slope - want.slope) < 1e-9 && Math.abs(fit.r - want.r) < 1e-12);
  assert.equal(fit.n, 9);
  // the JSON form is valid and carries the same numbers
  const back = JSON.parse(figureJson(fig));
  assert.equal(back.data[2].meta.fit.n, 9);
});

test('scatter: a missing column is a clear user error naming the columns', () => {
  assert.throws(() => scatterFigure(runs, { x: 'nope', y: 'write_kbps' }), /x column 'nope' is not in the data; columns are: policy, misses, write_kbps, rep/);
});

test('box and violin: one trace per policy with all its values and every point drawn', () => {
  const rows = runs.policy.map((policy, i) => ({ policy, write_kbps: runs.write_kbps[i] }));
  const box = distributionFigure(rows, { y: 'write_kbps', color: 'policy' });
  assert.deepEqual(box.data.map((t) => [t.type, t.name, t.y]), [
    ['box', 'baseline', [900, 810, 690, 610]],
    ['box', 'pin', [1000, 960, 890, 870, 790]],
  ]);
  assert.equal(box.data[0]!.boxpoints, 'all');
  assert.equal((box.layout as { xaxis: { title: { text: string } } }).xaxis.title.text, 'Policy');
  const violin = distributionFigure(rows, { y: 'write_kbps', color: 'policy', kind: 'violin' });
  assert.deepEqual(violin.data.map((t) => t.type), ['violin', 'violin']);
  assert.equal(violin.data[1]!.points, 'all');
});

test('time series: lines sorted by time per host, each workload window shaded', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const ts = [3, 1, 2, 0, 0, 1, 2, 3].map((s) => new Date(t0 + s * 1000));
  const data = { ts, host: ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'], cs: [13, 11, 12, 10, 20, 21, 22, 23] };
  const fig = timeSeriesFigure(data, {
    x: 'ts', y: 'cs', color: 'host',
    windows: [{ start: new Date(t0 + 1000), end: new Date(t0 + 2000), label: 'run 0 <pin>', group: 'pin' }, { start: new Date(t0 + 2500), end: new Date(t0 + 3000), group: 'baseline' }],
  });
  assert.deepEqual(fig.data.map((t) => t.name), ['a', 'b']);
  assert.deepEqual(fig.data[0]!.y, [10, 11, 12, 13]);
  assert.equal((fig.data[0]!.x as string[])[0], new Date(t0).toISOString());
  const shapes = fig.layout.shapes as { x0: string; x1: string; yref: string; fillcolor: string }[];
  assert.equal(shapes.length, 2);
  assert.equal(shapes[0]!.x0, new Date(t0 + 1000).toISOString());
  assert.equal(shapes[0]!.yref, 'paper');
  assert.notEqual(shapes[0]!.fillcolor, shapes[1]!.fillcolor);
  const notes = fig.layout.annotations as { text: string }[];
  assert.deepEqual(notes.map((n) => n.text), ['run 0 &lt;pin&gt;']);
  assert.equal((fig.layout as { yaxis: { title: { text: string } } }).yaxis.title.text, 'Context switches (per s)');
});

test('heatmap pivots z over x and y with the mean; numeric keys sort numerically', () => {
  const data = { tid: ['t1', 't1', 't2', 't1', 't2'], second: [10, 2, 2, 2, 10], cpu_pct: [50, 20, 80, 40, 10] };
  const p = pivot(data, 'second', 'tid', 'cpu_pct');
  assert.deepEqual(p, { x: ['2', '10'], y: ['t1', 't2'], z: [[30, 50], [80, 10]] });
  const fig = heatmapFigure(data, { x: 'second', y: 'tid', z: 'cpu_pct', agg: 'max' });
  assert.deepEqual(fig.data[0]!.z, [[40, 50], [80, 10]]);
  assert.equal(fig.data[0]!.type, 'heatmap');
});

test('affinity heatmap marks allowed CPUs per thread', () => {
  assert.deepEqual(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  assert.throws(() => parseCpuList('0-x'), /'0-x' is not a CPU number or range/);
  const fig = affinityFigure([{ thread: 'vm1 vcpu0', cpus: '0' }, { thread: 'vm1 vcpu1', cpus: [1, 3] }], { cpuCount: 4 });
  assert.deepEqual(fig.data[0]!.z, [[1, 0, 0, 0], [0, 1, 0, 1]]);
  assert.deepEqual(fig.data[0]!.x, [0, 1, 2, 3]);
});

test('facets: one subplot per value, traces on their own axes, legend once per policy', () => {
  const data = { ...runs, size: ['16m', '64m', '16m', '64m', '16m', '64m', '16m', '64m', '16m'] };
  const fig = facetFigure(data, 'size', (slice) => scatterFigure(slice, { x: 'misses', y: 'write_kbps', color: 'policy', fit: 'none' }));
  assert.deepEqual(fig.data.map((t) => [t.name, t.xaxis, t.showlegend]), [
    ['baseline', 'x', true], ['pin', 'x', true], ['baseline', 'x2', false], ['pin', 'x2', false],
  ]);
  assert.deepEqual(fig.data[2]!.x, [200, 400]);
  assert.ok(fig.layout.xaxis2 && fig.layout.yaxis2);
  assert.deepEqual((fig.layout.annotations as { text: string }[]).map((a) => a.text), ['size: 16m', 'size: 64m']);
  // with fits: a panel's line keeps its legend entry, named after its panel; groups of fewer than 3 points get no line
  const fitted = facetFigure(data, 'size', (slice) => scatterFigure(slice, { x: 'misses', y: 'write_kbps', color: 'policy' }));
  const fitNames = fitted.data.filter((t) => t.mode === 'lines').map((t) => [String(t.name).split(':')[0], t.showlegend]);
  assert.deepEqual(fitNames, [['16m · pin fit', true]], 'pin at 16m has 3 points; the other groups have 2');
});

test('axis titles carry units', () => {
  assert.equal(axisTitle('bw_kibps'), 'Bandwidth (KiB/s)');
  assert.equal(axisTitle('pct_util'), 'Util (%)');
  assert.equal(axisTitle('await_ms'), 'Await (ms)');
  assert.equal(axisTitle('mean_cs'), 'Mean context switches (per s)');
  assert.equal(axisTitle('frobs'), 'frobs');
});

test('axis titles of run-summary figures name the tool and the unit', () => {
  assert.equal(axisTitle('iozone_write_kbps'), 'iozone write throughput (KiB/s)');
  assert.equal(axisTitle('vmstat_cs'), 'vmstat context switches (per s)');
  assert.equal(axisTitle('perf_cache_misses'), 'perf cache misses (per s)');
  assert.equal(axisTitle('perf_context_switches'), 'perf context switches (per s)');
  assert.equal(axisTitle('perf_l2_rqsts_miss'), 'perf L2 misses (per s)');
  assert.equal(axisTitle('fio_write_bw_kibps'), 'fio write bw (KiB/s)');
  assert.equal(axisTitle('perf_foo'), 'perf foo');
});

test('report tables: one-batch columns and raw params JSON are dropped when redundant; cells are escaped', async () => {
  const { withoutRedundantColumns, tableHtml } = await import('../../src/viz/report.js');
  const t = withoutRedundantColumns({
    columns: ['batch_id', 'batch', 'policy', 'params', 'size'],
    rows: [[1, 'b', '<x>', '{"size":"16m"}', '16m'], [1, 'b', 'y', '{"size":"64m"}', '64m']],
  });
  assert.deepEqual(t.columns, ['policy', 'size']);
  assert.match(tableHtml(t, ''), /<td>&lt;x&gt;<\/td>/);
  const kept = withoutRedundantColumns({ columns: ['batch', 'params'], rows: [['a', '{"n":1}'], ['b', '{"n":2}']] });
  assert.deepEqual(kept.columns, ['batch', 'params']);
});

test('per-thread CPU cells: seconds, thread labels, only the busiest threads', async () => {
  const { threadCpuCells } = await import('../../src/viz/standard-charts.js');
  const t = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms);
  const cells = threadCpuCells(
    { line_ts: [t(10), t(20), t(1010), t(1020), t(30)], command: ['qemu', '|__fio', 'qemu', '|__fio', 'idle'], tid: [7, 8, 7, 8, 9], pct_cpu: [90, 20, 70, 40, 1] },
    2,
  );
  assert.deepEqual(cells, {
    time: ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:01.000Z'],
    thread: ['qemu 7', 'fio 8', 'qemu 7', 'fio 8'],
    pct_cpu: [90, 20, 70, 40],
  });
});

test('affinity from tuning rows: the last CPU set per policy and thread, from after.cpus as Tune records it', async () => {
  const { affinityOf } = await import('../../src/viz/report-data.js');
  const rows = [
    { policy: 'pin-one', host: 'node1', guest: 'vm1', thread_kind: 'vcpu', tid: 11, action: 'pin', after: JSON.stringify({ cpus: '0-1', requested: { cpus: [0, 1] } }) },
    { policy: 'pin-one', host: 'node1', guest: 'vm1', thread_kind: 'vcpu', tid: 11, action: 'pin', after: JSON.stringify({ cpus: '0', requested: { cpus: [0] } }) },
    { policy: 'pin-one', host: 'node1', guest: 'vm1', thread_kind: 'io', tid: 12, action: 'nice', after: JSON.stringify({ nice: 5 }) },
    { policy: 'spread', host: 'node1', guest: 'vm1', thread_kind: 'vcpu', tid: 11, action: 'pin', after: { cpus: '1' } },
  ];
  assert.deepEqual(affinityOf(rows), [
    { thread: 'pin-one · node1/vm1 vcpu 11', cpus: '0' },
    { thread: 'spread · node1/vm1 vcpu 11', cpus: '1' },
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChartSpec, chartSpecYaml } from '../../src/viz/spec.js';
import { figureFromSpec } from '../../src/viz/chart.js';
import { ConfigError } from '../../src/errors.js';
import type { LinearFit } from '../../src/viz/fit.js';

test('a full spec parses, and writing it back gives the same spec', () => {
  const text = `title: Throughput against context switches
data:
  runs: true
  batch: 3
kind: scatter
x: vmstat_cs
y: iozone_write_kbps
colour: policy
facet: size
fit: all
hover: [label, rep]
height: 500
`;
  const spec = parseChartSpec(text, 'c.yaml');
  assert.deepEqual(spec, {
    title: 'Throughput against context switches', data: { runs: true, batch: 3 }, kind: 'scatter', x: 'vmstat_cs', y: 'iozone_write_kbps',
    z: undefined, color: 'policy', facet: 'size', fit: 'all', hover: ['label', 'rep'], height: 500,
  });
  assert.deepEqual(parseChartSpec(chartSpecYaml(spec)), spec);
  assert.equal(parseChartSpec('data: {runs: true}\nkind: scatter\nx: a\ny: b\nfit: ols\n').fit, 'each');
  // JSON is YAML too.
  assert.equal(parseChartSpec(JSON.stringify({ data: { sql: 'SELECT 1 AS a, 2 AS b' }, kind: 'box', y: 'b' })).kind, 'box');
});

test('errors name file, line and column and what was expected', () => {
  const cases: [string, RegExp][] = [
    ['data: {runs: true}\nkind: pie\ny: a\n', /^c\.yaml:2:7: 'kind' must be one of scatter, box, violin, line, heatmap, got 'pie'$/],
    ['data: {runs: true}\nkind: box\ny: a\ncolr: policy\n', /^c\.yaml:4:1: unknown key 'colr'/],
    ['data: {runs: true, parser: vmstat}\nkind: box\ny: a\n', /^c\.yaml:1:7: 'data' needs exactly one of runs, parser or sql \(got runs, parser\)/],
    ['data:\n  runs: true\n  bach: 3\nkind: box\ny: a\n', /^c\.yaml:3:3: unknown key 'data\.bach'/],
    ['data: {runs: true}\nkind: scatter\ny: a\n', /^c\.yaml:1:1: kind: scatter needs 'x'/],
    ['data: {runs: true}\nkind: box\ny: a\nfit: each\n', /^c\.yaml:4:6: 'fit' is only for kind: scatter/],
    ['data: {runs: true}\nkind: heatmap\nx: t\ny: a\n', /needs 'z'/],
    ['data: [1, 2\n', /^c\.yaml:\d+:\d+: not valid YAML/],
    ['kind: box\ny: a\n', /missing 'data'/],
    ['data: {parser: summary}\nkind: box\ny: a\n', /^c\.yaml:1:16: 'summary' is not a parser: for Mine's per-run summary write data: \{runs: true\}/],
    ['data: {runs: true}\nkind: scatter\nx: a\ny: b\nfit: lowess\n', /^c\.yaml:5:6: 'fit' must be each \(or ols\), all, none, true or false/],
    ['data: {runs: true}\nkind: box\ny: [a, b]\n', /^c\.yaml:3:4: a list of y columns is only for kind: line/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseChartSpec(text, 'c.yaml'), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), text);
  }
});

test('figureFromSpec builds each kind from the same rows', () => {
  const rows = {
    policy: ['a', 'a', 'a', 'b', 'b', 'b'],
    size: ['s', 'l', 's', 'l', 's', 'l'],
    x: [1, 2, 3, 1, 2, 3],
    y: [2, 4, 6.5, 1, 1.5, 2],
    t: [0, 1, 2, 0, 1, 2],
  };
  const scatter = figureFromSpec(parseChartSpec('data: {runs: true}\nkind: scatter\nx: x\ny: y\ncolor: policy\n'), rows, { categories: ['b', 'a'] });
  assert.deepEqual(scatter.data.map((t) => t.name?.split(':')[0]), ['b', 'a', 'b fit', 'a fit']);
  const fitA = (scatter.data[3]!.meta as { fit: LinearFit }).fit;
  // a: points (1,2) (2,4) (3,6.5): slope = Sxy/Sxx = (−1·−2.1667 + 0 + 1·2.3333)/2 = 2.25
  assert.ok(Math.abs(fitA.slope - 2.25) < 1e-12);

  const violin = figureFromSpec(parseChartSpec('data: {runs: true}\nkind: violin\ny: y\ncolor: policy\nx: size\n'), rows);
  assert.deepEqual(violin.data.map((t) => [t.type, t.name, t.x]), [['violin', 'a', ['s', 'l', 's']], ['violin', 'b', ['l', 's', 'l']]]);
  assert.equal(violin.layout.violinmode, 'group');

  const line = figureFromSpec(parseChartSpec('data: {parser: vmstat}\nkind: line\nx: t\ny: [x, y]\ncolor: policy\n'), rows, { windows: [{ start: 0.5, end: 1.5 }] });
  assert.deepEqual(line.data.map((t) => t.name), ['a · x', 'a · y', 'b · x', 'b · y']);
  assert.equal((line.layout.shapes as unknown[]).length, 1);
  const noWindows = figureFromSpec(parseChartSpec('data: {parser: vmstat}\nkind: line\nx: t\ny: y\nwindows: false\n'), rows, { windows: [{ start: 0.5, end: 1.5 }] });
  assert.equal(noWindows.layout.shapes, undefined);

  const heat = figureFromSpec(parseChartSpec('data: {runs: true}\nkind: heatmap\nx: t\ny: policy\nz: y\nagg: sum\n'), rows);
  assert.deepEqual(heat.data[0]!.z, [[2, 4, 6.5], [1, 1.5, 2]]);

  const faceted = figureFromSpec(parseChartSpec('title: F\ndata: {runs: true}\nkind: box\ny: y\ncolor: policy\nfacet: size\n'), rows);
  assert.deepEqual(faceted.data.map((t) => [t.name, t.yaxis, t.y]), [
    ['a', 'y', [2, 6.5]], ['b', 'y', [1.5]], ['a', 'y2', [4]], ['b', 'y2', [1, 2]],
  ]);
  assert.deepEqual(faceted.layout.title, { text: 'F', x: 0.02, xanchor: 'left' });
});

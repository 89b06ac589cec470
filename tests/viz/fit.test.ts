/**
 * The scatter's least-squares line and Pearson's r with its p-value, checked
 * against SciPy (`linregress`, `pearsonr`) run in the same test; the numbers
 * charts print, to significant digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFit, linearFit } from '../../src/viz/fit.js';
import { formatP, significant, signedPercent } from '../../src/viz/numbers.js';
import { close, scipy } from '../helpers/scipy.js';

const SAMPLES: [number[], number[]][] = [
  [[1, 2, 3, 4, 5, 6, 7, 8], [2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.5]],
  [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4]],
  [[812000, 790500, 845100], [15200, 16900, 14100]],
  [[0.5, 0.7, 0.2, 0.9], [41, 38, 45, 30]],
];

test('slope, intercept, r and p agree with scipy.stats.linregress and pearsonr', () => {
  const want = scipy<{ slope: number; intercept: number; r: number; p: number }[]>(
    `out([dict(slope=l.slope, intercept=l.intercept, r=p.statistic, p=p.pvalue) for x, y in data
         for l, p in [(stats.linregress(x, y), stats.pearsonr(x, y))]])`,
    SAMPLES,
  );
  SAMPLES.forEach(([x, y], i) => {
    const fit = linearFit(x, y)!;
    assert.equal(fit.n, x.length);
    for (const key of ['slope', 'intercept', 'r', 'p'] as const) assert.ok(close(fit[key], want[i]![key], 1e-9), `sample ${i} ${key}: ${fit[key]} vs SciPy ${want[i]![key]}`);
  });
});

test('non-numeric and missing values are dropped; numeric strings and bigints count', () => {
  const fit = linearFit([1, '2', 3n, null, 'x', 5], [2, 4, 6, 100, 7, 10])!;
  assert.equal(fit.n, 4);
  assert.ok(Math.abs(fit.slope - 2) < 1e-12);
  assert.equal(fit.r, 1);
  assert.equal(fit.p, 0);
});

test('fewer than 3 points: a line but no r and no p; constant x: no fit', () => {
  assert.equal(linearFit([1, 1, 1], [1, 2, 3]), null);
  assert.equal(linearFit([1], [1]), null);
  const two = linearFit([1, 2], [1, 3])!;
  assert.equal(two.slope, 2);
  assert.ok(Number.isNaN(two.r) && Number.isNaN(two.p));
  assert.equal(describeFit(two), 'n = 2, too few for r');
  const flat = linearFit([1, 2, 3], [5, 5, 5])!;
  assert.equal(flat.slope, 0);
  assert.ok(Number.isNaN(flat.p));
  assert.match(describeFit(linearFit(SAMPLES[0]![0], SAMPLES[0]![1])!), /^r = 1\.00, p = < 0\.0001, n = 8$/);
});

test('numbers to significant digits, signed percentages and p-values', () => {
  assert.equal(significant(123456.789), '123,000');
  assert.equal(significant(123456.789, 4), '123,500');
  assert.equal(significant(0.012345), '0.0123');
  assert.equal(significant(1.5), '1.5');
  assert.equal(significant(-2.0004, 3), '-2');
  assert.equal(significant(NaN), 'n/a');
  assert.equal(significant(3e-7, 2), '3e-7');
  assert.equal(signedPercent(12.345, 3), '+12.3%');
  assert.equal(signedPercent(-49.2, 2), '-49%');
  assert.equal(signedPercent(0), '0%');
  assert.equal(formatP(0.04321), '0.043');
  assert.equal(formatP(3e-6), '< 0.0001');
  assert.equal(formatP(null), 'n/a');
});

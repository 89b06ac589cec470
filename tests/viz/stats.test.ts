import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearFit, describeFit } from '../../src/viz/stats.js';

/** Direct textbook formulas, independent of the library code under test. */
function direct(x: number[], y: number[]) {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b) / n;
  const my = y.reduce((a, b) => a + b) / n;
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r = sxy / Math.sqrt(sxx * syy);
  const sse = y.reduce((s, yi, i) => s + (yi - intercept - slope * x[i]!) ** 2, 0);
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return { slope, intercept, r, se };
}

/** P(|T| > t) for Student's t with df degrees of freedom, by Simpson's rule after t = sqrt(df)·tan(θ). */
function twoSidedP(t: number, df: number): number {
  const f = (theta: number) => Math.cos(theta) ** (df - 1);
  const simpson = (a: number, b: number) => {
    const m = 20000;
    const h = (b - a) / m;
    let s = f(a) + f(b);
    for (let i = 1; i < m; i++) s += f(a + i * h) * (i % 2 ? 4 : 2);
    return (s * h) / 3;
  };
  const theta0 = Math.atan(Math.abs(t) / Math.sqrt(df));
  return simpson(theta0, Math.PI / 2) / simpson(0, Math.PI / 2);
}

test('OLS slope, intercept, r and p match direct formulas', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8];
  const y = [2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.5];
  const fit = linearFit(x, y)!;
  const want = direct(x, y);
  assert.equal(fit.n, 8);
  assert.ok(Math.abs(fit.slope - want.slope) < 1e-12);
  assert.ok(Math.abs(fit.intercept - want.intercept) < 1e-12);
  assert.ok(Math.abs(fit.r - want.r) < 1e-12);
  const t = want.r * Math.sqrt(6 / (1 - want.r ** 2));
  assert.ok(Math.abs(fit.p - twoSidedP(t, 6)) < 1e-9 + 1e-6 * fit.p, `p ${fit.p} vs ${twoSidedP(t, 6)}`);
  assert.ok(Math.abs(fit.slopeStdErr - want.se) < 1e-12);
  // 95% CI half-width: t quantile with 6 df is 2.446912 (printed tables)
  assert.ok(Math.abs((fit.slopeCI[1] - fit.slopeCI[0]) / 2 - 2.446912 * want.se) < 1e-5);
});

test('a weak correlation gets a large p-value (checked by numeric integration)', () => {
  const x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
  const y = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4];
  const fit = linearFit(x, y)!;
  const want = direct(x, y);
  const t = want.r * Math.sqrt(9 / (1 - want.r ** 2));
  assert.ok(Math.abs(fit.r - want.r) < 1e-12);
  assert.ok(Math.abs(fit.p - twoSidedP(t, 9)) < 1e-7, `p ${fit.p} vs ${twoSidedP(t, 9)}`);
  assert.ok(fit.p > 0.05);
});

test('non-numeric and missing values are dropped; numeric strings and bigints count', () => {
  const fit = linearFit([1, '2', 3n, null, 'x', 5], [2, 4, 6, 100, 7, 10])!;
  assert.equal(fit.n, 4);
  assert.ok(Math.abs(fit.slope - 2) < 1e-12);
  assert.equal(fit.r, 1);
  assert.equal(fit.p, 0);
});

test('degenerate inputs: no fit for constant x, NaN r for constant y, NaN p for n = 2', () => {
  assert.equal(linearFit([1, 1, 1], [1, 2, 3]), null);
  assert.equal(linearFit([1], [1]), null);
  const flat = linearFit([1, 2, 3], [5, 5, 5])!;
  assert.equal(flat.slope, 0);
  assert.ok(Number.isNaN(flat.r));
  const two = linearFit([1, 2], [1, 3])!;
  assert.ok(Number.isNaN(two.p));
  assert.match(describeFit(two), /p = n\/a, n = 2/);
});

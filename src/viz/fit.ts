/**
 * The line a scatter shows through its points: ordinary least squares, with
 * Pearson's r and its two-sided p-value (Student's t with n − 2 degrees of
 * freedom, as `scipy.stats.pearsonr`). Descriptive: a chart's points should
 * be independent replicates (one per run and node, not one per guest), and
 * with fewer than 3 of them there is no r worth printing and no p-value.
 */
import { linearRegression, sampleCorrelation } from 'simple-statistics';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { MIN_N } from '../stats/sample.js';
import { finitePairs, formatP } from './numbers.js';

export interface LinearFit {
  /** Number of (x, y) pairs used (non-finite pairs are dropped). */
  n: number;
  slope: number;
  intercept: number;
  /** Pearson's correlation coefficient; NaN when x or y is constant or n < 3. */
  r: number;
  /** Two-sided p-value of H0: r = 0; NaN when n < 3 or r is undefined. */
  p: number;
}

/** OLS fit of y on x. Null when fewer than two distinct x values remain. */
export function linearFit(xs: readonly unknown[], ys: readonly unknown[]): LinearFit | null {
  const { x, y } = finitePairs(xs, ys);
  const n = x.length;
  if (n < 2 || new Set(x).size < 2) return null;
  const { m: slope, b: intercept } = linearRegression(x.map((xi, i) => [xi, y[i]!]));
  if (n < MIN_N || new Set(y).size < 2) return { n, slope, intercept, r: Number.NaN, p: Number.NaN };
  const r = Math.min(1, Math.max(-1, sampleCorrelation(x, y)));
  const df = n - 2;
  const p = Math.abs(r) === 1 ? 0 : 2 * (1 - tCdf(Math.abs(r) * Math.sqrt(df / (1 - r * r)), df));
  return { n, slope, intercept, r, p };
}

/** Legend text: "r = 0.93, p = 0.0021, n = 12", or "n = 2, too few for r". */
export function describeFit(fit: LinearFit): string {
  if (!Number.isFinite(fit.r)) return fit.n < MIN_N ? `n = ${fit.n}, too few for r` : `r undefined (constant y), n = ${fit.n}`;
  return `r = ${fit.r.toFixed(2)}, p = ${formatP(fit.p)}, n = ${fit.n}`;
}

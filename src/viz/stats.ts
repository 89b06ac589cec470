/**
 * The statistics a chart shows beside its points: an ordinary least-squares
 * line, Pearson's r with its two-sided p-value (t-test with n-2 degrees of
 * freedom) and a 95% confidence interval for the slope.
 *
 * Sums and correlation come from `simple-statistics`; the t distribution
 * (CDF and quantile) from stdlib's well-tested ports of the incomplete beta.
 */
import { linearRegression, sampleCorrelation, mean } from 'simple-statistics';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface LinearFit {
  /** Number of (x, y) pairs used (non-finite pairs are dropped). */
  n: number;
  slope: number;
  intercept: number;
  /** Pearson's correlation coefficient; NaN when x or y is constant. */
  r: number;
  r2: number;
  /** Two-sided p-value of H0: r = 0; NaN when n < 3 or r is undefined. */
  p: number;
  /** Standard error of the slope; NaN when n < 3. */
  slopeStdErr: number;
  /** Confidence interval of the slope at `level` (default 0.95). */
  slopeCI: [number, number];
  level: number;
}

/** Keeps the pairs where both values are finite numbers. */
export function finitePairs(xs: readonly unknown[], ys: readonly unknown[]): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const a = toNumber(xs[i]);
    const b = toNumber(ys[i]);
    if (a !== null && b !== null) {
      x.push(a);
      y.push(b);
    }
  }
  return { x, y };
}

/** Numbers, bigints and numeric strings become numbers; anything else null. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** OLS fit of y on x. Returns null when fewer than two distinct x values remain. */
export function linearFit(xs: readonly unknown[], ys: readonly unknown[], level = 0.95): LinearFit | null {
  const { x, y } = finitePairs(xs, ys);
  const n = x.length;
  if (n < 2 || new Set(x).size < 2) return null;
  const { m: slope, b: intercept } = linearRegression(x.map((xi, i) => [xi, y[i]!]));
  const yConstant = new Set(y).size < 2;
  const r = yConstant ? Number.NaN : clamp(sampleCorrelation(x, y), -1, 1);
  const df = n - 2;
  let p = Number.NaN;
  if (df > 0 && Number.isFinite(r)) {
    if (Math.abs(r) === 1) p = 0;
    else {
      const t = r * Math.sqrt(df / (1 - r * r));
      p = 2 * (1 - tCdf(Math.abs(t), df));
    }
  }
  let slopeStdErr = Number.NaN;
  let slopeCI: [number, number] = [Number.NaN, Number.NaN];
  if (df > 0) {
    const mx = mean(x);
    const sxx = x.reduce((s, xi) => s + (xi - mx) ** 2, 0);
    const sse = x.reduce((s, xi, i) => s + (y[i]! - (intercept + slope * xi)) ** 2, 0);
    slopeStdErr = Math.sqrt(sse / df / sxx);
    const tCrit = tQuantile(1 - (1 - level) / 2, df);
    slopeCI = [slope - tCrit * slopeStdErr, slope + tCrit * slopeStdErr];
  }
  return { n, slope, intercept, r, r2: r * r, p, slopeStdErr, slopeCI, level };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Short text for a legend or annotation: "r = 0.93, p = 0.0021, n = 12". */
export function describeFit(fit: LinearFit): string {
  return `r = ${formatNumber(fit.r, 3)}, p = ${formatP(fit.p)}, n = ${fit.n}`;
}

export function formatP(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  if (p < 1e-4) return '< 0.0001';
  return p.toPrecision(2);
}

export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/**
 * The Mann–Whitney U test (two-sided), choosing its method as
 * `scipy.stats.mannwhitneyu(x, y, method='auto')` does: the exact null
 * distribution when one sample has at most 8 values and there are no ties,
 * otherwise the normal approximation with the tie correction of the variance
 * and a continuity correction of 0.5. `u` is U of the first sample (SciPy's
 * `statistic`). A group with fewer than 3 values gets no p-value.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { finite, MIN_N, N_TOO_SMALL } from './sample.js';
import { midRanks } from './ranks.js';

export type MannWhitneyMethod = 'exact' | 'asymptotic';

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting one half. */
  u: number;
  /** Two-sided p-value; NaN (with `note`) when a sample is too small. */
  p: number;
  method: MannWhitneyMethod;
  n1: number;
  n2: number;
  note?: string;
}

export function mannWhitneyU(xValues: readonly number[], yValues: readonly number[], options: { method?: 'auto' | MannWhitneyMethod } = {}): MannWhitneyResult {
  const x = finite(xValues);
  const y = finite(yValues);
  const n1 = x.length;
  const n2 = y.length;
  const { ranks, tieCounts } = midRanks([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const hasTies = tieCounts.some((t) => t > 1);
  const method: MannWhitneyMethod = options.method && options.method !== 'auto' ? options.method : n1 > 8 && n2 > 8 ? 'asymptotic' : hasTies ? 'asymptotic' : 'exact';
  if (n1 < MIN_N || n2 < MIN_N) return { u: u1, p: Number.NaN, method, n1, n2, note: N_TOO_SMALL };

  const u = Math.max(u1, n1 * n2 - u1);
  let p: number;
  if (method === 'exact') {
    p = 2 * exactUpperTail(Math.round(u), n1, n2);
  } else {
    const n = n1 + n2;
    const tieTerm = tieCounts.reduce((s, t) => s + t ** 3 - t, 0);
    const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
    const z = (u - (n1 * n2) / 2 - 0.5) / sd;
    p = 2 * (1 - normalCdf(z, 0, 1));
    // Upper tail without cancellation for large z.
    if (z > 0) p = 2 * normalCdf(-z, 0, 1);
  }
  return { u: u1, p: Math.min(1, Math.max(0, p)), method, n1, n2 };
}

/**
 * P(U ≥ u) under H0 for samples of sizes m and n: the counts of U are the
 * coefficients of the Gaussian binomial [m+n choose m]_q, built as the product
 * of (1 − q^(n+i)) / (1 − q^i) for i = 1..min(m,n), in BigInt so large counts stay exact.
 */
export function exactUpperTail(u: number, m: number, n: number): number {
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const degree = small * large;
  if (u <= 0) return 1;
  if (u > degree) return 0;
  let counts: bigint[] = [1n];
  for (let i = 1; i <= small; i++) {
    const size = counts.length + large;
    const next = new Array<bigint>(size).fill(0n);
    // Multiply by (1 − q^(large+i)).
    for (let k = 0; k < counts.length; k++) {
      next[k]! += counts[k]!;
      const shifted = k + large + i;
      if (shifted < size) next[shifted]! -= counts[k]!;
    }
    // Divide by (1 − q^i): c'[k] = c[k] + c'[k − i].
    for (let k = i; k < size; k++) next[k]! += next[k - i]!;
    counts = next.slice(0, i * large + 1);
  }
  let tail = 0n;
  let total = 0n;
  for (let k = 0; k <= degree; k++) {
    total += counts[k]!;
    if (k >= u) tail += counts[k]!;
  }
  return bigRatio(tail, total);
}

/** a / b for non-negative BigInts, to double precision. */
function bigRatio(a: bigint, b: bigint): number {
  // Both convert exactly enough while below ~1e308; past that, drop the same low bits of both.
  const shift = BigInt(Math.max(0, b.toString(2).length - 1000));
  return Number(a >> shift) / Number(b >> shift);
}

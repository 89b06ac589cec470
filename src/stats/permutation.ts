/**
 * A two-sided permutation test of the difference in means of two independent
 * samples, as `scipy.stats.permutation_test((x, y), mean(x) - mean(y),
 * permutation_type='independent', n_resamples=R, random_state=np.random.RandomState(seed))`:
 * exact (every way of splitting the pooled values into groups of n1 and n2,
 * the observed one included) when there are at most R of them, otherwise R
 * seeded random permutations, with the +1 of a Monte Carlo p-value. Two-sided
 * is twice the smaller tail, capped at 1; values within 1e-14 (relative) of
 * the observed statistic count as equal to it, as in SciPy.
 */
import { seededRandom, permutation } from './random.js';
import { DEFAULT_SEED } from './bootstrap.js';
import { finite, MIN_N, N_TOO_SMALL, sum } from './sample.js';

export interface PermutationOptions {
  /** Monte Carlo permutations when the exact test has more partitions than this (SciPy's default 9999). */
  resamples?: number;
  seed?: number;
}

export interface PermutationResult {
  /** mean(x) − mean(y). */
  statistic: number;
  p: number;
  exact: boolean;
  /** Partitions (exact) or permutations (Monte Carlo) in the null distribution. */
  permutations: number;
  note?: string;
}

export function permutationTest(xValues: readonly number[], yValues: readonly number[], options: PermutationOptions = {}): PermutationResult {
  const x = finite(xValues);
  const y = finite(yValues);
  const n1 = x.length;
  const n2 = y.length;
  const resamples = options.resamples ?? 9999;
  const pooled = [...x, ...y];
  const total = sum(pooled);
  const difference = (sumX: number) => sumX / n1 - (total - sumX) / n2;
  const observed = n1 && n2 ? sum(x) / n1 - sum(y) / n2 : Number.NaN;
  if (n1 < MIN_N || n2 < MIN_N) return { statistic: observed, p: Number.NaN, exact: false, permutations: 0, note: N_TOO_SMALL };

  const gamma = Math.max(1e-14, Math.abs(1e-14 * observed));
  let atMost = 0;
  let atLeast = 0;
  const tally = (d: number) => {
    if (d <= observed + gamma) atMost++;
    if (d >= observed - gamma) atLeast++;
  };
  const partitions = binomial(n1 + n2, n1);
  const exact = partitions <= resamples;
  if (exact) {
    forEachSubsetSum(pooled, n1, (s) => tally(difference(s)));
  } else {
    const random = seededRandom(options.seed ?? DEFAULT_SEED);
    for (let r = 0; r < resamples; r++) {
      const order = permutation(random, pooled.length);
      let s = 0;
      for (let i = 0; i < n1; i++) s += pooled[order[i]!]!;
      tally(difference(s));
    }
  }
  const count = exact ? partitions : resamples;
  const adjustment = exact ? 0 : 1;
  const p = (2 * (Math.min(atMost, atLeast) + adjustment)) / (count + adjustment);
  return { statistic: observed, p: Math.min(1, p), exact, permutations: count };
}

/** Calls `visit` with the sum of every k-element subset of `values`. */
function forEachSubsetSum(values: readonly number[], k: number, visit: (sum: number) => void): void {
  const walk = (start: number, left: number, partial: number) => {
    if (left === 0) return visit(partial);
    for (let i = start; i <= values.length - left; i++) walk(i + 1, left - 1, partial + values[i]!);
  };
  walk(0, k, 0);
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

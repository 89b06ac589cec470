/**
 * The median with a distribution-free confidence interval from order
 * statistics: the number of values below the true median is Binomial(n, 1/2),
 * so [x_(j), x_(n+1-j)] covers it with probability 1 − 2·P(B ≤ j−1). The
 * interval is the narrowest such pair whose coverage reaches the level asked;
 * when n is too small for that (below 6 at 95%) it is [min, max] and `level`
 * says the coverage it has (75% at n = 3, 87.5% at 4, 93.75% at 5).
 * Its ends are observed values, so an interval of a positive quantity stays positive.
 */
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import { ascending, checkLevel, finite, MIN_N, N_TOO_SMALL, sortedMedian, type Estimate, type Interval } from './sample.js';

/** The 1-based rank j of the lower end (the upper end is n + 1 − j), and the coverage it gives. */
export function medianRank(n: number, level = 0.95): { rank: number; level: number } {
  checkLevel(level);
  const tail = (1 - level) / 2;
  // The largest j with P(B ≤ j − 1) ≤ tail; at least 1 (the sample's range).
  let rank = 1;
  while (rank + 1 <= Math.floor((n + 1) / 2) && binomialCdf(rank, n, 0.5) <= tail) rank++;
  return { rank, level: 1 - 2 * binomialCdf(rank - 1, n, 0.5) };
}

export function medianInterval(values: readonly number[], level = 0.95): Interval | null {
  const sorted = ascending(finite(values));
  const n = sorted.length;
  if (n < MIN_N) return null;
  const { rank, level: achieved } = medianRank(n, level);
  return { low: sorted[rank - 1]!, high: sorted[n - rank]!, level: achieved };
}

export function medianEstimate(values: readonly number[], level = 0.95): Estimate {
  const sorted = ascending(finite(values));
  const ci = medianInterval(sorted, level);
  return { n: sorted.length, value: sortedMedian(sorted), ci, ...(ci ? {} : { note: N_TOO_SMALL }) };
}

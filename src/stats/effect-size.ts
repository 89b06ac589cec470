/**
 * Effect sizes of a group against a baseline:
 * - the relative change delta% = 100·(s(group)/s(baseline) − 1) of a location
 *   statistic s (median or mean), with a seeded bootstrap CI of the ratio
 *   (each group resampled on its own; BCa unless asked otherwise). The ratio of
 *   positive values stays positive, so delta% never falls below −100%;
 * - the Hodges–Lehmann shift: the median of all differences x_i − y_j;
 * - Cliff's delta: P(X > Y) − P(X < Y), in [−1, 1] (equal to 2U/(n1·n2) − 1).
 */
import { bootstrap, type BootstrapOptions, type BootstrapResult } from './bootstrap.js';
import { arithmeticMean, finite, median } from './sample.js';

export type Location = 'median' | 'mean';

export function locationOf(kind: Location): (values: number[]) => number {
  return kind === 'median' ? median : arithmeticMean;
}

/** delta% of `group` against `baseline`, with its bootstrap interval (null below 3 values per group). */
export function relativeChange(group: readonly number[], baseline: readonly number[], options: BootstrapOptions & { location?: Location } = {}): BootstrapResult {
  const location = locationOf(options.location ?? 'median');
  const ratio = bootstrap([group, baseline], (g, b) => location(g!) / location(b!), options);
  const toPercent = (r: number) => 100 * (r - 1);
  return { ...ratio, value: toPercent(ratio.value), ci: ratio.ci && { ...ratio.ci, low: toPercent(ratio.ci.low), high: toPercent(ratio.ci.high) } };
}

export function hodgesLehmannShift(xValues: readonly number[], yValues: readonly number[]): number {
  const x = finite(xValues);
  const y = finite(yValues);
  const differences: number[] = [];
  for (const a of x) for (const b of y) differences.push(a - b);
  return median(differences);
}

export function cliffsDelta(xValues: readonly number[], yValues: readonly number[]): number {
  const x = finite(xValues);
  const y = finite(yValues);
  if (x.length === 0 || y.length === 0) return Number.NaN;
  let score = 0;
  for (const a of x) for (const b of y) score += Math.sign(a - b);
  return score / (x.length * y.length);
}

/**
 * What every statistic here shares: the rule that fewer than three runs give
 * no interval and no p-value, the interval type, and how values are cleaned.
 */

/** Fewer runs than this in a group: no interval, no p-value. */
export const MIN_N = 3;

/** Said wherever an interval or a p-value is withheld because a group has fewer than MIN_N values. */
export const N_TOO_SMALL = 'n too small';

export interface Interval {
  low: number;
  high: number;
  /** The confidence the interval has (order-statistic intervals can only reach certain levels). */
  level: number;
}

/** A point estimate and its interval; `ci` is null with a `note` saying why when there is none. */
export interface Estimate {
  n: number;
  value: number;
  ci: Interval | null;
  note?: string;
}

/** The finite numbers of `values`, in their order. */
export function finite(values: readonly number[]): number[] {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}

export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function arithmeticMean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : sum(values) / values.length;
}

/** Median of values already sorted ascending (NaN when empty). */
export function sortedMedian(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function median(values: readonly number[]): number {
  return sortedMedian(ascending(values));
}

export function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be between 0 and 1, got ${level}`);
}

/**
 * Mean and 95% confidence interval (Student's t) of repeated measurements.
 */
import quantile from '@stdlib/stats-base-dists-t-quantile';

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN for n < 2. */
  sd: number;
  /** Half-width of the 95% CI; NaN for n < 2 (one measurement has no interval). */
  ci95: number;
}

export function summarize(values: readonly number[], confidence = 0.95): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, ci95: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: NaN, ci95: NaN };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const t = quantile(1 - (1 - confidence) / 2, n - 1);
  return { n, mean, sd, ci95: (t * sd) / Math.sqrt(n) };
}

export function formatSummary(s: Summary, digits = 4): string {
  const fmt = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : '?');
  return Number.isFinite(s.ci95) ? `${fmt(s.mean)} ± ${fmt(s.ci95)} (95% CI, n=${s.n})` : `${fmt(s.mean)} (n=${s.n}, no interval)`;
}

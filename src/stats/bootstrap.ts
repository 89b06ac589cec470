/**
 * Seeded bootstrap confidence intervals for a statistic of one or more
 * independent samples (each resampled on its own), as
 * `scipy.stats.bootstrap(data, statistic, method=..., random_state=np.random.RandomState(seed))`
 * computes them: `'bca'` (bias-corrected and accelerated, the default, as in
 * SciPy) or `'percentile'`. Every resample is drawn in SciPy's order (all
 * resamples of the first sample, then of the second), so with the same seed
 * both give the same interval. Both methods return quantiles of the bootstrap
 * distribution, so a positive statistic (a mean of positive values, a ratio of
 * them) never gets a negative end.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { seededRandom } from './random.js';
import { checkLevel, finite, MIN_N, N_TOO_SMALL, type Estimate, type Interval } from './sample.js';

export type BootstrapMethod = 'bca' | 'percentile';

export interface BootstrapOptions {
  /** Number of resamples (SciPy's default, 9999). */
  resamples?: number;
  level?: number;
  method?: BootstrapMethod;
  /** Seed of the Mersenne Twister (a whole number below 2^32). */
  seed?: number;
}

export const DEFAULT_RESAMPLES = 9999;
export const DEFAULT_SEED = 12345;

/** A statistic of one value per sample: `(x, y) => mean(x) / mean(y)`. */
export type SampleStatistic = (...samples: number[][]) => number;

export interface BootstrapResult extends Estimate {
  method: BootstrapMethod;
  resamples: number;
  seed: number;
}

export function bootstrap(samples: readonly (readonly number[])[], statistic: SampleStatistic, options: BootstrapOptions = {}): BootstrapResult {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const level = options.level ?? 0.95;
  const method = options.method ?? 'bca';
  const seed = options.seed ?? DEFAULT_SEED;
  checkLevel(level);
  const data = samples.map((s) => finite(s));
  const n = Math.min(...data.map((s) => s.length));
  const value = statistic(...data.map((s) => [...s]));
  const base = { n, value, method, resamples, seed };
  if (n < MIN_N) return { ...base, ci: null, note: N_TOO_SMALL };

  const replicates = bootstrapDistribution(data, statistic, resamples, seed);
  const alpha = (1 - level) / 2;
  let probabilities: [number, number] = [alpha, 1 - alpha];
  if (method === 'bca') {
    const bca = bcaProbabilities(data, statistic, value, replicates, alpha);
    if (!bca) return { ...base, ci: null, note: 'degenerate bootstrap distribution (all resamples on one side of the estimate)' };
    probabilities = bca;
  }
  const sorted = Float64Array.from(replicates).sort();
  if (Number.isNaN(sorted[sorted.length - 1]!)) return { ...base, ci: null, note: 'the statistic is undefined on some resamples' };
  const ci: Interval = { low: percentile(sorted, probabilities[0]), high: percentile(sorted, probabilities[1]), level };
  return { ...base, ci };
}

/** The statistic on `resamples` resamples with replacement, each sample resampled independently. */
export function bootstrapDistribution(data: readonly (readonly number[])[], statistic: SampleStatistic, resamples: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  // SciPy draws an (resamples × n) index matrix per sample, sample after sample.
  const drawn = data.map((sample) => {
    const indices = new Uint32Array(resamples * sample.length);
    for (let k = 0; k < indices.length; k++) indices[k] = random.upTo(sample.length - 1);
    return indices;
  });
  const out = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    const resampled = data.map((sample, j) => {
      const n = sample.length;
      const row = new Array<number>(n);
      for (let i = 0; i < n; i++) row[i] = sample[drawn[j]![b * n + i]!]!;
      return row;
    });
    out[b] = statistic(...resampled);
  }
  return out;
}

/**
 * BCa's adjusted tail probabilities (Efron & Tibshirani ch. 14, as SciPy's
 * `_bca_interval`): bias z0 from the share of replicates below the estimate,
 * acceleration from a jackknife over each sample in turn.
 */
function bcaProbabilities(data: readonly (readonly number[])[], statistic: SampleStatistic, estimate: number, replicates: Float64Array, alpha: number): [number, number] | null {
  let below = 0;
  let atOrBelow = 0;
  for (const r of replicates) {
    if (r < estimate) below++;
    if (r <= estimate) atOrBelow++;
  }
  const z0 = normalQuantile((below + atOrBelow) / (2 * replicates.length), 0, 1);
  if (!Number.isFinite(z0)) return null;

  let cubes = 0;
  let squares = 0;
  data.forEach((sample, j) => {
    const n = sample.length;
    const leaveOneOut: number[] = [];
    for (let i = 0; i < n; i++) {
      const samples = data.map((s) => [...s]);
      samples[j] = sample.filter((_, k) => k !== i);
      leaveOneOut.push(statistic(...samples));
    }
    const meanJ = leaveOneOut.reduce((a, b) => a + b, 0) / n;
    let c = 0;
    let s = 0;
    for (const t of leaveOneOut) {
      const u = (n - 1) * (meanJ - t);
      c += u ** 3;
      s += u ** 2;
    }
    cubes += c / n ** 3;
    squares += s / n ** 2;
  });
  // All jackknife values equal: no skew to correct (SciPy gets 0/0 here and returns NaN).
  const acceleration = squares === 0 ? 0 : cubes / (6 * squares ** 1.5);

  const zAlpha = normalQuantile(alpha, 0, 1);
  const adjust = (z: number) => {
    const num = z0 + z;
    return normalCdf(z0 + num / (1 - acceleration * num), 0, 1);
  };
  const low = adjust(zAlpha);
  const high = adjust(-zAlpha);
  return Number.isFinite(low) && Number.isFinite(high) ? [low, high] : null;
}

/** numpy's default ('linear') percentile of sorted values at probability p in [0, 1]. */
export function percentile(sorted: Float64Array | readonly number[], p: number): number {
  const n = sorted.length;
  const position = Math.min(Math.max(p, 0), 1) * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, n - 1);
  const t = position - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

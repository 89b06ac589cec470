/**
 * Statistics right for run-level performance data: pure functions, one family
 * per file, each checked against SciPy in tests/stats/.
 */
export { MIN_N, N_TOO_SMALL, median, type Interval, type Estimate } from './sample.js';
export { medianEstimate, medianInterval, medianRank } from './median.js';
export { mean, harmonicMean } from './means.js';
export { bootstrap, bootstrapDistribution, percentile, DEFAULT_RESAMPLES, DEFAULT_SEED, type BootstrapMethod, type BootstrapOptions, type BootstrapResult, type SampleStatistic } from './bootstrap.js';
export { mannWhitneyU, exactUpperTail, type MannWhitneyResult, type MannWhitneyMethod } from './mann-whitney.js';
export { permutationTest, type PermutationOptions, type PermutationResult } from './permutation.js';
export { holm } from './holm.js';
export { relativeChange, hodgesLehmannShift, cliffsDelta, locationOf, type Location } from './effect-size.js';
export { seededRandom, permutation, type SeededRandom } from './random.js';

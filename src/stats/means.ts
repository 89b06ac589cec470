/**
 * Means that suit the quantity: the arithmetic mean, and the harmonic mean for
 * rates (throughputs measured over the same amount of work: the harmonic mean
 * of the rates is the total work over the total time, the arithmetic mean is
 * not). simple-statistics computes it; a rate that is not positive has no
 * harmonic mean, so that gives NaN instead of a throw.
 */
import { harmonicMean as ssHarmonicMean } from 'simple-statistics';
import { arithmeticMean, finite } from './sample.js';

export function mean(values: readonly number[]): number {
  return arithmeticMean(finite(values));
}

export function harmonicMean(values: readonly number[]): number {
  const xs = finite(values);
  if (xs.length === 0 || xs.some((v) => v <= 0)) return Number.NaN;
  return ssHarmonicMean(xs);
}

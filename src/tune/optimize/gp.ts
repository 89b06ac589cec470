/**
 * A small Gaussian-process regression (squared-exponential kernel on feature
 * vectors, Gaussian noise), enough for a few hundred observations: Cholesky
 * factorisation, posterior mean and variance, and the kernel's length scale
 * and noise share chosen on a grid by the log marginal likelihood. Pure.
 */

export interface GpFit {
  lengthScale: number;
  /** Noise variance as a share of the signal variance (targets are standardised). */
  noise: number;
  logLikelihood: number;
  predict(x: readonly number[]): { mean: number; variance: number };
}

function sqDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

/** Lower-triangular L with L·Lᵀ = A, or null when A is not positive definite. */
export function cholesky(a: readonly (readonly number[])[]): number[][] | null {
  const n = a.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i]![i] = Math.sqrt(s);
      } else l[i]![j] = s / l[j]![j]!;
    }
  }
  return l;
}

/** x with L·x = b. */
function forward(l: number[][], b: readonly number[]): number[] {
  const x = new Array<number>(b.length);
  for (let i = 0; i < b.length; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** x with Lᵀ·x = b. */
function backward(l: number[][], b: readonly number[]): number[] {
  const n = b.length;
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** Fits with fixed hyperparameters; `y` should be standardised (mean 0, variance about 1). Per-point noise weights scale the noise (1/runs for a mean of several runs). */
export function fitWith(x: readonly (readonly number[])[], y: readonly number[], lengthScale: number, noise: number, noiseWeights?: readonly number[]): GpFit | null {
  const n = x.length;
  const kernel = (a: readonly number[], b: readonly number[]) => Math.exp(-sqDistance(a, b) / (2 * lengthScale * lengthScale));
  const k = x.map((a, i) => x.map((b, j) => kernel(a, b) + (i === j ? noise * (noiseWeights?.[i] ?? 1) + 1e-9 : 0)));
  const l = cholesky(k);
  if (!l) return null;
  const alpha = backward(l, forward(l, y));
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(l[i]![i]!);
  const fitTerm = y.reduce((s, v, i) => s + v * alpha[i]!, 0);
  const logLikelihood = -0.5 * fitTerm - logDet - (n / 2) * Math.log(2 * Math.PI);
  return {
    lengthScale,
    noise,
    logLikelihood,
    predict(point) {
      const ks = x.map((a) => kernel(a, point));
      const mean = ks.reduce((s, v, i) => s + v * alpha[i]!, 0);
      const v = forward(l, ks);
      const variance = Math.max(1e-12, 1 - v.reduce((s, t) => s + t * t, 0));
      return { mean, variance };
    },
  };
}

export const LENGTH_SCALES = [0.5, 1, 1.5, 2, 3, 5];
export const NOISE_SHARES = [0.01, 0.05, 0.2, 0.5];

/** The grid point with the highest log marginal likelihood. */
export function fitGp(x: readonly (readonly number[])[], y: readonly number[], noiseWeights?: readonly number[]): GpFit | null {
  let best: GpFit | null = null;
  for (const lengthScale of LENGTH_SCALES) {
    for (const noise of NOISE_SHARES) {
      const fit = fitWith(x, y, lengthScale, noise, noiseWeights);
      if (fit && (!best || fit.logLikelihood > best.logLikelihood)) best = fit;
    }
  }
  return best;
}

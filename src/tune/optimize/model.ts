/**
 * The model-based strategy: a Gaussian process over the candidates' feature
 * vectors (for placements: the choices one-hot and how crowded each CPU is)
 * predicts the objective of every candidate not tried yet, and each round
 * tries those with the highest expected improvement over the best so far.
 * A round of k candidates is chosen one at a time, each chosen one then
 * counted as measured at its predicted mean ("kriging believer"), so a round
 * spreads out instead of trying k neighbours. The first `startup` candidates
 * are drawn at random (seeded). The space is finite and listed, so the
 * acquisition is maximised exactly, over every untried candidate.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { median } from '../../stats/sample.js';
import { shuffled } from './basic.js';
import { fitGp, fitWith, type GpFit } from './gp.js';
import { signOf, type Direction, type History, type SideHistory, type Strategy } from './types.js';

export interface ModelOptions {
  repetitions: number;
  direction: Direction;
  seed: number;
  /** Candidates per round (run interleaved). Default 2. */
  roundSize?: number;
  /** Random candidates before the model is used. Default 3. */
  startup?: number;
  /** Exploration margin in standard deviations of the objective. Default 0.01. */
  xi?: number;
  /** How much the side metrics weigh against the placement's own features (0: not used). Default 1. */
  sideWeight?: number;
}

const normalPdf = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

export function expectedImprovement(mean: number, variance: number, best: number, xi: number): number {
  const sd = Math.sqrt(variance);
  const gain = mean - best - xi;
  if (sd < 1e-12) return Math.max(0, gain);
  const z = gain / sd;
  return gain * normalCdf(z, 0, 1) + sd * normalPdf(z);
}

/**
 * The placements' features with the side metrics appended (standardised,
 * times `weight`): a tried candidate's measured median, an untried one's as a
 * GP of that metric over the features predicts it. Monitor figures such as the
 * QEMU threads' context switches or CPU time vary with the placement more
 * smoothly and less noisily than the objective, so two placements that load
 * the machine alike end up close even before either's objective is known.
 */
export function withSide(features: readonly (readonly number[])[], side: SideHistory | undefined, weight: number): readonly (readonly number[])[] {
  if (!side || weight <= 0) return features;
  const metrics = Math.max(0, ...[...side.values()].map((v) => v.length));
  const columns: number[][] = [];
  for (let k = 0; k < metrics; k++) {
    const observed = [...side].filter(([, v]) => (v[k]?.length ?? 0) > 0).map(([c, v]) => [c, median(v[k]!)] as const);
    if (observed.length < 3) continue;
    const values = observed.map(([, v]) => v);
    const mu = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mu) ** 2, 0) / (values.length - 1));
    if (!(sd > 0)) continue;
    const measured = new Map(observed.map(([c, v]) => [c, (v - mu) / sd]));
    const fit = fitGp(observed.map(([c]) => features[c]!), observed.map(([c]) => measured.get(c)!));
    if (!fit) continue;
    columns.push(features.map((f, c) => weight * (measured.get(c) ?? fit.predict(f).mean)));
  }
  return columns.length ? features.map((f, c) => [...f, ...columns.map((col) => col[c]!)]) : features;
}

export function model(placementFeatures: readonly (readonly number[])[], options: ModelOptions): Strategy {
  const n = placementFeatures.length;
  const order = shuffled(n, options.seed);
  const roundSize = options.roundSize ?? 2;
  const startup = Math.min(options.startup ?? 3, n);
  const xi = options.xi ?? 0.01;
  const sign = signOf(options.direction);
  const tried = new Set<number>();
  let started = 0;

  return {
    name: 'model',
    next(history: History, side?: SideHistory) {
      for (const c of history.keys()) tried.add(c);
      if (tried.size >= n) return undefined;
      if (started < startup) {
        const candidates = order.filter((c) => !tried.has(c)).slice(0, Math.min(roundSize, startup - started));
        started += candidates.length;
        candidates.forEach((c) => tried.add(c));
        return { candidates, repetitions: options.repetitions };
      }
      const observed = [...history].filter(([, v]) => v.length > 0);
      const features = withSide(placementFeatures, side, options.sideWeight ?? 1);
      const x: (readonly number[])[] = observed.map(([c]) => features[c]!);
      const raw = observed.map(([, v]) => sign * median(v));
      const weights = observed.map(([, v]) => 1 / v.length);
      const mu = raw.reduce((a, b) => a + b, 0) / raw.length;
      const sd = Math.sqrt(raw.reduce((a, v) => a + (v - mu) ** 2, 0) / Math.max(1, raw.length - 1)) || 1;
      const y = raw.map((v) => (v - mu) / sd);
      const fit = fitGp(x, y, weights);
      const candidates: number[] = [];
      let current: GpFit | null = fit;
      const believedX = [...x];
      const believedY = [...y];
      const believedW = [...weights];
      for (let k = 0; k < roundSize && tried.size + candidates.length < n; k++) {
        const best = Math.max(...believedY);
        let pick = -1;
        let pickScore = -Infinity;
        for (const c of order) {
          if (tried.has(c) || candidates.includes(c)) continue;
          const score = current ? (() => {
            const p = current.predict(features[c]!);
            return expectedImprovement(p.mean, p.variance, best, xi);
          })() : 0;
          if (score > pickScore) {
            pickScore = score;
            pick = c;
          }
        }
        if (pick < 0) break;
        candidates.push(pick);
        if (current && k + 1 < roundSize) {
          believedX.push(features[pick]!);
          believedY.push(current.predict(features[pick]!).mean);
          believedW.push(1);
          current = fitWith(believedX, believedY, current.lengthScale, current.noise, believedW);
        }
      }
      candidates.forEach((c) => tried.add(c));
      return candidates.length ? { candidates, repetitions: options.repetitions } : undefined;
    },
  };
}

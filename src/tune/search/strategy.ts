/**
 * The spec's `strategy` as a pure strategy over the search's candidates
 * (src/tune/optimize/). Random and model explore, then confirm their best few.
 */
import { exhaustive, halving, random } from '../optimize/basic.js';
import { withConfirmation } from '../optimize/confirm.js';
import { model } from '../optimize/model.js';
import type { Strategy } from '../optimize/types.js';
import type { SearchCandidate } from './candidates.js';
import type { SearchSpec, StrategyName } from './spec.js';

export function strategyName(spec: SearchSpec): StrategyName {
  return spec.strategy ?? (spec.space ? 'model' : 'exhaustive');
}

export function makeStrategy(spec: SearchSpec, candidates: readonly SearchCandidate[]): Strategy {
  const name = strategyName(spec);
  const repetitions = spec.repetitions ?? 3;
  const seed = spec.seed ?? 1;
  // A list keeps its order unless a seed is given; exploring strategies always draw.
  const order = spec.seed;
  const direction = spec.objective.direction;
  const n = candidates.length;
  const confirm = (inner: Strategy) => (spec.confirm?.rounds === 0 ? inner : withConfirmation(inner, { repetitions, direction, ...(spec.confirm?.top ? { top: spec.confirm.top } : {}), ...(spec.confirm?.rounds ? { rounds: spec.confirm.rounds } : {}) }));
  switch (name) {
    case 'exhaustive':
      return exhaustive(n, repetitions, order);
    case 'halving':
      return halving(n, repetitions, direction, order);
    case 'random':
      return confirm(random(n, repetitions, seed, spec.round ?? 4));
    case 'model':
      return confirm(model(candidates.map((c) => c.features), { repetitions, direction, seed, ...(spec.round ? { roundSize: spec.round } : {}) }));
  }
}

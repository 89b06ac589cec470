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

/** The confirmation rounds a spec asks for after exploring (random, model), as withConfirmation counts them; undefined for none. */
export function confirmationOf(spec: SearchSpec): { top: number; rounds: number } | undefined {
  const name = strategyName(spec);
  if ((name !== 'random' && name !== 'model') || spec.confirm?.rounds === 0) return undefined;
  return { top: spec.confirm?.top ?? 3, rounds: spec.confirm?.rounds ?? 2 };
}

/** A search's strategy; `confirming()` tells, after `next` named a round, whether it is a confirmation round (not exploring). */
export type SearchStrategy = Strategy & { confirming(): boolean };

export function makeStrategy(spec: SearchSpec, candidates: readonly SearchCandidate[]): SearchStrategy {
  const name = strategyName(spec);
  const repetitions = spec.repetitions ?? 3;
  const seed = spec.seed ?? 1;
  // A list keeps its order unless a seed is given; exploring strategies always draw.
  const order = spec.seed;
  const direction = spec.objective.direction;
  const n = candidates.length;
  const confirmation = confirmationOf(spec);
  const confirm = (inner: Strategy): SearchStrategy => {
    if (!confirmation) return { name: inner.name, next: (h, s) => inner.next(h, s), confirming: () => false };
    // A trial budget keeps confirmation's trials back (when what is left to explore still beats the model's random start).
    const reserve = confirmation.top * confirmation.rounds;
    const budget = spec.budget?.trials;
    const exploreTrials = budget !== undefined && budget - reserve >= Math.max(3, confirmation.top) ? budget - reserve : undefined;
    const outer = withConfirmation(inner, { repetitions, direction, ...confirmation, ...(exploreTrials !== undefined ? { exploreTrials } : {}) });
    return { name: outer.name, next: (h, s) => outer.next(h, s), confirming: () => outer.confirming() };
  };
  const plain = (s: Strategy): SearchStrategy => ({ name: s.name, next: (h, side) => s.next(h, side), confirming: () => false });
  switch (name) {
    case 'exhaustive':
      return plain(exhaustive(n, repetitions, order));
    case 'halving':
      return plain(halving(n, repetitions, direction, order));
    case 'random':
      return confirm(random(n, repetitions, seed, spec.round ?? 4));
    case 'model':
      return confirm(model(candidates.map((c) => c.features), { repetitions, direction, seed, ...(spec.round ? { roundSize: spec.round } : {}) }));
  }
}

/**
 * The model-free strategies, each over candidates 0..n-1 in a seeded order
 * (so a replay over many seeds measures the strategy, not the list's order):
 * Without a seed, exhaustive and halving keep the list's order.
 * - exhaustive: one round, every candidate with `repetitions` runs;
 * - random: the honest baseline, rounds of `roundSize` candidates never tried
 *   before, drawn without replacement, until none is left;
 * - halving (successive halving): every candidate gets `repetitions` runs;
 *   the better half by median gets as many runs again as it has (its count
 *   doubles), and so on until one is left or the best is separated from the
 *   rest beyond its interval.
 */
import { permutation, seededRandom } from '../../stats/random.js';
import { ranked, separated } from './estimate.js';
import type { Direction, History, Round, Strategy } from './types.js';

/** 0..n-1 in a seeded random order; in list order without a seed. */
export function shuffled(n: number, seed?: number): number[] {
  return seed === undefined ? Array.from({ length: n }, (_, i) => i) : permutation(seededRandom(seed), n);
}

export function exhaustive(n: number, repetitions: number, seed?: number): Strategy {
  let done = false;
  const order = shuffled(n, seed);
  return {
    name: 'exhaustive',
    next() {
      if (done) return undefined;
      done = true;
      return { candidates: order, repetitions };
    },
  };
}

export function random(n: number, repetitions: number, seed: number, roundSize = 4): Strategy {
  const order = shuffled(n, seed);
  let at = 0;
  return {
    name: 'random',
    next() {
      if (at >= order.length) return undefined;
      const candidates = order.slice(at, at + roundSize);
      at += candidates.length;
      return { candidates, repetitions };
    },
  };
}

export function halving(n: number, repetitions: number, direction: Direction, seed?: number): Strategy {
  let alive = shuffled(n, seed);
  let round = 0;
  return {
    name: 'halving',
    next(history: History): Round | undefined {
      if (round > 0) {
        if (alive.length <= 1) return undefined;
        const standing = ranked(new Map(alive.map((c) => [c, history.get(c) ?? []])), direction);
        if (separated(standing, direction)) return undefined;
        alive = standing.slice(0, Math.ceil(alive.length / 2)).map((e) => e.candidate);
        if (alive.length <= 1) return undefined;
      }
      round++;
      // Each survivor gets as many more runs as it has, so its count doubles.
      const more = round === 1 ? repetitions : Math.max(...alive.map((c) => history.get(c)?.length ?? 0), repetitions);
      return { candidates: alive, repetitions: more };
    },
  };
}

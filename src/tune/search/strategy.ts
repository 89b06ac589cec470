/**
 * Which trials to run next. Pure: given what was measured so far, a strategy
 * names the candidates and repetitions of the next round, or stops.
 *
 * - exhaustive: one round, every candidate with `repetitions`.
 * - halving (successive halving over repetitions): every candidate gets a few
 *   repetitions; the better half (by mean, in the objective's direction) gets
 *   twice as many more; and so on until one is left.
 */
import { summarize } from './stats.js';

export type Direction = 'min' | 'max';

export interface Round {
  candidates: string[];
  repetitions: number;
}

export interface Strategy {
  next(observations: ReadonlyMap<string, readonly number[]>): Round | undefined;
}

export function exhaustive(candidates: readonly string[], repetitions: number): Strategy {
  let done = false;
  return {
    next() {
      if (done) return undefined;
      done = true;
      return { candidates: [...candidates], repetitions };
    },
  };
}

/** Ranks candidates best first; ones without a finite mean go last. */
export function rank(observations: ReadonlyMap<string, readonly number[]>, names: readonly string[], direction: Direction): string[] {
  const mean = (n: string) => summarize(observations.get(n) ?? []).mean;
  const sign = direction === 'max' ? -1 : 1;
  return [...names].sort((a, b) => {
    const ma = mean(a);
    const mb = mean(b);
    if (!Number.isFinite(ma)) return Number.isFinite(mb) ? 1 : 0;
    if (!Number.isFinite(mb)) return -1;
    return sign * (ma - mb);
  });
}

export function successiveHalving(candidates: readonly string[], firstRepetitions: number, direction: Direction): Strategy {
  let alive = [...candidates];
  let repetitions = Math.max(2, firstRepetitions);
  let round = 0;
  return {
    next(observations) {
      if (round > 0) {
        if (alive.length <= 1) return undefined;
        alive = rank(observations, alive, direction).slice(0, Math.ceil(alive.length / 2));
        if (alive.length <= 1) return undefined;
        repetitions *= 2;
      }
      round++;
      return { candidates: alive, repetitions };
    },
  };
}

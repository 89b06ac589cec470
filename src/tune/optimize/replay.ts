/**
 * Replays a strategy against a captured response surface (every candidate's
 * measured values per run): a trial of a candidate with r runs draws r of its
 * captured values (with replacement, seeded), so the strategy sees the real
 * noise. Pure; bench/search.ts and the tests use it.
 */
import { seededRandom } from '../../stats/random.js';
import { ranked } from './estimate.js';
import type { Direction, Strategy } from './types.js';

export interface ReplayResult {
  /** 1-based trial (candidate measured in a round) at which a candidate within the tolerance was first tried; Infinity if never. */
  trialsToTarget: number;
  trials: number;
  runs: number;
  /** The strategy's final choice (the best by median of what it measured). */
  final: number | undefined;
}

export interface ReplayOptions {
  stopAtTarget?: boolean;
  direction: Direction;
  /** Side metrics captured with each run: side[c][j][k] is metric k of candidate c's run j (null: none). Drawn with the run. */
  side?: readonly (readonly (readonly (number | null)[])[])[];
}

export function replay(strategy: Strategy, runs: readonly (readonly number[])[], good: (candidate: number) => boolean, seed: number, options: ReplayOptions): ReplayResult {
  const random = seededRandom(seed);
  const history = new Map<number, number[]>();
  const side = new Map<number, number[][]>();
  let trials = 0;
  let runCount = 0;
  let trialsToTarget = Infinity;
  const sideOf = options.side ? () => side : () => undefined;
  for (let round = strategy.next(history, sideOf()); round; round = strategy.next(history, sideOf())) {
    for (const c of round.candidates) {
      trials++;
      const captured = runs[c]!;
      const picks = Array.from({ length: round.repetitions }, () => random.upTo(captured.length - 1));
      const drawn = picks.map((j) => captured[j]!);
      runCount += drawn.length;
      history.set(c, [...(history.get(c) ?? []), ...drawn]);
      if (options.side) {
        const metrics = side.get(c) ?? [];
        for (const j of picks) {
          options.side[c]![j]!.forEach((v, k) => {
            metrics[k] ??= [];
            if (v !== null) metrics[k]!.push(v);
          });
        }
        side.set(c, metrics);
      }
      if (trialsToTarget === Infinity && good(c)) trialsToTarget = trials;
    }
    if (options.stopAtTarget && trialsToTarget !== Infinity) break;
  }
  return { trialsToTarget, trials, runs: runCount, final: ranked(history, options.direction)[0]?.candidate };
}

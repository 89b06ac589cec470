/**
 * Confirmation rounds after an exploring strategy (random, model) ends: its
 * `top` best candidates run again, interleaved, until the best is separated
 * from them beyond its interval or `rounds` rounds were added. An exploring
 * strategy measures most candidates a few times; this is what lets the result
 * say how sure it is about the one it names. Under a trial budget
 * (`exploreTrials`), exploring stops when only the confirmation rounds' trials
 * are left, so a space larger than the budget still gets confirmed.
 */
import { ranked, separated } from './estimate.js';
import type { Direction, History, Round, SideHistory, Strategy } from './types.js';

export interface ConfirmOptions {
  top?: number;
  rounds?: number;
  repetitions: number;
  direction: Direction;
  /** At most this many trials (a candidate in a round) for exploring: the rest of the budget is kept for confirmation. */
  exploreTrials?: number;
}

/** The inner strategy, then confirmation rounds; `confirming()` says whether exploring has ended. */
export function withConfirmation(inner: Strategy, options: ConfirmOptions): Strategy & { confirming(): boolean } {
  const top = options.top ?? 3;
  const rounds = options.rounds ?? 2;
  let exploring = true;
  let added = 0;
  let explored = 0;
  return {
    name: inner.name,
    confirming: () => !exploring,
    next(history: History, side?: SideHistory): Round | undefined {
      if (exploring) {
        const room = options.exploreTrials === undefined ? Infinity : options.exploreTrials - explored;
        const round = room > 0 ? inner.next(history, side) : undefined;
        if (round) {
          const kept = round.candidates.slice(0, room);
          explored += kept.length;
          return { ...round, candidates: kept };
        }
        exploring = false;
      }
      if (added >= rounds) return undefined;
      const leaders = ranked(history, options.direction).slice(0, top);
      if (leaders.length < 2 || separated(leaders, options.direction)) return undefined;
      added++;
      return { candidates: leaders.map((e) => e.candidate), repetitions: options.repetitions };
    },
  };
}

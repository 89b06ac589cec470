/**
 * Confirmation rounds after an exploring strategy (random, model) ends: its
 * `top` best candidates run again, interleaved, until the best is separated
 * from them beyond its interval or `rounds` rounds were added. An exploring
 * strategy measures most candidates a few times; this is what lets the result
 * say how sure it is about the one it names.
 */
import { ranked, separated } from './estimate.js';
import type { Direction, History, Round, SideHistory, Strategy } from './types.js';

export interface ConfirmOptions {
  top?: number;
  rounds?: number;
  repetitions: number;
  direction: Direction;
}

export function withConfirmation(inner: Strategy, options: ConfirmOptions): Strategy {
  const top = options.top ?? 3;
  const rounds = options.rounds ?? 2;
  let exploring = true;
  let added = 0;
  return {
    name: inner.name,
    next(history: History, side?: SideHistory): Round | undefined {
      if (exploring) {
        const round = inner.next(history, side);
        if (round) return round;
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

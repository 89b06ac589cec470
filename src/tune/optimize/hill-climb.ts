/**
 * The online hill climber's decisions (pure): which move to try next (one
 * guest, one knob, to another of its choices: guests and knobs taken in turn,
 * the new choice drawn seeded), whether a measured change helps beyond the
 * noise, and the noise itself (the spread of the objective between windows
 * in which nothing was changed).
 */
import { seededRandom, type SeededRandom } from '../../stats/random.js';
import type { Direction } from './types.js';

export type MoveKind = 'pin' | 'nice';

export interface ClimbSetting {
  /** Index into the CPU choices (0 is `any` when it is one of them). */
  cpus: number;
  /** Index into the nice choices. */
  nice: number;
}

export interface Move {
  guest: string;
  action: MoveKind;
  from: number;
  to: number;
}

export interface Climber {
  /** The next move from the current settings, or undefined when no knob has a second choice. */
  propose(settings: ReadonlyMap<string, ClimbSetting>): Move | undefined;
}

export function climber(guests: readonly string[], moves: readonly MoveKind[], choices: { cpus: number; nice: number }, seed = 1): Climber {
  const random: SeededRandom = seededRandom(seed);
  const slots = guests.flatMap((guest) => moves.filter((m) => (m === 'pin' ? choices.cpus : choices.nice) > 1).map((action) => ({ guest, action })));
  let turn = 0;
  return {
    propose(settings) {
      if (slots.length === 0) return undefined;
      const { guest, action } = slots[turn++ % slots.length]!;
      const count = action === 'pin' ? choices.cpus : choices.nice;
      const from = action === 'pin' ? settings.get(guest)!.cpus : settings.get(guest)!.nice;
      // Another choice than the current one, uniformly.
      const pick = random.upTo(count - 2);
      return { guest, action, from, to: pick >= from ? pick + 1 : pick };
    },
  };
}

/** The typical relative change between two windows of the same settings: the median of |b − a| / |a| over such pairs (0 without one). */
export function noiseOf(samePairs: ReadonlyArray<readonly [number, number]>): number {
  const changes: number[] = [];
  for (const [a, b] of samePairs) {
    if (a !== 0 && Number.isFinite(a) && Number.isFinite(b)) changes.push(Math.abs(b - a) / Math.abs(a));
  }
  if (changes.length === 0) return 0;
  changes.sort((x, y) => x - y);
  const mid = changes.length >> 1;
  return changes.length % 2 ? changes[mid]! : (changes[mid - 1]! + changes[mid]!) / 2;
}

/** Keep a move when the objective got better by more than the threshold and more than twice the noise (both relative). */
export function helps(before: number, after: number, direction: Direction, thresholdPct: number, noise: number): boolean {
  if (!Number.isFinite(before) || !Number.isFinite(after)) return false;
  if (before === 0) return direction === 'max' ? after > 0 : false;
  const gain = ((direction === 'max' ? after - before : before - after) / Math.abs(before));
  return gain > Math.max(thresholdPct / 100, 2 * noise);
}

/**
 * What every search strategy shares. Candidates are indices into a finite
 * list (a space's placements, or listed policies); a strategy is pure: given
 * every value measured so far per candidate it names the next round (the
 * candidates to run interleaved, and how many runs each gets), or ends.
 */
export type Direction = 'min' | 'max';

export interface Round {
  candidates: number[];
  /** Runs per candidate in this round. */
  repetitions: number;
}

/** Values per candidate, in the order they were measured. */
export type History = ReadonlyMap<number, readonly number[]>;

/**
 * Side information per candidate: for each side metric (in a fixed order),
 * the values its runs' monitors gave (context switches, CPU time of the QEMU
 * threads, ...). Only the model strategy reads it.
 */
export type SideHistory = ReadonlyMap<number, readonly (readonly number[])[]>;

export interface Strategy {
  readonly name: string;
  next(history: History, side?: SideHistory): Round | undefined;
}

/** +1 when higher is better: every strategy compares `sign * value`. */
export const signOf = (direction: Direction): 1 | -1 => (direction === 'max' ? 1 : -1);

/**
 * Run order (`order:` in the batch config), pure apart from choosing a seed
 * when `random` comes without one. A plan's runs are first laid out in
 * sequential order (test → params → policy → warm-ups, reps), which gives each
 * its run index; `arrange` then puts them in execution order:
 * - `sequential`: as laid out (the order before `order:` existed);
 * - `interleaved`: round by round (warm-up rounds first, then repetition 1 of
 *   every cell, then repetition 2, ...); inside a round, each (test, params)
 *   block runs its policies rotated by one place per repetition (repetition 1
 *   in config order), so over P repetitions every policy holds every place
 *   once (a cyclic Latin square): policy is not confounded with time within
 *   the batch. Warm-up rounds rotate the same way by warm-up number;
 * - `random`: round by round, the runs of each round in a seeded random order
 *   (a randomized complete block design). The round's permutation depends on
 *   the seed and the round number only, so rounds added later (adaptive
 *   repeat, resume) are reproducible.
 */
import { randomInt } from 'node:crypto';
import type { ResolvedOrder, RunOrder } from '../config/types.js';

export function resolveOrder(order: RunOrder | undefined, seed?: number): ResolvedOrder {
  if (order === undefined || order === 'interleaved') return { kind: 'interleaved' };
  if (order === 'sequential') return { kind: 'sequential' };
  if (typeof order === 'object') return { kind: 'random', seed: order.random >>> 0, seedChosen: false };
  if (seed !== undefined) return { kind: 'random', seed: seed >>> 0, seedChosen: false };
  return { kind: 'random', seed: randomInt(0, 2 ** 32 - 1), seedChosen: true };
}

/** What `arrange` needs of a run: its round, the (test, params) block it belongs to, and its repetition (or warm-up) number. */
export interface Arrangeable {
  round: number;
  block: string;
  rep: number;
}

/** The items (given in sequential order) in execution order. */
export function arrange<T extends Arrangeable>(items: readonly T[], order: ResolvedOrder): T[] {
  if (order.kind === 'sequential') return [...items];
  const rounds = new Map<number, T[]>();
  for (const item of items) {
    const round = rounds.get(item.round);
    if (round) round.push(item);
    else rounds.set(item.round, [item]);
  }
  // Loops, not spreads: a plan of 100k+ runs must neither go quadratic nor exceed the argument limit of push(...).
  const out: T[] = [];
  for (const round of [...rounds.keys()].sort((a, b) => a - b)) {
    const inRound = rounds.get(round)!;
    for (const item of order.kind === 'random' ? shuffle(inRound, roundSeed(order.seed, round)) : rotateBlocks(inRound)) out.push(item);
  }
  return out;
}

/** Consecutive items of one block, each block rotated left by rep - 1 places (a block's items share a round, so a rep). */
function rotateBlocks<T extends Arrangeable>(items: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < items.length; ) {
    let j = i;
    while (j < items.length && items[j]!.block === items[i]!.block) j++;
    const block = items.slice(i, j);
    const shift = (block[0]!.rep - 1) % block.length;
    for (let k = 0; k < block.length; k++) out.push(block[(k + shift) % block.length]!);
    i = j;
  }
  return out;
}

/** Fisher–Yates with mulberry32: the same seed gives the same permutation on every platform. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const next = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A small, well-mixed 32-bit PRNG (Tommy Ettinger's mulberry32); floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed per round, so that round k's order does not depend on how many rounds came before. */
function roundSeed(seed: number, round: number): number {
  let x = (seed ^ Math.imul(round, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

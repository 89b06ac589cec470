/**
 * The placements of a space: the product of every dimension's choices, less
 * those a constraint rules out, with one placement kept per class of
 * placements that differ only by swapping interchangeable guests (the one
 * whose guests' choice tuples are in non-decreasing order within each group).
 * Pure and deterministic: the order is the odometer's (last dimension fastest).
 */
import { UserError } from '../../errors.js';
import type { NormalisedSpace } from './dimensions.js';
import type { Placement } from './types.js';

/** Enumerating more than this many raw combinations is refused (a space that big needs sampling, not a list). */
export const MAX_PRODUCT = 2_000_000;

export interface Enumeration {
  placements: Placement[];
  /** The product of the choice counts (before constraints and symmetry). */
  product: number;
  /** Removed by a constraint. */
  ruledOut: number;
  /** Removed as a swap of a kept placement. */
  symmetric: number;
}

/** The CPUs each guest's threads may run on under a placement (an unpinned scope may use every CPU). */
export function reach(space: NormalisedSpace, placement: Placement): Map<string, Set<number>> {
  const pinned = new Map<string, Map<string, number[]>>();
  space.dimensions.forEach((d, i) => {
    if (d.knob !== 'cpus') return;
    const cpus = d.choices[placement[i]!]!.cpus;
    if (!pinned.has(d.guest)) pinned.set(d.guest, new Map());
    if (cpus) pinned.get(d.guest)!.set(d.scope, cpus);
  });
  const out = new Map<string, Set<number>>();
  for (const guest of space.guests) {
    const scopes = pinned.get(guest) ?? new Map<string, number[]>();
    // Pinning every thread (`all`) decides it; otherwise any kind left unpinned may run anywhere.
    const all = scopes.get('all');
    const kinds = ['vcpu', 'iothread', 'emulator'];
    const sets = all ? [all] : kinds.every((k) => scopes.has(k)) ? kinds.map((k) => scopes.get(k)!) : [space.cpus, ...scopes.values()];
    out.set(guest, new Set(sets.flat()));
  }
  return out;
}

export function allowed(space: NormalisedSpace, placement: Placement): boolean {
  if (space.maxGuestsPerCpu === undefined && space.apart.length === 0) return true;
  const cpusOf = reach(space, placement);
  if (space.maxGuestsPerCpu !== undefined) {
    const load = new Map<number, number>();
    for (const set of cpusOf.values()) for (const cpu of set) load.set(cpu, (load.get(cpu) ?? 0) + 1);
    for (const n of load.values()) if (n > space.maxGuestsPerCpu) return false;
  }
  for (const group of space.apart) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = cpusOf.get(group[i]!)!;
        for (const cpu of cpusOf.get(group[j]!)!) if (a.has(cpu)) return false;
      }
    }
  }
  return true;
}

/** True when no swap within a symmetric group gives a placement that sorts earlier. */
export function canonical(space: NormalisedSpace, placement: Placement): boolean {
  for (const group of space.symmetric) {
    for (let g = 1; g < group.length; g++) {
      const before = group[g - 1]!;
      const here = group[g]!;
      for (let k = 0; k < here.length; k++) {
        const a = placement[before[k]!]!;
        const b = placement[here[k]!]!;
        if (a < b) break;
        if (a > b) return false;
      }
    }
  }
  return true;
}

/** Sorts each symmetric group's guests so that the placement is the one `canonical` keeps. */
export function canonicalise(space: NormalisedSpace, placement: Placement): number[] {
  const out = [...placement];
  for (const group of space.symmetric) {
    const tuples = group.map((dims) => dims.map((d) => out[d]!));
    tuples.sort((x, y) => {
      for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return x[k]! - y[k]!;
      return 0;
    });
    group.forEach((dims, g) => dims.forEach((d, k) => (out[d] = tuples[g]![k]!)));
  }
  return out;
}

export function productSize(space: NormalisedSpace): number {
  return space.dimensions.reduce((n, d) => n * d.choices.length, 1);
}

export function enumerate(space: NormalisedSpace): Enumeration {
  const product = productSize(space);
  if (product > MAX_PRODUCT) throw new UserError(`the space has ${product} raw combinations (more than ${MAX_PRODUCT} to list): give fewer choices, or more symmetric guests`);
  const sizes = space.dimensions.map((d) => d.choices.length);
  const current = sizes.map(() => 0);
  const placements: Placement[] = [];
  let ruledOut = 0;
  let symmetric = 0;
  for (let n = 0; n < product; n++) {
    if (!canonical(space, current)) symmetric++;
    else if (!allowed(space, current)) ruledOut++;
    else placements.push([...current]);
    for (let d = sizes.length - 1; d >= 0; d--) {
      if (++current[d]! < sizes[d]!) break;
      current[d] = 0;
    }
  }
  return { placements, product, ruledOut, symmetric };
}

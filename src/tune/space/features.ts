/**
 * Numbers that describe a placement, for the model-based strategy: each
 * dimension's choice one-hot; how many guests may run on each CPU, sorted
 * (the crowding profile, whichever CPUs it falls on); and the most crowded
 * CPU's count. The crowding terms let the model see that two
 * placements load the CPUs alike even when they name different guests and CPUs.
 */
import type { NormalisedSpace } from './dimensions.js';
import { reach } from './enumerate.js';
import type { Placement } from './types.js';

export function features(space: NormalisedSpace, placement: Placement): number[] {
  const out: number[] = [];
  space.dimensions.forEach((d, i) => {
    for (let c = 0; c < d.choices.length; c++) out.push(placement[i] === c ? 1 : 0);
  });
  const load = new Map(space.cpus.map((cpu) => [cpu, 0]));
  for (const set of reach(space, placement).values()) for (const cpu of set) load.set(cpu, (load.get(cpu) ?? 0) + 1);
  const counts = [...load.values()];
  out.push(...[...counts].sort((a, b) => b - a), Math.max(0, ...counts));
  return out;
}

/**
 * What a search chooses among, whatever the spec gave: listed or generated
 * policies (each one policy, applied by Tune's hook), or the placements of a
 * space (each a set of policy parts under one name, with features for the
 * model). Pure.
 */
import type { PolicySpec } from '../../batch/config/types.js';
import { normaliseSpace, type NormalisedSpace } from '../space/dimensions.js';
import { enumerate, type Enumeration } from '../space/enumerate.js';
import { features } from '../space/features.js';
import { placementPolicy } from '../space/placement-policy.js';
import { candidatesOf, specError, type SearchSpec } from './spec.js';

export interface SearchCandidate {
  name: string;
  /** The policy the trial batch lists: the candidate itself (a list) or its name only (a placement, applied as `parts`). */
  policy: PolicySpec;
  /** A placement's policies, applied together before each run of it; empty for listed candidates and the baseline. */
  parts: PolicySpec[];
  /** For the model strategy. */
  features: number[];
}

export interface CandidateSet {
  candidates: SearchCandidate[];
  /** Set for a space. */
  space?: NormalisedSpace;
  enumeration?: Enumeration;
}

export function searchCandidates(spec: SearchSpec): CandidateSet {
  if (spec.space) {
    const space = normaliseSpace(spec.space);
    const enumeration = enumerate(space);
    // Symmetry keeps one placement of each class, so only the constraints can leave none: a search of nothing is a mistake in the spec.
    if (enumeration.placements.length === 0) {
      const rules = (spec.space.constraints ?? []).map((c) => ('apart' in c ? `apart: [${c.apart.join(', ')}]` : `max_guests_per_cpu: ${c.max_guests_per_cpu}`));
      const knobs = `${space.dimensions.length} knob${space.dimensions.length === 1 ? '' : 's'}`;
      const counted = enumeration.symmetric ? `all ${enumeration.ruledOut} combinations of ${knobs} that are not swaps of interchangeable guests (${enumeration.product} in all)` : `all ${enumeration.product} combinations of ${knobs}`;
      throw specError(spec, ['space', 'constraints'], `the constraints (${rules.join('; ')}) leave no placement: they rule out ${counted}; loosen them or give more choices`, 'key');
    }
    const candidates = enumeration.placements.map((p) => {
      const { name, parts } = placementPolicy(space, p);
      return { name, policy: { name }, parts, features: features(space, p) };
    });
    return { candidates, space, enumeration };
  }
  const listed = candidatesOf(spec);
  // Listed candidates have no structure to learn from but their identity.
  return { candidates: listed.map((policy, i) => ({ name: policy.name, policy, parts: [], features: listed.map((_, j) => (i === j ? 1 : 0)) })) };
}

/** Search spaces of placements (pure): axes, enumeration under constraints and symmetry, placements as policies. */
export type { SpaceSpec, GuestChoices, KnobChoices, Constraint, Choice, Dimension, Placement, ThreadScope, Knob } from './types.js';
export { spaceSchema } from './schema.js';
export { normaliseSpace, type NormalisedSpace, type PathError } from './dimensions.js';
export { enumerate, allowed, canonical, canonicalise, reach, productSize, MAX_PRODUCT, type Enumeration } from './enumerate.js';
export { placementName, placementPolicy, type PlacementPolicy } from './placement-policy.js';
export { features } from './features.js';

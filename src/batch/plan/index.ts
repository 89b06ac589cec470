export { expandPlan, placeholderValues, where, DEFAULT_POLICY } from './expand.js';
export { paramCombinations, MatrixError, label as paramsLabel, type ParamCombination } from './matrix.js';
export { planRows, hostText, PLAN_COLUMNS } from './rows.js';
export { resolvePlacement, placementNames, PlacementError } from './targets.js';
export { inferParser } from './parser-hint.js';

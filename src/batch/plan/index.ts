export { expandPlan, placeholderValues, where, planCells, cellKey, initialRepeats, DEFAULT_POLICY, type Cell, type ExpandOptions } from './expand.js';
export { resolveOrder, arrange, shuffle, mulberry32 } from './order.js';
export { medianInterval, precision, targetPercent, nextRound, type MedianInterval, type PrecisionVerdict } from './adaptive.js';
export { paramCombinations, MatrixError, label as paramsLabel, type ParamCombination } from './matrix.js';
export { planRows, hostText, launcherText, PLAN_COLUMNS } from './rows.js';
export { resolvePlacement, placementNames, PlacementError } from './targets.js';
export { inferParser } from './parser-hint.js';

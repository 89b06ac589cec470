/** Search strategies over a finite list of candidates (pure): random, exhaustive, halving, model (GP + expected improvement), and the estimates they share. */
export type { Direction, Round, History, Strategy } from './types.js';
export { exhaustive, random, halving, shuffled } from './basic.js';
export { model, expectedImprovement, type ModelOptions } from './model.js';
export { withConfirmation, type ConfirmOptions } from './confirm.js';
export { estimates, ranked, separated, certainty, type CandidateEstimate, type Certainty } from './estimate.js';
export { fitGp, fitWith, cholesky, type GpFit } from './gp.js';
export { replay, type ReplayResult } from './replay.js';
export { climber, noiseOf, helps, type Climber, type ClimbSetting, type Move, type MoveKind } from './hill-climb.js';

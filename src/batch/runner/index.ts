export { runBatch, PreflightError, type RunBatchOptions, type BatchOutcome, type ResumeRequest } from './run-batch.js';
export { prepareResume, type PreparedResume } from './resume.js';
export { medianPrecisionRule, adaptiveCells, type RepeatRule, type RepeatRuleContext, type AdaptiveCell, type CellVerdict } from './repeat-rule.js';
export type { BatchEvent, BatchEventListener, BatchSummary, ProcessView } from './events.js';
export { substituteRunTime, RUN_TIME_PLACEHOLDERS, type RunTimeValues } from './run-placeholders.js';
export { formatDuration, formatElapsed } from './format-duration.js';
export { defaultHooks } from './default-hooks.js';

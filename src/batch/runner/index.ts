export { runBatch, type RunBatchOptions, type BatchOutcome } from './run-batch.js';
export type { BatchEvent, BatchEventListener, BatchSummary, ProcessView } from './events.js';
export { substituteRunTime, RUN_TIME_PLACEHOLDERS, type RunTimeValues } from './run-placeholders.js';
export { formatDuration, formatElapsed } from './format-duration.js';
export { defaultHooks } from './default-hooks.js';

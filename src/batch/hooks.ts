/**
 * How the batch runner lets other parts act around each run without knowing
 * them: Tune applies a policy before the run and restores it after.
 */
import type { Executor } from './executor.js';
import type { PlannedRun, PolicySpec, ResolvedBatchConfig, Target } from './config/types.js';
import type { ExpertStore } from '../store/types.js';

/** Gives the executor for a target, reusing connections; closes them all at the end. */
export interface ExecutorPool {
  get(target: Target): Promise<Executor>;
  closeAll(): Promise<void>;
}

export interface RunContext {
  batchId: number;
  run: PlannedRun;
  policy: PolicySpec;
  config: ResolvedBatchConfig;
  store: ExpertStore;
  executors: ExecutorPool;
  signal: AbortSignal;
}

export interface RunHook {
  /** Before monitors start. Returns values for run-time placeholders, e.g. `{guest_pids}` per node name, and warnings (said once per batch). */
  beforeRun?(context: RunContext): Promise<{ placeholders?: Record<string, Record<string, string>>; warnings?: string[] } | void>;
  /** After monitors stop, also after failures and interrupts: must undo what beforeRun did. */
  afterRun?(context: RunContext): Promise<void>;
}

/**
 * What the batch runner reports while it works: for the CLI's progress
 * display and the kernel's live view. Plain data (JSON-serialisable).
 */
import type { ProcessStatus } from '../executor.js';
import type { BatchStatus } from '../../store/types.js';
import type { PreflightReport } from '../preflight/index.js';

export interface ProcessView {
  processId: number;
  label: string;
  role: 'workload' | 'monitor';
  host: string;
  vm?: string;
  run: number;
  status: ProcessStatus;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  startedAt: number | null;
  endedAt: number | null;
  /** Lines received so far (stdout + stderr). */
  lines: number;
}

export interface BatchSummary {
  status: BatchStatus;
  processes: number;
  workloads: number;
  /** Workloads that did not exit with code 0 (failed, killed, lost, non-zero exit, never started). */
  failedWorkloads: number;
  byStatus: Partial<Record<ProcessStatus, number>>;
  lines: number;
  elapsedMs: number;
  warnings: string[];
}

export type BatchEvent =
  | { type: 'batch-started'; batchId: number; name: string; runs: number; processes: ProcessView[]; startedAt: number }
  /** Before the batch is recorded: the pre-flight checks of every node, and one line per failed check. */
  | { type: 'preflight'; report: PreflightReport; failures: string[] }
  /** `run` is the run index, `position` its place in execution order. */
  | { type: 'run-started'; batchId: number; run: number; position: number; warmup: boolean; runs: number; test: string; policy: string; rep: number; params: Record<string, string> }
  /** Adaptive repeat added a round of `runs` runs for these cells. */
  | { type: 'round-added'; batchId: number; round: number; runs: number; cells: string[] }
  | { type: 'run-finished'; batchId: number; run: number; runs: number }
  | { type: 'process'; batchId: number; process: ProcessView }
  | { type: 'lines'; batchId: number; total: number; perProcess: Record<number, number> }
  | { type: 'warning'; batchId: number; message: string }
  | { type: 'stopping'; batchId: number; reason: string }
  | { type: 'batch-finished'; batchId: number; summary: BatchSummary };

export type BatchEventListener = (event: BatchEvent) => void;

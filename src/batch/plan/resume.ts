/**
 * `expert run --resume`, pure: given every run of a batch and the process
 * rows the store holds for it, which runs to run again (and as which
 * attempt), in their original order, with positions after the last one used.
 * A run is done when its latest attempt has workloads and every one of them
 * exited with code 0; anything else (failed, killed, lost, never started,
 * no rows) is run again, monitors and all (the run is the unit).
 */
import type { PlannedRun } from '../config/types.js';

export interface StoredProcessRow {
  run: number;
  role: string;
  status: string;
  exitCode: number | null;
  attempt: number;
  position: number | null;
}

export interface ResumePlan {
  runs: PlannedRun[];
  /** Run index → attempt number of the re-run. */
  attempts: Map<number, number>;
  /** Runs already done. */
  done: number[];
}

export function planResume(allRuns: readonly PlannedRun[], stored: readonly StoredProcessRow[]): ResumePlan {
  const latest = new Map<number, number>();
  for (const row of stored) latest.set(row.run, Math.max(latest.get(row.run) ?? 0, row.attempt));
  const done = new Set<number>();
  for (const [run, attempt] of latest) {
    const workloads = stored.filter((r) => r.run === run && r.attempt === attempt && r.role === 'workload');
    if (workloads.length > 0 && workloads.every((w) => w.status === 'exited' && w.exitCode === 0)) done.add(run);
  }
  let position = Math.max(0, ...stored.map((r) => r.position ?? 0), ...allRuns.map((r) => r.position));
  const attempts = new Map<number, number>();
  const runs: PlannedRun[] = [];
  for (const run of [...allRuns].sort((a, b) => a.position - b.position)) {
    if (done.has(run.index)) continue;
    attempts.set(run.index, (latest.get(run.index) ?? 0) + 1);
    runs.push({ ...run, position: ++position });
  }
  return { runs, attempts, done: [...done].sort((a, b) => a - b) };
}

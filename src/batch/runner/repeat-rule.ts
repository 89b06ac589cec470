/**
 * Adaptive repetitions while a batch runs: after each round (once every
 * adaptive cell has its `repeat.min` runs) the runner asks a RepeatRule which
 * cells are precise enough. The runner never parses: the default rule asks
 * Mine for the run summary of the batch so far and judges it with the pure
 * precision() of plan/adaptive.ts.
 */
import type { PlannedRun, ResolvedBatchConfig } from '../config/types.js';
import type { ExpertStore } from '../../store/types.js';
import { UserError } from '../../errors.js';
import { cellKey, planCells } from '../plan/expand.js';
import { precision, targetPercent } from '../plan/adaptive.js';
import { runSummary } from '../../mine/summary.js';

/** An adaptive cell still running rounds. */
export interface AdaptiveCell {
  key: string;
  metric: string;
  /** Target CI half-width, percent of the median. */
  targetPct: number;
  min: number;
  max: number;
}

export interface CellVerdict {
  key: string;
  /** Runs with a value for the metric. */
  n: number;
  halfWidthPct?: number;
  precise: boolean;
}

export interface RepeatRuleContext {
  batchId: number;
  store: ExpertStore;
  config: ResolvedBatchConfig;
  /** Every run planned so far (warm-ups included). */
  runs: readonly PlannedRun[];
  cells: readonly AdaptiveCell[];
}

export interface RepeatRule {
  judge(context: RepeatRuleContext): Promise<CellVerdict[]>;
}

export function adaptiveCells(config: ResolvedBatchConfig): AdaptiveCell[] {
  return planCells(config).flatMap((cell) => {
    const repeat = cell.test.repeat;
    if (typeof repeat !== 'object') return [];
    return [{ key: cell.key, metric: repeat.until.metric, targetPct: targetPercent(repeat.until.ci), min: repeat.min, max: repeat.max }];
  });
}

/**
 * A run's value is the mean of the metric over its successful workloads of its
 * latest attempt (for a node total, the sum, the relative CI is the same as
 * long as the number of guests per run is). Warm-ups are left out.
 */
export const medianPrecisionRule: RepeatRule = {
  async judge({ batchId, store, runs, cells }) {
    const summary = await runSummary(store, { batchId });
    const at = (name: string) => summary.columns.indexOf(name);
    const cellOfRun = new Map(runs.filter((r) => !r.warmup).map((r) => [r.index, cellKey(r.test, r.params, r.policy)]));
    const verdicts: CellVerdict[] = [];
    for (const metric of new Set(cells.map((c) => c.metric))) {
      const column = at(metric);
      if (column < 0) {
        const known = summary.columns.filter((c) => !['batch_id', 'batch', 'run', 'label', 'policy', 'params', 'rep', 'host', 'guest', 'status', 'started_at', 'ended_at', 'process_id', 'warmup', 'attempt'].includes(c));
        throw new UserError(`repeat.until.metric \`${metric}\` is not a column of the run summary of batch ${batchId} (columns: ${known.join(', ') || 'none'})`);
      }
      const latest = new Map<number, number>();
      for (const row of summary.rows) latest.set(Number(row[at('run')]), Math.max(latest.get(Number(row[at('run')])) ?? 0, Number(row[at('attempt')] ?? 1)));
      const perRun = new Map<number, number[]>();
      for (const row of summary.rows) {
        const run = Number(row[at('run')]);
        const value = row[column];
        if (row[at('warmup')] === true || row[at('status')] !== 'exited' || value === null || value === undefined) continue;
        if (Number(row[at('attempt')] ?? 1) !== latest.get(run)) continue;
        perRun.set(run, [...(perRun.get(run) ?? []), Number(value)]);
      }
      const perCell = new Map<string, number[]>();
      for (const [run, values] of perRun) {
        const key = cellOfRun.get(run);
        if (key !== undefined) perCell.set(key, [...(perCell.get(key) ?? []), values.reduce((a, b) => a + b, 0) / values.length]);
      }
      for (const cell of cells.filter((c) => c.metric === metric)) verdicts.push({ key: cell.key, ...precision(perCell.get(cell.key) ?? [], cell.targetPct) });
    }
    return verdicts;
  },
};

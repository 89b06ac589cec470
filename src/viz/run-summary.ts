/**
 * Mine's per-run summary as chart columns: one row per workload run, params
 * spread into their own columns (so `facet: size` and `x: size` work).
 */
import { runSummary } from '../mine/summary.js';
import type { ExpertStore } from '../store/types.js';
import type { Columns } from './columns.js';
import { withParamColumns } from './data.js';

export async function runSummaryColumns(store: ExpertStore, batchId: number): Promise<Columns> {
  const { columns, rows } = await runSummary(store, { batchId });
  return withParamColumns(Object.fromEntries(columns.map((c, i) => [c, rows.map((r) => r[i])])));
}

/**
 * A chart spec's data, read from the store: Mine's per-run summary, a
 * parser's table of one batch, or any SQL. Line charts over a batch also get
 * the run windows to shade, and every chart the batch's policy order. Rows
 * marked `since_boot` are left out unless the spec says `since_boot: true`.
 */
import { UserError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { figureFromSpec, type ChartContext } from './chart.js';
import type { Figure } from './figure.js';
import { runSummaryColumns } from './run-summary.js';
import type { Columns } from './columns.js';
import { parsedColumns, policyNames, queryColumns, resolveBatch, runWindows, withParamColumns } from './data.js';
import type { RunSummaryLoader } from './report-data.js';
import { withoutSinceBoot } from './since-boot.js';
import { parseChartSpec, type ChartSpec } from './spec.js';

export interface ChartData {
  columns: Columns;
  context: ChartContext;
  /** What was read, for titles and messages ("batch 3 (pinning), parsed.vmstat"). */
  source: string;
}

export async function loadChartData(store: ExpertStore, spec: ChartSpec, options: { runSummary: RunSummaryLoader }): Promise<ChartData> {
  const samples = (columns: Columns) => (spec.sinceBoot ? columns : withoutSinceBoot(columns));
  if (spec.data.sql) {
    let columns;
    try {
      columns = await queryColumns(store, spec.data.sql);
    } catch (error) {
      // The spec's own SQL failing is the user's to fix, not a bug: say where it came from.
      throw new UserError(`data.sql of the chart spec: ${(error as Error).message}`, { cause: error });
    }
    return { columns: samples(withParamColumns(columns)), context: {}, source: 'SQL query' };
  }
  const batch = await resolveBatch(store, spec.data.batch);
  const batchId = Number(batch.batch_id);
  const context: ChartContext = { categories: policyNames(batch.config) };
  if (spec.kind === 'line' && spec.windows !== false) context.windows = await runWindows(store, batchId);
  const columns = spec.data.parser ? await parsedColumns(store, spec.data.parser, batchId) : await options.runSummary(store, batchId);
  return { columns: samples(columns), context, source: `batch ${batchId} (${batch.name}), ${spec.data.parser ? `parsed.${spec.data.parser}` : 'runs'}` };
}

/**
 * A chart spec's text → its figure, over the store: what `%%plot` in the
 * kernel and `expert plot` do. Mine's run summary feeds `data: {runs: true}`.
 */
export async function figureFromSpecText(store: ExpertStore, text: string, file = '<%%plot cell>'): Promise<{ figure: Figure; spec: ChartSpec; data: ChartData }> {
  const spec = parseChartSpec(text, file);
  const data = await loadChartData(store, spec, { runSummary: runSummaryColumns });
  return { figure: figureFromSpec(spec, data.columns, data.context), spec, data };
}

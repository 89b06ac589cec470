/**
 * `expert tune search <spec.yaml>`: loads the spec and its base batch, runs
 * the search with progress on stderr, prints the ranking, and can apply the
 * best policy.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { BatchConfig, ResolvedBatchConfig } from '../../batch/config/types.js';
import { loadBatchConfig, resolveBatchConfig } from '../../batch/config/index.js';
import { createExecutorPool } from '../../batch/executor-pool.js';
import { UserError } from '../../errors.js';
import { openStore } from '../../store/store.js';
import { formatRows, type OutputFormat } from '../../cli/format.js';
import { defaultJournalPath, Journal } from '../journal.js';
import { nodeTargets, parseWindow } from '../hook.js';
import { applyPolicy } from '../session.js';
import { parseSpecText, type SearchSpec } from './spec.js';
import { formatSummary } from './stats.js';
import { runSearch, type SearchResult } from './run.js';

export async function loadSearchSpec(file: string): Promise<{ spec: SearchSpec; base: ResolvedBatchConfig }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read search spec ${file}: ${(error as Error).message}`);
  }
  return parseSearchSpec(text, file, dirname(resolve(file)));
}

/** A search spec's text (a file's, or a `%%tune search` cell's); `dir` is where its relative paths start. */
export async function parseSearchSpec(text: string, file: string, dir: string): Promise<{ spec: SearchSpec; base: ResolvedBatchConfig }> {
  const spec = parseSpecText(text, file);
  const base = typeof spec.batch === 'string' ? await loadBatchConfig(resolve(dir, spec.batch)) : await resolveBatchConfig(spec.batch as BatchConfig, { file: `${file} (batch:)`, cwd: dir });
  return { spec, base };
}

export function rankingRows(result: SearchResult): { columns: string[]; rows: unknown[][] } {
  return {
    columns: ['rank', 'policy', 'n', 'mean', 'ci95', 'sd', 'batches'],
    rows: result.ranking.map((r, i) => [i + 1, r.name, r.summary.n, r.summary.mean, Number.isFinite(r.summary.ci95) ? r.summary.ci95 : null, Number.isFinite(r.summary.sd) ? r.summary.sd : null, r.batches.join(' ')]),
  };
}

export interface SearchCommandOptions {
  store: string;
  apply: boolean;
  format: OutputFormat;
  /** The spec's text when it does not come from `file` (the kernel's `%%tune search` cell); `file` then only names it. */
  text?: string;
}

export async function runSearchCommand(file: string, options: SearchCommandOptions): Promise<number> {
  const { spec, base } = options.text === undefined ? await loadSearchSpec(file) : await parseSearchSpec(options.text, file, process.cwd());
  const timeBudgetMs = spec.budget?.time === undefined ? undefined : parseWindow(spec.budget.time);
  const store = await openStore(options.store);
  const executors = createExecutorPool();
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write('stopping the search: the current trial is interrupted and its tuning restored…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runSearch(spec, {
      store,
      base,
      executors,
      signal: controller.signal,
      timeBudgetMs,
      journalPath: defaultJournalPath(options.store),
      onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
      onTrial: (t) => process.stderr.write(`trial ${t.candidate}: batch ${t.batchId}, ${t.repetitions} rep(s), values ${t.values.map((v) => Number(v.toPrecision(5))).join(' ') || 'none'}${t.ok ? '' : ' (some workloads failed)'}\n`),
    });
    const { columns, rows } = rankingRows(result);
    process.stdout.write(formatRows(columns, rows, options.format));
    const best = result.best;
    process.stderr.write(`${result.trials.length} trial(s) in ${(result.elapsedMs / 1000).toFixed(1)} s, ended: ${result.ended}\n`);
    if (!best) {
      process.stderr.write('no candidate produced a measurement: check objective.sql against one of the trial batches\n');
      return 1;
    }
    process.stderr.write(`best (${result.direction}): ${best.name} = ${formatSummary(best.summary)}\n`);
    if (options.apply) {
      const nodes = await Promise.all(nodeTargets(base.machines).map(async (target) => ({ node: target.node, target, executor: await executors.get(target) })));
      const applied = await applyPolicy(nodes, best.policy, { store, batchId: null, journal: new Journal(defaultJournalPath(options.store)) }, parseWindow);
      process.stderr.write(`applied ${best.name}: ${applied.results.filter((r) => r.verified).length}/${applied.results.length} actions verified; undo with: expert tune restore\n`);
    }
    return result.ended === 'interrupted' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await executors.closeAll();
    await store.close();
  }
}

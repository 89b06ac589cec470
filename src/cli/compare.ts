/**
 * `expert compare <batch> [<batch2>] --metric COLUMN`: benchstat-style rows
 * per cell and group (see src/mine/compare.ts), a footer that says how every
 * figure was computed, and with `--threshold PCT` exit 1 when a cell got
 * significantly worse by more than PCT percent (a CI gate).
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import type { CompareBy, CompareOptions, CompareRow, Comparison } from '../mine/compare.js';
import { DEFAULT_STORE_PATH } from '../store/default-path.js';
import { columnsOption, resolveFormat, type OutputFormat } from './format.js';
import { printRows } from '../output/print.js';
import { withExistingStore } from './store-access.js';

interface CompareFlags {
  metric: string;
  by?: string;
  baseline?: string;
  threshold?: string;
  test?: string;
  aggregate?: string;
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
  alpha?: string;
  bootstrap?: string;
  resamples?: string;
  seed?: string;
  includeWarmup?: boolean;
  store: string;
  format?: string;
  columns?: string;
}

export function registerCompare(program: Command): void {
  program
    .command('compare <batch> [batch2]')
    .description('compare runs of policies, parameter values or two batches, cell by cell: medians with CIs, delta% with a bootstrap CI, Holm-corrected p-values')
    .requiredOption('--metric <column>', 'a column of the run summary (expert mine summary), e.g. dd_rate_bps')
    .option('--by <group>', 'policy | param:NAME | batch (default: policy with one batch, batch with two)')
    .option('--baseline <name>', "the group the others are compared with (default: 'baseline', else the first)")
    .option('--threshold <pct>', 'exit 1 when a cell got significantly worse by more than this many percent (e.g. 5%)')
    .option('--test <test>', 'mann-whitney (default) or permutation')
    .option('--aggregate <how>', "a run's value: total (sum over a node's guests) or mean (default: from the metric's name)")
    .option('--lower-is-better', 'the metric improves downwards (default: from its name)')
    .option('--higher-is-better', 'the metric improves upwards (default: from its name)')
    .option('--alpha <p>', 'significance level; intervals are at 1 - alpha', '0.05')
    .option('--bootstrap <method>', 'percentile (default) or bca, for the delta% interval')
    .option('--resamples <n>', 'bootstrap resamples and Monte Carlo permutations', '9999')
    .option('--seed <n>', 'seed of the resampling (results are reproducible)')
    .option('--include-warmup', 'keep warm-up runs')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .option('--format <format>', 'table, csv or json (default: table on a terminal, csv otherwise)')
    .option('--columns <a,b,...>', 'print only these columns, in this order')
    .action(async (batch: string, batch2: string | undefined, flags: CompareFlags) => {
      const format = resolveFormat(flags.format);
      const options = compareOptions(flags);
      const refs = batch2 === undefined ? [batch] : [batch, batch2];
      const { compare } = await import('../mine/compare.js');
      const result = await withExistingStore(flags.store, (store) => compare(store, refs, options));
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      // A gate that compared nothing must not pass: it was pointed at the wrong batch or metric.
      if (result.threshold !== null && result.compared === 0) {
        throw new UserError(`--threshold: nothing was compared (no cell has ${result.metric} for both '${result.baseline}' and another group), so there is nothing to gate on`);
      }
      const table = render(result, format);
      const picked = columnsOption(flags.columns);
      // On a narrow terminal the change and its significance stay; the mean and the raw p give way first.
      const tableOrder = ['test', 'params', 'policy', 'batch', 'group', 'n', 'median', 'ci_low', 'ci_high', 'delta_pct', 'delta_ci_low', 'delta_ci_high', 'p_value', 'significant', 'mean', 'ci_level', 'p_raw', 'regression', 'note'];
      await printRows(table.columns, table.rows, format, picked ? { columns: picked } : { tableOrder });
      const footer = result.method.map((line) => `# ${line}\n`).join('');
      if (format === 'table') process.stdout.write(footer);
      else process.stderr.write(footer);
      if (result.regressions.length > 0) {
        process.stderr.write(
          `expert: ${result.regressions.length} cell(s) significantly worse than '${result.baseline}' by more than ${result.threshold}%: ` +
            result.regressions.map((r) => `${cellName(r)} ${r.group} ${signed(r.delta_pct)}%`).join('; ') + '\n',
        );
        process.exitCode = 1;
      }
    });
}

function compareOptions(flags: CompareFlags): CompareOptions {
  if (flags.lowerIsBetter && flags.higherIsBetter) throw new UserError('--lower-is-better and --higher-is-better: give one of them');
  const options: CompareOptions = { metric: flags.metric };
  if (flags.by !== undefined) options.by = flags.by as CompareBy;
  if (flags.baseline !== undefined) options.baseline = flags.baseline;
  if (flags.threshold !== undefined) {
    const pct = Number(flags.threshold.replace(/%$/, ''));
    if (!(Number.isFinite(pct) && pct >= 0)) throw new UserError(`--threshold: expected a percentage like 5 or 5%, got '${flags.threshold}'`);
    options.threshold = pct;
  }
  if (flags.test !== undefined) {
    if (flags.test !== 'mann-whitney' && flags.test !== 'permutation') throw new UserError(`--test: expected mann-whitney or permutation, got '${flags.test}'`);
    options.test = flags.test;
  }
  if (flags.aggregate !== undefined) {
    if (flags.aggregate !== 'total' && flags.aggregate !== 'mean') throw new UserError(`--aggregate: expected total or mean, got '${flags.aggregate}'`);
    options.aggregate = flags.aggregate;
  }
  if (flags.lowerIsBetter) options.lowerIsBetter = true;
  if (flags.higherIsBetter) options.lowerIsBetter = false;
  if (flags.bootstrap !== undefined) {
    if (flags.bootstrap !== 'percentile' && flags.bootstrap !== 'bca') throw new UserError(`--bootstrap: expected percentile or bca, got '${flags.bootstrap}'`);
    options.bootstrap = flags.bootstrap;
  }
  options.alpha = number('--alpha', flags.alpha ?? '0.05', (v) => v > 0 && v < 1, 'a number between 0 and 1');
  options.resamples = number('--resamples', flags.resamples ?? '9999', (v) => Number.isInteger(v) && v >= 99, 'a whole number ≥ 99');
  if (flags.seed !== undefined) options.seed = number('--seed', flags.seed, (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32, 'a whole number below 2^32');
  if (flags.includeWarmup) options.includeWarmup = true;
  return options;
}

function number(flag: string, text: string, ok: (v: number) => boolean, expected: string): number {
  const value = Number(text);
  if (text.trim() === '' || !ok(value)) throw new UserError(`${flag}: expected ${expected}, got '${text}'`);
  return value;
}

const TABLE_COLUMNS = ['test', 'params', 'policy', 'batch', 'group', 'n', 'median', 'ci_low', 'ci_high', 'mean', 'delta_pct', 'delta_ci_low', 'delta_ci_high', 'p_value', 'significant'] as const;
const EXTRA_COLUMNS = ['ci_level', 'p_raw', 'regression', 'note'] as const;

/** The rows to print: raw figures for csv/json, figures as a person reads them (signs, %, stars) for a table. */
function render(result: Comparison, format: OutputFormat): { columns: string[]; rows: unknown[][] } {
  const strata = TABLE_COLUMNS.filter((c) => (c !== 'policy' || result.rows.some((r) => r.policy !== null)) && (c !== 'batch' || result.rows.some((r) => r.batch !== null)));
  const columns = [...strata, ...EXTRA_COLUMNS];
  if (format === 'json') return { columns, rows: result.rows.map((r) => columns.map((c) => r[c])) };
  if (format === 'csv') return { columns, rows: result.rows.map((r) => columns.map((c) => (c === 'params' ? paramsText(r.params) : r[c]))) };
  return { columns, rows: result.rows.map((r) => columns.map((c) => tableCell(r, c))) };
}

function tableCell(row: CompareRow, column: (typeof TABLE_COLUMNS)[number] | (typeof EXTRA_COLUMNS)[number]): string {
  const value = row[column];
  switch (column) {
    case 'params':
      return paramsText(row.params);
    case 'delta_pct':
      return row.delta_pct === null ? '' : `${signed(row.delta_pct)}%`;
    case 'delta_ci_low':
    case 'delta_ci_high':
      return value === null ? '' : `${signed(value as number)}%`;
    case 'p_value':
    case 'p_raw':
      return value === null ? '' : pText(value as number);
    case 'significant':
      return row.significant === null ? '' : row.significant ? (row.regression ? '* worse' : '*') : '';
    case 'ci_level':
      return value === null ? '' : `${Number(((value as number) * 100).toPrecision(4))}%`;
    case 'regression':
      return row.regression ? 'yes' : '';
    default:
      return typeof value === 'number' ? significant(value) : value === null ? '' : String(value);
  }
}

function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',');
}

function cellName(row: CompareRow): string {
  const params = paramsText(row.params);
  return `${row.test}${params ? `[${params}]` : ''}${row.policy ? ` ${row.policy}` : ''}${row.batch ? ` (${row.batch})` : ''}`;
}

function significant(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return '';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(digits)));
}

function signed(v: number | null): string {
  if (v === null) return '';
  const text = significant(v, 3);
  return v > 0 ? `+${text}` : text;
}

function pText(p: number): string {
  return p < 1e-4 ? '<0.0001' : String(Number(p.toPrecision(2)));
}

/**
 * `compare()`'s rows as a table a reader of a report or a notebook can take
 * in (pure): the cell, the group, n, the median with its interval and the
 * interval's real coverage, the mean (harmonic for throughputs), the change
 * against the baseline with its bootstrap interval, the Holm-corrected
 * p-value and a mark when significant. Numbers to significant digits; where
 * n is too small the cell says so instead of showing a number.
 */
import type { CompareRow, Comparison } from '../mine/compare.js';
import { formatP, signedPercent, significant } from './numbers.js';
import type { TableData } from './report.js';

export interface ComparisonTableOptions {
  /** Significant digits of medians, intervals and means (4). */
  digits?: number;
}

/** Rows as text cells; `unit` goes into the headers of the metric's columns. */
export function comparisonTable(comparison: Comparison, unit: string, options: ComparisonTableOptions = {}): TableData {
  const digits = options.digits ?? 4;
  const strata = (['policy', 'batch'] as const).filter((c) => comparison.rows.some((r) => r[c] !== null));
  const withTest = new Set(comparison.rows.map((r) => r.test)).size > 1;
  const columns = [
    'cell',
    ...strata,
    comparison.by === 'policy' ? 'policy' : comparison.by === 'batch' ? 'batch' : comparison.by.slice('param:'.length),
    'runs',
    `median (${unit})`,
    'CI of the median',
    `${comparison.rate ? 'harmonic mean' : 'mean'} (${unit})`,
    `change vs ${comparison.baseline}`,
    'CI of the change',
    'p (Holm)',
    'note',
  ];
  const rows = comparison.rows.map((r) => [
    cellText(r, withTest),
    ...strata.map((c) => r[c] ?? ''),
    r.group,
    r.n,
    significant(r.median, digits),
    r.ci_low === null || r.ci_high === null ? 'n too small' : `${significant(r.ci_low, digits)} – ${significant(r.ci_high, digits)} (${significant(100 * (r.ci_level ?? 0), 3)}%)`,
    significant(r.mean, digits),
    r.baseline ? '' : r.delta_pct === null ? 'n/a' : signedPercent(r.delta_pct, 3),
    r.baseline ? '' : r.delta_ci_low === null || r.delta_ci_high === null ? 'n too small' : `${signedPercent(r.delta_ci_low, 3)} to ${signedPercent(r.delta_ci_high, 3)}`,
    r.baseline ? '' : r.p_value === null ? 'n too small' : `${formatP(r.p_value)}${r.significant ? ' *' : ''}`,
    notes(r),
  ]);
  return { columns, rows };
}

/** The row's note without what the interval and p columns already say ("n too small"). */
function notes(row: CompareRow): string {
  const parts = row.note.split('; ').filter((n) => n && n !== 'baseline' && !/^(baseline: )?n too small$/.test(n));
  return [row.baseline ? 'baseline' : '', ...parts].filter(Boolean).join('; ');
}

/** The cell a row belongs to: test (when several) and its parameter values. */
export function cellText(row: Pick<CompareRow, 'test' | 'params'>, withTest: boolean): string {
  const params = Object.entries(row.params).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  if (withTest) return params ? `${row.test} · ${params}` : row.test;
  return params || row.test;
}

/**
 * `--format table|csv|json` and `--columns` for every verb that prints data.
 * Table is the default on a TTY, CSV otherwise (so pipes get machine-readable
 * output). The formats themselves live in src/output/.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { cellFromJs } from '../output/cell.js';
import { csvHeader, csvRow } from '../output/csv.js';
import { jsonRow } from '../output/json.js';
import { printRows, tableString, type OutputFormat, type PrintOptions } from '../output/print.js';
import { tableText } from '../output/table-text.js';

export type { OutputFormat } from '../output/print.js';

export function resolveFormat(requested: string | undefined, isTTY = Boolean(process.stdout.isTTY)): OutputFormat {
  if (requested === undefined) return isTTY ? 'table' : 'csv';
  if (requested === 'table' || requested === 'csv' || requested === 'json') return requested;
  throw new UserError(`--format: expected table, csv or json, got '${requested}'`);
}

export interface DataOptions {
  format?: string;
  columns?: string;
}

/** Adds `--format` and `--columns` to a verb that prints rows. */
export function dataOptions(command: Command): Command {
  return command
    .option('--format <format>', 'table, csv or json (default: table on a terminal, csv otherwise)')
    .option('--columns <a,b,...>', 'print only these columns, in this order');
}

export function columnsOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((c) => c.trim()).filter(Boolean);
  if (names.length === 0) throw new UserError(`--columns: expected column names separated by commas, got '${value}'`);
  return names;
}

/**
 * Refuses `--columns` names that are not among `columns` (before a verb does its work, so a typo costs nothing).
 * `of` names the output when a verb has more than one, and `hint` may add a word on a name it knows from elsewhere.
 */
export function checkColumnNames(columns: readonly string[], picked: readonly string[] | undefined, of?: { where: string; hint?(name: string): string }): void {
  const unknown = (picked ?? []).find((c) => !columns.includes(c));
  if (unknown === undefined) return;
  const head = of ? `--columns: no column '${unknown}' in ${of.where}; its columns are` : `--columns: no column '${unknown}'; the columns are`;
  throw new UserError(`${head}: ${columns.join(', ')}${of?.hint?.(unknown) ?? ''}`);
}

/** Prints a verb's rows to stdout in the format and columns its options ask for. */
export function printData(columns: readonly string[], rows: readonly (readonly unknown[])[], options: DataOptions, extra: PrintOptions = {}): Promise<number> {
  const picked = columnsOption(options.columns);
  return printRows(columns, rows, resolveFormat(options.format), { ...extra, ...(picked ? { columns: picked } : {}) });
}

/** The rows as one string (for callers that need text rather than stdout). */
export function formatRows(columns: readonly string[], rows: readonly unknown[][], format: OutputFormat): string {
  const cells = rows.map((row) => row.map(cellFromJs));
  switch (format) {
    case 'json':
      return cells.length === 0 ? '[]\n' : `[\n${cells.map((row) => jsonRow(columns, row)).join(',\n')}\n]\n`;
    case 'csv':
      return csvHeader(columns) + cells.map(csvRow).join('');
    case 'table':
      return tableString(columns, cells);
  }
}

/** One value as a human reads it (HTML tables, report text). */
export function cellText(value: unknown): string {
  return tableText(cellFromJs(value));
}

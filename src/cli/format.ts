/**
 * `--format table|csv|json` for every verb that prints data. Table is the
 * default on a TTY, CSV otherwise (so pipes get machine-readable output).
 */
import { UserError } from '../errors.js';

export type OutputFormat = 'table' | 'csv' | 'json';

export function resolveFormat(requested: string | undefined, isTTY = Boolean(process.stdout.isTTY)): OutputFormat {
  if (requested === undefined) return isTTY ? 'table' : 'csv';
  if (requested === 'table' || requested === 'csv' || requested === 'json') return requested;
  throw new UserError(`--format: expected table, csv or json, got '${requested}'`);
}

export function formatRows(columns: readonly string[], rows: readonly unknown[][], format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, jsonValue(row[i])]))), null, 0) + '\n';
    case 'csv':
      return [columns, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
    case 'table':
      return table(columns, rows);
  }
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object' && 'toString' in value && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return String(value);
  return value ?? null;
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return JSON.stringify(value);
  return String(value);
}

function csvCell(value: unknown): string {
  const text = cellText(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function table(columns: readonly string[], rows: readonly unknown[][]): string {
  const cells = rows.map((row) => row.map((v) => cellText(v).replace(/\n/g, '\\n')));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0))));
  const fit = (text: string, i: number) => (text.length > widths[i]! ? text.slice(0, widths[i]! - 1) + '…' : text.padEnd(widths[i]!));
  const lines = [columns.map(fit).join('  '), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map((r) => r.map(fit).join('  '))];
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}

/**
 * Cells as RFC 4180 CSV fields (quoted when they hold a comma, quote, CR or
 * LF; quotes doubled; rows end in LF, as DuckDB's own CSV writer does). Values
 * are what a spreadsheet reads: numbers in full precision, timestamps and
 * intervals as DuckDB prints them, NULL as an empty field, lists/structs/maps
 * as their JSON.
 */
import { ExactNumber, JsonText, type Cell } from './cell.js';
import { jsonText } from './json.js';

export function csvText(cell: Cell): string {
  if (cell === null) return '';
  switch (typeof cell) {
    case 'boolean':
      return cell ? 'true' : 'false';
    case 'number':
      return String(cell);
    case 'string':
      return cell;
  }
  if (cell instanceof ExactNumber || cell instanceof JsonText) return cell.text;
  return jsonText(cell);
}

export function csvField(cell: Cell): string {
  const text = csvText(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(row: readonly Cell[]): string {
  return row.map(csvField).join(',') + '\n';
}

export function csvHeader(columns: readonly string[]): string {
  return columns.map(csvField).join(',') + '\n';
}

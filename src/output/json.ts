/**
 * Cells as JSON: numbers as numbers, lists as arrays, structs and maps as
 * objects, NULL as null; integers beyond 2^53 and over-long decimals as strings
 * (a JSON reader would round them); NaN and ±Infinity, which JSON cannot
 * spell, as the strings "NaN", "Infinity", "-Infinity"; JSON columns embedded.
 */
import { ExactNumber, JsonText, type Cell } from './cell.js';

export function jsonText(cell: Cell): string {
  if (cell === null) return 'null';
  switch (typeof cell) {
    case 'boolean':
      return cell ? 'true' : 'false';
    case 'number':
      return Number.isFinite(cell) ? JSON.stringify(cell) : JSON.stringify(String(cell));
    case 'string':
      return JSON.stringify(cell);
  }
  if (cell instanceof ExactNumber) return JSON.stringify(cell.text);
  if (cell instanceof JsonText) return embeddedJson(cell.text);
  if (Array.isArray(cell)) return `[${cell.map(jsonText).join(',')}]`;
  return `{${Object.entries(cell).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
}

/** A JSON column's text, embedded when it parses (DuckDB may hold invalid JSON text in a JSON column read from a file). */
function embeddedJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

/** One result row as a JSON object. */
export function jsonRow(columns: readonly string[], row: readonly Cell[]): string {
  return `{${columns.map((c, i) => `${JSON.stringify(c)}:${jsonText(row[i] ?? null)}`).join(',')}}`;
}

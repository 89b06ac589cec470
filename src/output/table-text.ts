/**
 * Cells as text for a human reading a table (terminal or notebook): floats
 * rounded to significant digits, whole numbers in full, lists/structs/maps as
 * compact JSON, line breaks shown as `\n`. Machine formats (CSV, JSON) keep full
 * precision; only this one rounds.
 */
import { ExactNumber, JsonText, type Cell } from './cell.js';
import { jsonText } from './json.js';

export const TABLE_SIGNIFICANT_DIGITS = 6;

/** A number to `digits` significant digits, without exponent noise for ordinary magnitudes. */
export function roundedNumber(value: number, digits = TABLE_SIGNIFICANT_DIGITS): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e15 || abs < 1e-4)) return value.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(digits)));
}

export function tableText(cell: Cell): string {
  if (cell === null) return '';
  switch (typeof cell) {
    case 'boolean':
      return cell ? 'true' : 'false';
    case 'number':
      return roundedNumber(cell);
    case 'string':
      return cell.replace(/\r?\n/g, '\\n').replace(/\t/g, ' ');
  }
  if (cell instanceof ExactNumber || cell instanceof JsonText) return cell.text.replace(/\r?\n/g, '\\n');
  return jsonText(cell);
}

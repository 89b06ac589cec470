/**
 * Figure builders take plain column data. This module accepts the shapes a
 * user has at hand (an Arquero table, a `{column: values[]}` object, an array
 * of row objects, or a store query result) and turns them into columns.
 */
import { UserError } from '../errors.js';

export type Columns = Record<string, unknown[]>;

/** Anything with Arquero's `columnNames()` and `array(name)`. */
export interface ArqueroLike {
  columnNames(): string[];
  array(name: string): ArrayLike<unknown>;
}

export type TableInput = Columns | ArqueroLike | readonly Record<string, unknown>[] | { columns: string[]; rows: unknown[][] };

export function toColumns(input: TableInput): Columns {
  if (Array.isArray(input)) return fromRows(input as readonly Record<string, unknown>[]);
  const obj = input as Record<string, unknown>;
  if (typeof obj.columnNames === 'function' && typeof obj.array === 'function') {
    const table = input as ArqueroLike;
    return Object.fromEntries(table.columnNames().map((name) => [name, Array.from(table.array(name))]));
  }
  if (Array.isArray(obj.columns) && Array.isArray(obj.rows)) {
    const { columns, rows } = input as { columns: string[]; rows: unknown[][] };
    return Object.fromEntries(columns.map((name, i) => [name, rows.map((row) => row[i])]));
  }
  for (const [name, values] of Object.entries(obj)) {
    if (!Array.isArray(values)) throw new UserError(`table data: column '${name}' is not an array`);
  }
  return obj as Columns;
}

function fromRows(rows: readonly Record<string, unknown>[]): Columns {
  const names = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) names.add(key);
  return Object.fromEntries([...names].map((name) => [name, rows.map((row) => row[name])]));
}

export function rowCount(columns: Columns): number {
  return Math.max(0, ...Object.values(columns).map((c) => c.length));
}

/** The column, or a UserError naming the columns there are. */
export function column(columns: Columns, name: string, role = 'column'): unknown[] {
  const values = columns[name];
  if (!values) {
    const known = Object.keys(columns);
    throw new UserError(`${role} '${name}' is not in the data; columns are: ${known.length ? known.join(', ') : '(none)'}`);
  }
  return values;
}

/** Row indexes grouped by the text of `name`'s value, groups in order of first appearance. */
export function groupRows(columns: Columns, name: string | undefined): Map<string, number[]> {
  const n = rowCount(columns);
  const groups = new Map<string, number[]>();
  const values = name ? column(columns, name, 'colour/facet column') : undefined;
  for (let i = 0; i < n; i++) {
    const key = values ? groupKey(values[i]) : '';
    let rows = groups.get(key);
    if (!rows) groups.set(key, (rows = []));
    rows.push(i);
  }
  return groups;
}

export function groupKey(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function pick<T>(values: readonly T[], rows: readonly number[]): T[] {
  return rows.map((i) => values[i]!);
}

/** Plotly-friendly values: bigints to numbers, Dates to ISO strings (Plotly reads them as dates). */
export function plotValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    // DuckDB timestamp values and the like print themselves meaningfully.
    const text = String(value);
    return text === '[object Object]' ? JSON.stringify(value) : text;
  }
  return value;
}

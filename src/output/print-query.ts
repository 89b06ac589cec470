/**
 * A query's result printed straight from DuckDB: chunk by chunk, each value
 * by its column type (src/output/duckdb-cells.ts), so every DuckDB type prints
 * in every format and a result of any size streams through a pipe.
 */
import type { ExpertStore } from '../store/types.js';
import { cellOf } from './duckdb-cells.js';
import { RowPrinter, type OutputFormat, type PrintOptions } from './print.js';

export async function printQuery(store: ExpertStore, sql: string, params: unknown[], format: OutputFormat, options: PrintOptions = {}): Promise<number> {
  let printer: RowPrinter | undefined;
  const { columns } = await store.scan(sql, params, async ({ columns, types, rows }) => {
    printer ??= new RowPrinter(columns, format, options);
    if (printer.closed) return false;
    await printer.push(rows.map((row) => row.map((value, i) => cellOf(value, types[i]!))));
    return !printer.closed;
  });
  printer ??= new RowPrinter(columns, format, options);
  return printer.end();
}

/** Thin access to the store's DuckDB connection for Mine's own SQL. */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

export async function exec(connection: DuckDBConnection, sql: string): Promise<void> {
  await connection.run(sql);
}

export async function rows(connection: DuckDBConnection, sql: string, params?: DuckDBValue[]): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql, params);
  return reader.getRowObjectsJS() as Row[];
}

export function toNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return 0;
  return Number(value);
}

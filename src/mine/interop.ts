/**
 * Hand query results to JS data-frame libraries. Reduce in SQL first; what
 * crosses into JS is one array per column (DuckDB's column readers), never an
 * array of row objects. BIGINTs that fit a double become numbers.
 */
import type { DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import type { Cell } from '../output/cell.js';
import { cellOf } from '../output/duckdb-cells.js';
import type { ExpertStore } from '../store/types.js';
import { ensureParsed } from './engine.js';
import { withMineLock } from './lock.js';
import type { ParserRegistry } from './registry.js';
import { ident } from './sql.js';

export interface ColumnData {
  names: string[];
  columns: Record<string, unknown[]>;
  rowCount: number;
  /** The first `limit` rows as Cells (src/output), exactly by DuckDB type, for tables a person reads. */
  cells(limit: number): Cell[][];
}

export async function queryColumns(store: ExpertStore, sql: string, params: DuckDBValue[] = []): Promise<ColumnData> {
  let reader: DuckDBResultReader;
  try {
    reader = await withMineLock(store.connection, () => store.connection.runAndReadAll(sql, params));
  } catch (error) {
    throw new UserError(`query failed: ${(error as Error).message}`, { cause: error });
  }
  const names = reader.columnNames();
  const data = reader.getColumnsJS();
  const columns: Record<string, unknown[]> = {};
  names.forEach((name, i) => {
    columns[name] = (data[i] ?? []).map(plain);
  });
  const types = reader.columnTypes();
  // For display: the first rows by their DuckDB type (every type prints; timestamps keep microseconds).
  const cells = (limit: number): Cell[][] => {
    const count = Math.min(limit, reader.currentRowCount);
    const rows: Cell[][] = [];
    for (let r = 0; r < count; r++) rows.push(names.map((_, c) => cellOf(reader.value(c, r), types[c]!)));
    return rows;
  };
  return { names, columns, rowCount: reader.currentRowCount, cells };
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  return value;
}

/** An Arquero table of the query's result (arquero is a regular dependency). */
export async function toArquero(store: ExpertStore, sql: string, params: DuckDBValue[] = []) {
  const { names, columns } = await queryColumns(store, sql, params);
  const aq = await import('arquero');
  return aq.table(columns, names);
}

/** A danfo.js DataFrame of the query's result; danfojs is optional and loaded only here. */
export async function toDanfo(store: ExpertStore, sql: string, params: DuckDBValue[] = []): Promise<unknown> {
  const { names, columns } = await queryColumns(store, sql, params);
  let danfo: { DataFrame: new (data: unknown, options?: unknown) => unknown };
  try {
    const moduleName = 'danfojs';
    danfo = (await import(moduleName)) as typeof danfo;
  } catch (error) {
    throw new UserError(`toDanfo needs the optional package danfojs: npm install danfojs (${(error as Error).message})`, { cause: error });
  }
  const DataFrame = danfo.DataFrame ?? (danfo as unknown as { default: typeof danfo }).default.DataFrame;
  // danfo takes an object of columns; Dates and bigints it does not know become strings.
  const data = Object.fromEntries(names.map((n) => [n, columns[n]!.map((v) => (typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v))]));
  return new DataFrame(data, { columns: names });
}

/** Parses on demand (cached), then returns `parsed.<parser>` (optionally one batch) as an Arquero table: what `%mine parse P -o var` needs. */
export async function parsedToArquero(store: ExpertStore, parser: string, options: { batchId?: number; registry?: ParserRegistry } = {}) {
  const report = await ensureParsed(store, parser, options);
  const where = options.batchId === undefined ? '' : `WHERE process_id IN (SELECT process_id FROM process WHERE batch_id = ${Math.trunc(options.batchId)})`;
  const table = await toArquero(store, `SELECT * FROM parsed.${ident(parser)} ${where} ORDER BY process_id, seq`);
  return { table, report };
}

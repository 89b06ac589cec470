/**
 * A query's result handed over chunk by chunk (DuckDB's own chunks, ~2048
 * rows), for `ExpertStore.scan` on a file's own connection and on a live
 * writer's; `visit` returning false stops the scan early (nothing more is computed).
 */
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { ResultChunk } from './types.js';
import { toDuckDBValue } from './values.js';

export type ChunkVisitor = (chunk: ResultChunk) => Promise<void | boolean> | void | boolean;

/** What scanning needs of a connection: DuckDB's, or a live writer's stand-in for it. */
export interface Streaming {
  stream(sql: string, values?: DuckDBValue[]): Promise<{
    deduplicatedColumnNames(): string[];
    columnTypes(): DuckDBType[];
    yieldRows(): AsyncIterableIterator<DuckDBValue[][]>;
  }>;
}

export async function scanChunks(
  connection: Streaming,
  sql: string,
  params: unknown[],
  visit: ChunkVisitor,
): Promise<{ columns: string[]; types: DuckDBType[] }> {
  const result = await connection.stream(sql, params.map(toDuckDBValue));
  const columns = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  for await (const rows of result.yieldRows()) if ((await visit({ columns, types, rows })) === false) break;
  return { columns, types };
}

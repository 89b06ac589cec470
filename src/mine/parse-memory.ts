/**
 * The memory DuckDB may use while Mine parses. A writable store caps DuckDB
 * at 128 MB (see `store.ts`) so a long batch stays small; a parse of a big
 * process under that cap evicts and re-reads its own freshly written blocks:
 * 10 M vmstat lines took ~21 CPU-s at 128 MB against ~14.5 at 256 MB or more
 * (bench:mine, 2 threads). So a parse raises the limit to at least
 * `EXPERT_MINE_MEMORY_LIMIT` (default 256MB) and puts the old value back after.
 * It never lowers a limit the user set higher.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { rows } from './db.js';
import { literal } from './sql.js';

export const DEFAULT_PARSE_MEMORY_LIMIT = '256MB';

const UNITS: Record<string, number> = {
  b: 1, byte: 1, bytes: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** `'128MB'`, `'488.2 MiB'`, `'4GB'` → bytes; undefined when it is not a size. */
export function sizeInBytes(text: string): number | undefined {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]+)?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

export function parseMemoryLimit(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.EXPERT_MINE_MEMORY_LIMIT || DEFAULT_PARSE_MEMORY_LIMIT;
  if (sizeInBytes(wanted) === undefined) {
    throw new UserError(`EXPERT_MINE_MEMORY_LIMIT='${wanted}' is not a size: write it like 256MB or 2GB`);
  }
  return wanted;
}

/** Runs `work` with DuckDB's memory limit raised to at least `limit`, then restores the old limit. */
export async function withParseMemory<T>(connection: DuckDBConnection, limit: string, work: () => Promise<T>): Promise<T> {
  const current = String((await rows(connection, `SELECT current_setting('memory_limit') AS v`))[0]?.v ?? '');
  const currentBytes = sizeInBytes(current);
  const wantedBytes = sizeInBytes(limit)!;
  if (currentBytes !== undefined && currentBytes >= wantedBytes) return work();
  await connection.run(`SET memory_limit = ${literal(limit)}`);
  try {
    return await work();
  } finally {
    // DuckDB prints the limit rounded ("122.0 MiB"); putting that size back is exact enough. If DuckDB
    // cannot shrink right now (buffers still pinned), the higher limit stays: the parse itself succeeded.
    if (currentBytes !== undefined) {
      await connection.run(`SET memory_limit = ${literal(`${Math.floor(currentBytes)}B`)}`).catch(() => undefined);
    }
  }
}

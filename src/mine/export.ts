/**
 * Parquet export of a batch (or the whole store): the raw tables and every
 * parsed table, one file each, written by DuckDB's COPY. DuckDB, pandas
 * (pyarrow) and Spark read them back as they are.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { rows, toNumber } from './db.js';
import { withMineLock } from './lock.js';
import { ensureParsed } from './engine.js';
import { defaultRegistry, type ParserRegistry } from './registry.js';
import { ident, literal } from './sql.js';

export interface ExportOptions {
  batchId?: number;
  /** Parse what is not parsed yet before exporting (needs a writable store; default true when writable). */
  parse?: boolean;
  registry?: ParserRegistry;
}

export interface ExportedFile {
  table: string;
  file: string;
  rows: number;
}

export async function exportParquet(store: ExpertStore, dir: string, options: ExportOptions = {}): Promise<ExportedFile[]> {
  return withMineLock(store.connection, async () => {
    const out = resolve(dir);
    await mkdir(out, { recursive: true });
    const connection = store.connection;
    const batch = options.batchId;
    if (batch !== undefined) {
      const found = await rows(connection, `SELECT 1 FROM batch WHERE batch_id = $1`, [batch]);
      if (found.length === 0) throw new UserError(`no batch ${batch} in ${store.path}`);
    }
    const registry = options.registry ?? defaultRegistry();
    if (options.parse ?? !store.readOnly) {
      const processes = await rows(connection, `SELECT command, parser FROM process WHERE ($1::INTEGER IS NULL OR batch_id = $1::INTEGER)`, [batch ?? null]);
      const wanted = new Set<string>();
      for (const p of processes) {
        const parser = registry.parserFor({ command: String(p.command), parser: (p.parser as string | null) ?? null });
        if (parser) wanted.add(parser.name);
      }
      for (const name of wanted) await ensureParsed(store, name, { ...(batch !== undefined ? { batchId: batch } : {}), registry });
    }
    const inBatch = batch === undefined ? 'true' : `process_id IN (SELECT process_id FROM process WHERE batch_id = ${Math.trunc(batch)})`;
    const batchFilter = batch === undefined ? 'true' : `batch_id = ${Math.trunc(batch)}`;
    const tables: [string, string][] = [
      ['batch', `SELECT * FROM batch WHERE ${batchFilter}`],
      ['process', `SELECT * FROM process WHERE ${batchFilter}`],
      ['line', `SELECT * FROM line WHERE ${inBatch} ORDER BY process_id, seq`],
      ['tuning', `SELECT * FROM tuning WHERE ${batchFilter}`],
    ];
    const parsed = await rows(connection, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'parsed' AND NOT temporary AND table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1`);
    for (const t of parsed) {
      const name = String(t.table_name);
      tables.push([`parsed_${name}`, `SELECT * FROM parsed.${ident(name)} WHERE ${inBatch} ORDER BY process_id, seq`]);
    }
    const files: ExportedFile[] = [];
    for (const [table, query] of tables) {
      const file = resolve(out, `${table}.parquet`);
      await connection.run(`COPY (${query}) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`);
      const count = await rows(connection, `SELECT count(*) AS n FROM read_parquet(${literal(file)})`);
      files.push({ table, file, rows: toNumber(count[0]?.n) });
    }
    return files;
  });
}

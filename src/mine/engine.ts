/**
 * Lazy, versioned, incremental parsing. `ensureParsed` parses exactly the
 * processes a parser claims that are not cached yet (or were cached by an
 * older version, or were still running), inside DuckDB: the parser's SQL runs
 * over `line` and its result is inserted into `parsed.<name>`. Bookkeeping:
 *
 *   parsed._parsers(parser, version, created_at)        version the table was built with
 *   parsed._state(parser, version, process_id, rows, errors, complete, parsed_at)
 *
 * A version change drops the table and its state, so everything re-parses on
 * the next request. A process that had not ended when parsed (`complete =
 * false`) is parsed again next time, since more lines may have arrived.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ReadOnlyStoreError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { exec, rows, toNumber } from './db.js';
import { withMineLock } from './lock.js';
import { defaultRegistry, type ParserRegistry } from './registry.js';
import { parseMemoryLimit, withParseMemory } from './parse-memory.js';
import { programWords } from './program.js';
import type { SinceBootRows } from './since-boot.js';
import { literal, parsedTable } from './sql.js';
import type { ParseReport, ParserDefinition } from './types.js';

const FINISHED = new Set(['exited', 'killed', 'lost', 'failed']);

/** The processes a parse works on, and what `ParserDefinition.sinceBoot` said of each. */
const TODO_COLUMNS = '_mine_todo(process_id BIGINT, complete BOOLEAN, since_boot VARCHAR)';

export interface ParseOptions {
  batchId?: number;
  registry?: ParserRegistry;
}

export async function ensureBookkeeping(connection: DuckDBConnection): Promise<void> {
  await exec(
    connection,
    `CREATE SCHEMA IF NOT EXISTS parsed;
     CREATE TABLE IF NOT EXISTS parsed._parsers(parser VARCHAR PRIMARY KEY, version VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);
     CREATE TABLE IF NOT EXISTS parsed._state(parser VARCHAR NOT NULL, version VARCHAR NOT NULL, process_id BIGINT NOT NULL,
       "rows" BIGINT NOT NULL, errors BIGINT NOT NULL, complete BOOLEAN NOT NULL, parsed_at TIMESTAMP NOT NULL, PRIMARY KEY(parser, process_id));`,
  );
}

/** The full SELECT of a parser over the processes listed in temp table `_mine_todo`. */
export function parserQuery(parser: ParserDefinition, todoTable = '_mine_todo'): string {
  return `WITH src AS (
      SELECT l.process_id, l.seq, l.ts, l.stream, l.text FROM line l
      WHERE l.process_id IN (SELECT process_id FROM ${todoTable})
    )
    SELECT * FROM (${parser.sql('src')}) parsed_rows`;
}

export async function ensureParsed(store: ExpertStore, parserName: string, options: ParseOptions = {}): Promise<ParseReport> {
  return withMineLock(store.connection, async () => {
    const registry = options.registry ?? defaultRegistry();
    const parser = registry.get(parserName);
    const connection = store.connection;
    const table = parsedTable(parser.name);

    const hasBookkeeping = await tableExists(connection, 'parsed', '_state');
    if (!hasBookkeeping && store.readOnly) {
      throw new ReadOnlyStoreError(`store ${store.path} is open read-only and has nothing parsed yet: open it writable to parse '${parser.name}'`);
    }
    if (!store.readOnly) await ensureBookkeeping(connection);

    const built = await rows(connection, `SELECT version FROM parsed._parsers WHERE parser = $1`, [parser.name]);
    const tablePresent = await tableExists(connection, 'parsed', parser.name);
    if (built[0]?.version !== parser.version || !tablePresent) {
      if (store.readOnly) throw new ReadOnlyStoreError(`store ${store.path} is open read-only: cannot (re)build parsed.${parser.name} (version ${parser.version})`);
      await exec(connection, `DROP TABLE IF EXISTS ${table}`);
      await connection.run(`DELETE FROM parsed._state WHERE parser = $1`, [parser.name]);
      await connection.run(`DELETE FROM parsed._parsers WHERE parser = $1`, [parser.name]);
      await exec(connection, `CREATE OR REPLACE TEMP TABLE ${TODO_COLUMNS}`);
      await exec(connection, `CREATE TABLE ${table} AS ${parserQuery(parser)} LIMIT 0`);
      await connection.run(`INSERT INTO parsed._parsers VALUES ($1, $2, now())`, [parser.name, parser.version]);
    }

    const candidates = await rows(
      connection,
      `SELECT p.process_id, p.command, p.parser, p.status, s.complete
       FROM process p LEFT JOIN parsed._state s ON s.parser = $1 AND s.process_id = p.process_id
       WHERE ($2::BIGINT IS NULL OR p.batch_id = $2::BIGINT)
       ORDER BY p.process_id`,
      [parser.name, options.batchId ?? null],
    );
    const claimed = candidates.filter((c) => registry.claims(parser, { command: String(c.command ?? ''), parser: (c.parser as string | null) ?? null }));
    const todo = claimed.filter((c) => c.complete !== true);

    if (todo.length > 0) {
      if (store.readOnly) throw new ReadOnlyStoreError(`store ${store.path} is open read-only: ${todo.length} process(es) need parsing with '${parser.name}'`);
      const work = todo.map((c) => ({
        processId: toNumber(c.process_id),
        complete: FINISHED.has(String(c.status)),
        sinceBoot: parser.sinceBoot?.(programWords(String(c.command ?? ''))) ?? null,
      }));
      await withParseMemory(connection, parseMemoryLimit(), () => parseProcesses(connection, parser, work));
    }

    const ids = claimed.map((c) => toNumber(c.process_id));
    const totals = ids.length === 0 ? [] : await rows(
      connection,
      `SELECT coalesce(sum("rows"), 0) AS r, coalesce(sum(errors), 0) AS e FROM parsed._state WHERE parser = $1 AND process_id IN (${ids.map((id) => Math.trunc(id)).join(', ')})`,
      [parser.name],
    );
    return {
      parser: parser.name,
      version: parser.version,
      parsedProcesses: todo.length,
      cachedProcesses: claimed.length - todo.length,
      rows: toNumber(totals[0]?.r),
      errors: toNumber(totals[0]?.e),
      table: `parsed.${parser.name}`,
    };
  });
}

/** `EXPERT_MINE_DEBUG=1` prints each parse statement's time on stderr. */
const DEBUG = process.env.EXPERT_MINE_DEBUG === '1';

async function timed(connection: DuckDBConnection, label: string, sql: string): Promise<void> {
  const start = DEBUG ? process.hrtime.bigint() : 0n;
  await exec(connection, sql);
  if (DEBUG) process.stderr.write(`mine: ${label} ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(3)} s\n`);
}

interface ParseWork {
  processId: number;
  complete: boolean;
  sinceBoot: SinceBootRows | null;
}

async function parseProcesses(connection: DuckDBConnection, parser: ParserDefinition, todo: ParseWork[]): Promise<void> {
  const table = parsedTable(parser.name);
  const values = todo.map((t) => `(${Math.trunc(t.processId)}, ${t.complete}, ${t.sinceBoot === null ? 'NULL' : literal(t.sinceBoot)})`).join(', ');
  await exec(connection, `CREATE OR REPLACE TEMP TABLE ${TODO_COLUMNS}; INSERT INTO _mine_todo VALUES ${values};`);
  await timed(connection, `${parser.name}: delete old rows`, `DELETE FROM ${table} WHERE process_id IN (SELECT process_id FROM _mine_todo)`);
  await timed(connection, `${parser.name}: parse and insert`, `INSERT INTO ${table} BY NAME ${parserQuery(parser)}`);
  for (const statement of parser.postInsert?.(table) ?? []) await timed(connection, `${parser.name}: post-insert`, statement);
  await timed(
    connection,
    `${parser.name}: bookkeeping`,
    `DELETE FROM parsed._state WHERE parser = ${literal(parser.name)} AND process_id IN (SELECT process_id FROM _mine_todo);
     INSERT INTO parsed._state
       SELECT ${literal(parser.name)}, ${literal(parser.version)}, t.process_id, count(x.process_id), count(x.process_id) FILTER (WHERE x.parse_error), t.complete, now()
       FROM _mine_todo t LEFT JOIN ${table} x ON x.process_id = t.process_id
       GROUP BY t.process_id, t.complete;
     DROP TABLE _mine_todo;`,
  );
}

async function tableExists(connection: DuckDBConnection, schema: string, name: string): Promise<boolean> {
  const found = await rows(connection, `SELECT 1 FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2 AND NOT temporary`, [schema, name]);
  return found.length > 0;
}

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
 *
 * Incremental parsing of running processes: `_state.watermark` is the highest
 * line `seq` of the process a parse has covered. For a parser whose rows
 * depend on each line alone (`lineLocal`, e.g. vmstat, perf-stat), the next
 * parse of a process that was still running reads only the lines above the
 * watermark and appends their rows, so a live view that parses every second
 * costs time in proportion to the lines that arrived since. Other parsers
 * (blocks with headers, whole reports) parse a running process again in full.
 *
 * A store read through its live writer (src/live/) has its parses done by
 * that writer, which holds the file for writing.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ReadOnlyStoreError, UserError } from '../errors.js';
import { isLiveStore, type LiveStore } from '../live/live-store.js';
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
const TODO_COLUMNS = '_mine_todo(process_id BIGINT, complete BOOLEAN, since_boot VARCHAR, from_seq BIGINT, to_seq BIGINT)';

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
       "rows" BIGINT NOT NULL, errors BIGINT NOT NULL, complete BOOLEAN NOT NULL, parsed_at TIMESTAMP NOT NULL, PRIMARY KEY(parser, process_id));
     ALTER TABLE parsed._state ADD COLUMN IF NOT EXISTS watermark BIGINT;`,
  );
}

/**
 * The full SELECT of a parser over the processes listed in temp table `_mine_todo`,
 * each over its lines with `from_seq < seq <= to_seq`.
 */
export function parserQuery(parser: ParserDefinition, todoTable = '_mine_todo'): string {
  return `WITH src AS (
      SELECT l.process_id, l.seq, l.ts, l.stream, l.text FROM line l
      JOIN ${todoTable} t ON l.process_id = t.process_id AND l.seq > t.from_seq AND l.seq <= t.to_seq
    )
    SELECT * FROM (${parser.sql('src')}) parsed_rows`;
}

export async function ensureParsed(store: ExpertStore, parserName: string, options: ParseOptions = {}): Promise<ParseReport> {
  if (isLiveStore(store)) return parseOnWriter(store, parserName, options);
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
      `SELECT p.process_id, p.command, p.parser, p.status, s.complete, ${store.readOnly ? 'NULL' : 's.watermark'} AS watermark
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
        // Lines above the watermark only, when the parser allows it and an earlier parse covered the rest.
        fromSeq: parser.lineLocal && c.complete === false && c.watermark !== null ? toNumber(c.watermark) : -1,
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
  /** Parse lines with seq above this (-1: all). */
  fromSeq: number;
}

async function parseProcesses(connection: DuckDBConnection, parser: ParserDefinition, todo: ParseWork[]): Promise<void> {
  const table = parsedTable(parser.name);
  const values = todo
    .map((t) => `(${Math.trunc(t.processId)}, ${t.complete}, ${t.sinceBoot === null ? 'NULL' : literal(t.sinceBoot)}, ${Math.trunc(t.fromSeq)}, NULL)`)
    .join(', ');
  // to_seq: the last line there is now; lines arriving later are the next parse's (seq grows per process).
  await exec(
    connection,
    `CREATE OR REPLACE TEMP TABLE ${TODO_COLUMNS}; INSERT INTO _mine_todo VALUES ${values};
     UPDATE _mine_todo t SET to_seq = coalesce((SELECT max(l.seq) FROM line l WHERE l.process_id = t.process_id), t.from_seq);`,
  );
  await timed(
    connection,
    `${parser.name}: delete old rows`,
    `DELETE FROM ${table} x USING _mine_todo t WHERE x.process_id = t.process_id AND x.seq > t.from_seq`,
  );
  await timed(connection, `${parser.name}: parse and insert`, `INSERT INTO ${table} BY NAME ${parserQuery(parser)}`);
  for (const statement of parser.postInsert?.(table) ?? []) await timed(connection, `${parser.name}: post-insert`, statement);
  await timed(
    connection,
    `${parser.name}: bookkeeping`,
    // Counts of the rows parsed now, plus (incremental parses) what earlier parses of the process counted.
    `CREATE OR REPLACE TEMP TABLE _mine_new AS
       SELECT t.process_id, t.complete, t.from_seq, t.to_seq, count(x.process_id) AS r, count(x.process_id) FILTER (WHERE x.parse_error) AS e
       FROM _mine_todo t LEFT JOIN ${table} x ON x.process_id = t.process_id AND x.seq > t.from_seq
       GROUP BY ALL;
     UPDATE _mine_new n SET r = n.r + s."rows", e = n.e + s.errors
       FROM parsed._state s WHERE n.from_seq >= 0 AND s.parser = ${literal(parser.name)} AND s.process_id = n.process_id;
     DELETE FROM parsed._state WHERE parser = ${literal(parser.name)} AND process_id IN (SELECT process_id FROM _mine_todo);
     INSERT INTO parsed._state BY NAME
       SELECT ${literal(parser.name)} AS parser, ${literal(parser.version)} AS version, process_id,
         r AS "rows", e AS errors, complete, now() AS parsed_at, to_seq AS watermark
       FROM _mine_new;
     DROP TABLE _mine_new;
     DROP TABLE _mine_todo;`,
  );
}

/** A parse asked of a store read through its live writer: the writer parses (with its own parsers). */
async function parseOnWriter(store: LiveStore, parserName: string, options: ParseOptions): Promise<ParseReport> {
  if (options.registry && !defaultRegistry().has(parserName) && options.registry.has(parserName)) {
    throw new UserError(
      `parser '${parserName}' is defined only in this process, but ${store.path} is being written by ${store.writer}, which does the parsing of a live store. ` +
        'Parse it once the batch has ended, or define the parser in the process that runs the batch.',
    );
  }
  return store.parseOnWriter(parserName, options.batchId);
}

async function tableExists(connection: DuckDBConnection, schema: string, name: string): Promise<boolean> {
  const found = await rows(connection, `SELECT 1 FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2 AND NOT temporary`, [schema, name]);
  return found.length > 0;
}

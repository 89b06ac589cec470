/**
 * The store's schema, as an ordered list of migrations. A migration is never
 * edited once released: a schema change is a NEW entry at the end. Each one
 * runs in its own transaction together with its `schema_version` row, so a
 * crash mid-migration leaves the store at the previous version.
 *
 * Timestamps are TIMESTAMPTZ (UTC instants; DuckDB shows them in the session
 * time zone). Ids come from sequences: `batch_id`, `process_id` and
 * `tuning_id` are INTEGER, `line.seq` is BIGINT (a chatty process can print
 * more than 2^31 lines over a long run).
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'batch, process, line, tuning; parsed schema; views',
    statements: [
      `CREATE SEQUENCE batch_id_seq START 1`,
      `CREATE SEQUENCE process_id_seq START 1`,
      `CREATE SEQUENCE tuning_id_seq START 1`,
      `CREATE TABLE batch (
        batch_id INTEGER PRIMARY KEY DEFAULT nextval('batch_id_seq'),
        name VARCHAR NOT NULL,
        description VARCHAR,
        config JSON,
        provenance JSON,
        status VARCHAR NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'running', 'finished', 'failed', 'interrupted')),
        created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        finished_at TIMESTAMPTZ,
        -- Who writes this batch: lets a later open tell a crashed runner from a live one.
        owner_pid INTEGER,
        owner_host VARCHAR
      )`,
      `CREATE TABLE process (
        process_id INTEGER PRIMARY KEY DEFAULT nextval('process_id_seq'),
        batch_id INTEGER NOT NULL,
        run INTEGER,
        label VARCHAR NOT NULL,
        host VARCHAR NOT NULL,
        vm VARCHAR,
        role VARCHAR NOT NULL CHECK (role IN ('workload', 'monitor', 'tune')),
        command VARCHAR NOT NULL,
        params JSON,
        policy VARCHAR,
        rep INTEGER,
        parser VARCHAR,
        status VARCHAR NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'running', 'exited', 'killed', 'lost', 'failed')),
        exit_code INTEGER,
        signal VARCHAR,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        error VARCHAR,
        pid INTEGER
      )`,
      // An ENUM keeps `stream` one byte per row and still compares with 'stdout'.
      `CREATE TYPE stream_name AS ENUM ('stdout', 'stderr')`,
      // No index and no key: the Appender writes here at millions of rows per second.
      `CREATE TABLE line (
        process_id INTEGER NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        stream stream_name NOT NULL,
        text VARCHAR NOT NULL,
        raw BLOB
      )`,
      `CREATE TABLE tuning (
        tuning_id INTEGER PRIMARY KEY DEFAULT nextval('tuning_id_seq'),
        batch_id INTEGER,
        run INTEGER,
        policy VARCHAR,
        host VARCHAR NOT NULL,
        guest VARCHAR,
        pid INTEGER,
        tid INTEGER,
        thread_kind VARCHAR,
        action VARCHAR NOT NULL,
        "before" JSON,
        "after" JSON,
        applied_at TIMESTAMPTZ NOT NULL,
        verified BOOLEAN NOT NULL,
        restored_at TIMESTAMPTZ
      )`,
      `CREATE SCHEMA IF NOT EXISTS parsed`,
      // Every line's exact bytes, whether or not it was valid UTF-8.
      `CREATE VIEW line_bytes AS
        SELECT process_id, seq, ts, stream, coalesce(raw, encode(text)) AS bytes
        FROM line`,
      // Lines with the facts of the process that printed them, for one-table queries.
      `CREATE VIEW process_lines AS
        SELECT p.batch_id, p.run, p.label, p.host, p.vm, p.role, p.policy, p.rep, p.params,
               l.process_id, l.seq, l.ts, l.stream, l.text, l.raw
        FROM line l JOIN process p USING (process_id)`,
    ],
  },
  {
    version: 2,
    description: 'line.text stored uncompressed (ingest speed)',
    // Why: choosing and applying a string compression (DuckDB analyses
    // dictionary, FSST and uncompressed for every row group, then FSST-encodes)
    // was ~40% of the ingest CPU per line. Stored uncompressed, a ~100-byte
    // line costs ~0.6 instead of ~0.95 CPU-us (bench:ingest), at ~2.4x the
    // file size for `line` (~110 instead of ~46 bytes per ~100-byte line).
    // The bytes are the same; queries read them without decoding (LIKE and
    // GROUP BY over 3M lines ran ~2x faster than on FSST in a side test).
    // DuckDB keeps view definitions by name, so `line_bytes` and
    // `process_lines` bind to the new table.
    statements: [
      `CREATE TABLE line_v2 (
        process_id INTEGER NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        stream stream_name NOT NULL,
        text VARCHAR USING COMPRESSION uncompressed NOT NULL,
        raw BLOB
      )`,
      // Insertion order is kept (no sort: a big store would spill it to disk at the 128MB cap).
      `INSERT INTO line_v2 SELECT process_id, seq, ts, stream, text, raw FROM line`,
      `DROP TABLE line`,
      `ALTER TABLE line_v2 RENAME TO line`,
    ],
  },
  {
    version: 3,
    description: 'process.position (execution order), process.warmup, process.attempt (resume)',
    // `run` stays the run index (sequential layout); `position` is the order the run executed in
    // (order: interleaved | random | sequential). Rows written before this version ran in
    // sequential order, so their position is their run index. A warm-up run is stored like any
    // other and flagged; statistics leave it out. `attempt` counts `expert run --resume` re-runs.
    // The table is rebuilt (as `line` was in version 2): DuckDB cannot commit a transaction that
    // ALTERs a table more than once, and a migration is one transaction. The rebuild also admits
    // status `not_started`: a process of an interrupted batch that never started is not `pending` forever.
    statements: [
      `CREATE TABLE process_v3 (
        process_id INTEGER PRIMARY KEY DEFAULT nextval('process_id_seq'),
        batch_id INTEGER NOT NULL,
        run INTEGER,
        label VARCHAR NOT NULL,
        host VARCHAR NOT NULL,
        vm VARCHAR,
        role VARCHAR NOT NULL CHECK (role IN ('workload', 'monitor', 'tune')),
        command VARCHAR NOT NULL,
        params JSON,
        policy VARCHAR,
        rep INTEGER,
        parser VARCHAR,
        status VARCHAR NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'running', 'exited', 'killed', 'lost', 'failed', 'not_started')),
        exit_code INTEGER,
        signal VARCHAR,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        error VARCHAR,
        pid INTEGER,
        position INTEGER,
        warmup BOOLEAN NOT NULL DEFAULT false,
        attempt INTEGER NOT NULL DEFAULT 1
      )`,
      `INSERT INTO process_v3 SELECT *, run AS position, false AS warmup, 1 AS attempt FROM process ORDER BY process_id`,
      `DROP TABLE process`,
      `ALTER TABLE process_v3 RENAME TO process`,
    ],
  },
  {
    version: 4,
    description: 'dynamic_move: the moves of an online optimizer (dynamic: {optimizer: hill-climb}) and their measured effect',
    // One row per move tried while a run's workload ran: what changed for which guest
    // (`before`/`after` as JSON settings), the objective over the interval before and
    // after it, and whether it was kept or undone. The threads themselves are in `tuning`.
    // `at` is a keyword in DuckDB: it is quoted here and in queries ("at").
    statements: [
      `CREATE TABLE dynamic_move (
        batch_id INTEGER,
        run INTEGER,
        "at" TIMESTAMPTZ NOT NULL,
        node VARCHAR NOT NULL,
        guest VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        "before" JSON,
        "after" JSON,
        objective_before DOUBLE,
        objective_after DOUBLE,
        kept BOOLEAN NOT NULL,
        policy VARCHAR,
        objective VARCHAR,
        threshold DOUBLE
      )`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The version the store is at: 0 for an empty database. */
export async function schemaVersion(connection: DuckDBConnection): Promise<number> {
  const exists = await connection.runAndReadAll(
    `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_version'`,
  );
  if (Number(exists.getRows()[0]![0]) === 0) return 0;
  const reader = await connection.runAndReadAll(`SELECT coalesce(max(version), 0) FROM schema_version`);
  return Number(reader.getRows()[0]![0]);
}

/** Applies the migrations the store lacks, in order. Returns the versions applied. */
export async function migrate(connection: DuckDBConnection): Promise<number[]> {
  await connection.run(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
  )`);
  const current = await schemaVersion(connection);
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    await connection.run('BEGIN TRANSACTION');
    try {
      for (const statement of migration.statements) await connection.run(statement);
      await connection.run(`INSERT INTO schema_version (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ]);
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK');
      throw new Error(`store migration ${migration.version} (${migration.description}) failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    applied.push(migration.version);
  }
  return applied;
}

/**
 * One open DuckDB database per file per process. DuckDB locks a file per
 * process, so a second `DuckDBInstance` on the same file in the same process
 * would either fail or corrupt it; every `openStore` of the same absolute path
 * shares one instance here, counted, and the last `close` shuts it.
 */
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import duckdb from '@duckdb/node-bindings';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { explainOpenError, MissingStoreError, StoreLockedError } from './open-errors.js';
import { lineColumnTypes } from './line-writer.js';

export interface DatabaseOptions {
  readOnly: boolean;
  /** Create the file when it does not exist (default true; read-only opens never create). */
  create?: boolean;
  /** How long to wait for another process's lock on the file before giving up (default 0: fail at once). */
  lockWaitMs?: number;
  /** Told once when the open starts waiting for a lock (e.g. to print why nothing happens yet). */
  onLockWait?: (error: StoreLockedError) => void;
  /** Asked before each retry: true ends the wait at once with the StoreLockedError (the holder began serving live reads). */
  stopWaiting?: () => boolean;
  /** DuckDB settings passed at open (e.g. `memory_limit`, `threads`). */
  settings: Record<string, string>;
}

export interface SharedDatabase {
  readonly path: string;
  readonly readOnly: boolean;
  readonly instance: DuckDBInstance;
  readonly db: duckdb.Database;
  /** Types of `line`'s columns, for building appender chunks (read-write only). */
  readonly lineTypes: duckdb.LogicalType[] | undefined;
  /** Batches this open marked `interrupted` because their runner had died. */
  readonly abandonedBatches: number[];
  refs: number;
}

const open = new Map<string, Promise<SharedDatabase>>();

export async function acquireDatabase(path: string, options: DatabaseOptions): Promise<SharedDatabase> {
  const key = resolve(path);
  const existing = open.get(key);
  if (existing) {
    const shared = await existing;
    if (shared.readOnly && !options.readOnly) {
      throw new UserError(`store ${key} is already open read-only in this process; close it before opening it for writing.`);
    }
    shared.refs++;
    return shared;
  }
  const opening = openDatabase(key, options);
  open.set(key, opening);
  try {
    return await opening;
  } catch (error) {
    open.delete(key);
    throw error;
  }
}

export function releaseDatabase(shared: SharedDatabase): void {
  shared.refs--;
  if (shared.refs > 0) return;
  open.delete(shared.path);
  duckdb.close_sync(shared.db);
}

async function openDatabase(path: string, options: DatabaseOptions): Promise<SharedDatabase> {
  checkPath(path, options.readOnly || options.create === false);
  const config = duckdb.create_config();
  duckdb.set_config(config, 'duckdb_api', 'expert-ts');
  if (options.readOnly) duckdb.set_config(config, 'access_mode', 'READ_ONLY');
  for (const [name, value] of Object.entries(options.settings)) {
    try {
      duckdb.set_config(config, name, value);
    } catch (error) {
      const hint = name === 'memory_limit' ? ' (from EXPERT_STORE_MEMORY_LIMIT or settings; write it like 128MB or 4GB)' : '';
      throw new UserError(`cannot open store ${path}: DuckDB refuses the setting ${name}=${JSON.stringify(value)}${hint}.`, { cause: error });
    }
  }
  const db = await openWaitingForLock(path, config, options);
  try {
    const instance = new DuckDBInstance(db);
    const connection = await instance.connect();
    try {
      let lineTypes: duckdb.LogicalType[] | undefined;
      let abandonedBatches: number[] = [];
      const version = await schemaVersion(connection);
      if (version > LATEST_SCHEMA_VERSION) throw newerStoreError(path, version);
      if (options.readOnly) {
        if (version === 0) throw new UserError(`${path} is a DuckDB file but not an ExPerT store (no schema_version table).`);
      } else {
        await migrate(connection);
        abandonedBatches = await markAbandoned(connection);
        lineTypes = await readLineTypes(db);
      }
      return { path, readOnly: options.readOnly, instance, db, lineTypes, abandonedBatches, refs: 1 };
    } finally {
      connection.disconnectSync();
    }
  } catch (error) {
    duckdb.close_sync(db);
    throw error;
  }
}

/** Opens the file, retrying while another process holds its lock, up to `lockWaitMs`. */
async function openWaitingForLock(path: string, config: duckdb.Config, options: DatabaseOptions): Promise<duckdb.Database> {
  const deadline = Date.now() + (options.lockWaitMs ?? 0);
  let delay = 50;
  let told = false;
  for (;;) {
    try {
      return await duckdb.open(path, config);
    } catch (error) {
      const explained = explainOpenError(path, options.readOnly, error);
      if (!(explained instanceof StoreLockedError) || Date.now() + delay > deadline || options.stopWaiting?.()) throw explained;
      if (!told) options.onLockWait?.(explained);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
  }
}

function checkPath(path: string, mustExist: boolean): void {
  const directory = dirname(path);
  if (!existsSync(directory)) {
    throw new UserError(`cannot open store ${path}: directory ${directory} does not exist. Create it first or pick another --store path.`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UserError(`cannot open store ${path}: it is a directory. Give a file path, e.g. ${resolve(path, 'expert.duckdb')}.`);
  }
  if (mustExist && !existsSync(path)) throw new MissingStoreError(path);
}

function newerStoreError(path: string, version: number): UserError {
  return new UserError(
    `store ${path} has schema version ${version}, newer than this ExPerT knows (${LATEST_SCHEMA_VERSION}). Upgrade ExPerT to open it.`,
  );
}

async function readLineTypes(db: duckdb.Database): Promise<duckdb.LogicalType[]> {
  const connection = await duckdb.connect(db);
  try {
    const appender = duckdb.appender_create_ext(connection, null, 'main', 'line');
    try {
      return lineColumnTypes(appender);
    } finally {
      duckdb.appender_close_sync(appender);
    }
  } finally {
    duckdb.disconnect_sync(connection);
  }
}

/**
 * A batch still `running`/`pending` when the store is opened for writing has
 * lost its runner: a live runner would hold the file's lock (or be this very
 * process, which cannot have started a batch on a store it has not opened
 * yet). Such batches become `interrupted`, their unfinished processes `lost`.
 */
/** Why a process is `not_started` (SQL literal). */
export const NOT_STARTED_ERROR = `'not started: the batch ended before its run began'`;

export async function markAbandoned(connection: DuckDBConnection): Promise<number[]> {
  const reader = await connection.runAndReadAll(
    `UPDATE batch SET status = 'interrupted', finished_at = coalesce(finished_at, current_timestamp)
     WHERE status IN ('running', 'pending') AND NOT (owner_pid IS NOT DISTINCT FROM $1 AND owner_host IS NOT DISTINCT FROM $2)
     RETURNING batch_id`,
    [process.pid, hostname()],
  );
  const ids = reader.getRows().map((row) => Number(row[0]));
  if (ids.length > 0) {
    const batches = ids.map((id) => String(Math.trunc(id))).join(', ');
    await connection.run(
      `UPDATE process SET status = 'lost',
         error = coalesce(error, 'the runner stopped without finishing this process (found on reopening the store)')
       WHERE status = 'running' AND batch_id IN (${batches})`,
    );
    await connection.run(`UPDATE process SET status = 'not_started', error = coalesce(error, ${NOT_STARTED_ERROR}) WHERE status = 'pending' AND batch_id IN (${batches})`);
  }
  return ids;
}

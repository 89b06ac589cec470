/**
 * The ExPerT store: one embedded DuckDB file (default `./expert.duckdb`).
 *
 * Connections, and why there are three:
 * - `connection` is public (Mine runs its own SQL there) and serves `query()`;
 * - a private one serves the store's own writes (batch/process/tuning rows),
 *   so a long Mine query never delays the runner's bookkeeping;
 * - a private ingest connection carries the Appenders of line writers. Appender
 *   calls are synchronous on the JS thread, so several writers can share it.
 * Calls on one connection are queued: DuckDB runs async queries on worker
 * threads and one connection must not run two at once.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import duckdb from '@duckdb/node-bindings';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { StoreLockedError } from './open-errors.js';
import type { LiveStore } from '../live/live-store.js';
import { servedHere, serveWhileOpen, stopServing } from '../live/registry.js';
import { liveSocketPath } from '../live/socket-path.js';
import { acquireDatabase, markAbandoned, NOT_STARTED_ERROR, releaseDatabase, type SharedDatabase } from './database.js';
import { AppenderLineWriter, type LineWriterOptions } from './line-writer.js';
import { fromResultValue, jsonValue, optionalTimestamp, timestampValue, toDuckDBValue } from './values.js';
import type {
  BatchStatus,
  ExpertStore,
  LineWriter,
  NewBatch,
  NewProcess,
  ProcessUpdate,
  QueryResult,
  ResultChunk,
  TuningRecord,
} from './types.js';

import { DEFAULT_STORE_PATH } from './default-path.js';
import { scanChunks, type ChunkVisitor } from './scan.js';
export { DEFAULT_STORE_PATH };

/**
 * DuckDB's own default memory limit is 80% of RAM, and it keeps every block it
 * wrote cached up to that limit: a long ingest would grow to gigabytes on the
 * very machine whose performance is being measured, while ingest gains nothing
 * from that cache. A store opened for writing therefore caps DuckDB's memory
 * (queries that need more spill to disk); a read-only open, which only
 * analyses, keeps DuckDB's default. Override with EXPERT_STORE_MEMORY_LIMIT
 * (e.g. `4GB`), `openStore(path, { settings: { memory_limit: '4GB' } })`, or at
 * run time with `SET memory_limit = '4GB'`.
 */
export const DEFAULT_WRITER_MEMORY_LIMIT = '128MB';

function defaultSettings(readOnly: boolean): Record<string, string> {
  const limit = process.env.EXPERT_STORE_MEMORY_LIMIT || (readOnly ? undefined : DEFAULT_WRITER_MEMORY_LIMIT);
  return limit ? { memory_limit: limit } : {};
}

export interface OpenStoreOptions {
  readOnly?: boolean;
  /** Create a missing file (default true for writable opens). Verbs that only read or parse pass false. */
  create?: boolean;
  /**
   * Serve the store to other processes while it is open for writing (default true). A short
   * writer (a read verb that must cache a parse) passes false: readers then wait for its lock a
   * moment instead of reading through a writer that is about to go away.
   */
  serve?: boolean;
  /** Wait this long for another process's lock before failing (default 0). */
  lockWaitMs?: number;
  onLockWait?: (error: StoreLockedError) => void;
  /** Extra DuckDB settings at open, e.g. `{ memory_limit: '2GB' }`. Only the first open of a file in a process applies them. */
  settings?: Record<string, string>;
}

/** A store as `openStore` gives it: the file itself, or (another process writes it) read through that writer. */
export type OpenedStore = DuckDBStore | LiveStore;

/**
 * Opens (creating and migrating if needed) the store at `path`. When another
 * process holds the file for writing and serves it live (`<store>.sock`,
 * src/live/), the store is read through that process instead: read-only,
 * same results (a wait for the lock ends as soon as such a socket appears).
 */
export async function openStore(path: string = DEFAULT_STORE_PATH, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const live = await liveWriterOf(path);
  if (live) return live;
  const readOnly = options.readOnly ?? false;
  let shared: SharedDatabase | undefined;
  for (let attempt = 0; !shared; attempt++) {
    try {
      shared = await acquireDatabase(path, {
        readOnly,
        settings: { ...defaultSettings(readOnly), ...options.settings },
        ...(options.create !== undefined ? { create: options.create } : {}),
        ...(options.lockWaitMs !== undefined ? { lockWaitMs: options.lockWaitMs } : {}),
        ...(options.onLockWait ? { onLockWait: options.onLockWait } : {}),
        stopWaiting: () => existsSync(liveSocketPath(path)),
      });
    } catch (error) {
      if (!(error instanceof StoreLockedError)) throw error;
      // Locked by a writer that serves: read through it.
      const live = await liveWriterOf(path);
      if (live) return live;
      // The socket that ended the wait was a dead writer's (now removed): wait for the lock once more.
      if (attempt > 0 || !options.lockWaitMs || existsSync(liveSocketPath(path))) throw error;
    }
  }
  let store: DuckDBStore;
  try {
    const connection = await shared.instance.connect();
    const writes = await shared.instance.connect();
    const ingest = readOnly ? undefined : await duckdb.connect(shared.db);
    store = new DuckDBStore(shared, readOnly || shared.readOnly, connection, writes, ingest);
  } catch (error) {
    releaseDatabase(shared);
    throw error;
  }
  if (!store.readOnly && options.serve !== false) await serveWhileOpen(store);
  return store;
}

/** The live writer of `path` in another process, if one serves it (loaded only when its socket exists). */
async function liveWriterOf(path: string): Promise<LiveStore | undefined> {
  if (servedHere(path) || !existsSync(liveSocketPath(path))) return undefined;
  const { openLiveStore } = await import('../live/connect.js');
  return openLiveStore(path);
}

/** Serialises async calls on one connection. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export class DuckDBStore implements ExpertStore {
  readonly path: string;
  private readonly publicQueue = new Queue();
  private readonly writeQueue = new Queue();
  private readonly writers = new Set<AppenderLineWriter>();
  private closed = false;

  constructor(
    private readonly shared: SharedDatabase,
    readonly readOnly: boolean,
    readonly connection: DuckDBConnection,
    private readonly writes: DuckDBConnection,
    private readonly ingest: duckdb.Connection | undefined,
  ) {
    this.path = shared.path;
  }

  /** Batches found abandoned (runner gone) and marked `interrupted` when this file was opened. */
  get abandonedBatches(): readonly number[] {
    return this.shared.abandonedBatches;
  }

  async createBatch(batch: NewBatch): Promise<number> {
    const rows = await this.write(
      `INSERT INTO batch (name, description, config, provenance, owner_pid, owner_host)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING batch_id`,
      [batch.name, batch.description ?? null, jsonValue(batch.config), jsonValue(batch.provenance), process.pid, hostname()],
    );
    return Number(rows[0]![0]);
  }

  async setBatchStatus(batchId: number, status: BatchStatus): Promise<void> {
    const ends = status === 'finished' || status === 'failed' || status === 'interrupted';
    await this.write(
      `UPDATE batch SET status = $2, finished_at = ${ends ? 'current_timestamp' : 'NULL'} WHERE batch_id = $1`,
      [batchId, status],
    );
  }

  async createProcess(p: NewProcess): Promise<number> {
    const rows = await this.write(
      `INSERT INTO process (batch_id, run, label, host, vm, role, command, params, policy, rep, parser, position, warmup, attempt)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING process_id`,
      [
        p.batchId,
        p.run ?? null,
        p.label,
        p.host,
        p.vm ?? null,
        p.role,
        p.command,
        jsonValue(p.params ?? {}),
        p.policy ?? null,
        p.rep ?? null,
        p.parser ?? null,
        p.position ?? p.run ?? null,
        p.warmup ?? false,
        p.attempt ?? 1,
      ],
    );
    return Number(rows[0]![0]);
  }

  async updateProcess(processId: number, update: ProcessUpdate): Promise<void> {
    const columns: Array<[string, DuckDBValue]> = [];
    if (update.status !== undefined) columns.push(['status', update.status]);
    if (update.exitCode !== undefined) columns.push(['exit_code', update.exitCode]);
    if (update.signal !== undefined) columns.push(['signal', update.signal]);
    if (update.startedAt !== undefined) columns.push(['started_at', timestampValue(update.startedAt)]);
    if (update.endedAt !== undefined) columns.push(['ended_at', timestampValue(update.endedAt)]);
    if (update.error !== undefined) columns.push(['error', update.error]);
    if (update.pid !== undefined) columns.push(['pid', update.pid]);
    if (columns.length === 0) return;
    const assignments = columns.map(([name], i) => `${name} = $${i + 2}`).join(', ');
    await this.write(`UPDATE process SET ${assignments} WHERE process_id = $1`, [processId, ...columns.map(([, v]) => v)]);
  }

  /** Processes of a batch that ended before their run began: `not_started` (never left `pending`). */
  async markNotStarted(batchId: number): Promise<number> {
    const rows = await this.write(
      `UPDATE process SET status = 'not_started', error = coalesce(error, ${NOT_STARTED_ERROR})
       WHERE batch_id = $1 AND status = 'pending' RETURNING process_id`,
      [batchId],
    );
    return rows.length;
  }

  async recordTuning(r: TuningRecord): Promise<void> {
    await this.write(
      `INSERT INTO tuning (batch_id, run, policy, host, guest, pid, tid, thread_kind, action, "before", "after", applied_at, verified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        r.batchId,
        r.run ?? null,
        r.policy ?? null,
        r.host,
        r.guest,
        r.pid,
        r.tid,
        r.threadKind,
        r.action,
        jsonValue(r.before),
        jsonValue(r.after),
        timestampValue(r.appliedAt),
        r.verified,
      ],
    );
  }

  async markRestored(batchId: number | null, host: string, tid: number, restoredAt: number): Promise<void> {
    await this.write(
      `UPDATE tuning SET restored_at = $4
       WHERE batch_id IS NOT DISTINCT FROM $1 AND host = $2 AND tid = $3 AND restored_at IS NULL`,
      [batchId, host, tid, optionalTimestamp(restoredAt)],
    );
  }

  lineWriter(options: LineWriterOptions = {}): LineWriter {
    this.assertWritable('write lines');
    const ingest = this.ingest!;
    const appender = duckdb.appender_create_ext(ingest, null, 'main', 'line');
    const writer: AppenderLineWriter = new AppenderLineWriter(appender, this.shared.lineTypes!, options, () =>
      this.writers.delete(writer),
    );
    this.writers.add(writer);
    return writer;
  }

  /**
   * Marks batches whose runner died as `interrupted` (done automatically when
   * the file is opened for writing; call it again for a long-lived process).
   */
  async markAbandoned(): Promise<number[]> {
    this.assertWritable('mark abandoned batches');
    return this.writeQueue.run(() => markAbandoned(this.writes));
  }

  async query(sql: string, params: unknown[] = []): Promise<QueryResult> {
    this.assertOpen();
    return this.publicQueue.run(async () => {
      const reader = await this.connection.runAndReadAll(sql, params.map(toDuckDBValue));
      return {
        columns: reader.deduplicatedColumnNames(),
        rows: reader.getRowsJS().map((row) => row.map(fromResultValue)),
      };
    });
  }

  async scan(sql: string, params: unknown[], visit: ChunkVisitor): Promise<{ columns: string[]; types: DuckDBType[] }> {
    this.assertOpen();
    return this.publicQueue.run(() => scanChunks(this.connection, sql, params, visit));
  }

  /**
   * A further connection on this store's database, for work that must not
   * queue behind `connection` (the live server gives one to each reader).
   * The caller disconnects it before closing the store.
   */
  openConnection(): Promise<DuckDBConnection> {
    this.assertOpen();
    return this.shared.instance.connect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Live readers go first (their connections are on this database).
    if (!this.readOnly) await stopServing(this);
    let failure: unknown;
    for (const writer of [...this.writers]) {
      try {
        await writer.close();
      } catch (error) {
        failure ??= error;
      }
    }
    // Let queued statements finish before the connections go.
    await this.publicQueue.run(async () => undefined);
    await this.writeQueue.run(async () => undefined);
    this.connection.disconnectSync();
    this.writes.disconnectSync();
    if (this.ingest) duckdb.disconnect_sync(this.ingest);
    releaseDatabase(this.shared);
    if (failure) throw failure;
  }

  private async write(sql: string, params: DuckDBValue[]): Promise<unknown[][]> {
    this.assertWritable('write');
    return this.writeQueue.run(async () => {
      const reader = await this.writes.runAndReadAll(sql, params);
      return reader.getRows();
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`store ${this.path} is closed`);
  }

  private assertWritable(what: string): void {
    this.assertOpen();
    if (this.readOnly) throw new UserError(`cannot ${what}: store ${this.path} is open read-only.`);
  }
}

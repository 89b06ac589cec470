/**
 * What the rest of ExPerT asks of the store. `src/store/store.ts` implements
 * it over one embedded DuckDB file (schema in DESIGN.md, migrations in
 * `src/store/migrations.ts`).
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { OutputLine, ProcessStatus } from '../batch/executor.js';
import type { Cell } from '../output/cell.js';

export type BatchStatus = 'pending' | 'running' | 'finished' | 'failed' | 'interrupted';

export interface NewBatch {
  name: string;
  description?: string;
  /** Fully resolved config (stored as JSON). */
  config: unknown;
  provenance: unknown;
}

export interface NewProcess {
  batchId: number;
  label: string;
  host: string;
  vm?: string;
  role: 'workload' | 'monitor' | 'tune';
  command: string;
  params?: Record<string, string>;
  policy?: string;
  rep?: number;
  parser?: string;
  /** Run index within the batch (which workloads and monitors ran together). */
  run?: number;
  /** The run's place in execution order. */
  position?: number;
  /** A warm-up run's process (left out of statistics). Default false. */
  warmup?: boolean;
  /** 1 for the first try; `expert run --resume` writes the next attempt of a run as new rows. Default 1. */
  attempt?: number;
}

export interface ProcessUpdate {
  status?: ProcessStatus;
  exitCode?: number | null;
  signal?: string | null;
  startedAt?: number;
  endedAt?: number;
  error?: string | null;
  /** Remote PID, for the record. */
  pid?: number | null;
}

export interface TuningRecord {
  batchId: number | null;
  host: string;
  guest: string;
  pid: number;
  tid: number;
  threadKind: string;
  action: string;
  before: unknown;
  after: unknown;
  appliedAt: number;
  verified: boolean;
  run?: number;
  policy?: string;
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
  /** The rows as printable Cells (src/output), when the result still knows its DuckDB types. */
  cells?: () => Cell[][];
}

/** A slice of a result as DuckDB gave it: values keep their exact type (for printing every type faithfully). */
export interface ResultChunk {
  columns: string[];
  types: DuckDBType[];
  rows: DuckDBValue[][];
}

/** Ingest of output lines: seq per process assigned here, visible to queries within a second. */
export interface LineWriter {
  append(processId: number, line: OutputLine): void;
  /** Makes everything appended so far visible (called by a timer at least every second). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines appended so far (for progress displays). */
  readonly count: number;
}

export interface ExpertStore {
  readonly path: string;
  readonly readOnly: boolean;
  /** A connection for parts that run their own SQL (Mine). */
  readonly connection: DuckDBConnection;
  createBatch(batch: NewBatch): Promise<number>;
  setBatchStatus(batchId: number, status: BatchStatus): Promise<void>;
  createProcess(process: NewProcess): Promise<number>;
  updateProcess(processId: number, update: ProcessUpdate): Promise<void>;
  recordTuning(record: TuningRecord): Promise<void>;
  /** Marks the batch's still-`pending` processes `not_started` (its run never began); returns how many. */
  markNotStarted(batchId: number): Promise<number>;
  markRestored(batchId: number | null, host: string, tid: number, restoredAt: number): Promise<void>;
  lineWriter(options?: { flushIntervalMs?: number }): LineWriter;
  /** Parameters bind as $1, $2, ... (never spliced). */
  query(sql: string, params?: unknown[]): Promise<QueryResult>;
  /**
   * Runs a query and hands its result to `visit` chunk by chunk (about 2048 rows each) as DuckDB values,
   * without materialising it; the next chunk is read once `visit` has finished, and none once it returns false.
   * Resolves with the columns.
   */
  scan(sql: string, params: unknown[], visit: (chunk: ResultChunk) => Promise<void | boolean> | void | boolean): Promise<{ columns: string[]; types: DuckDBType[] }>;
  close(): Promise<void>;
}

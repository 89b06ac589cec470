/**
 * Output-line ingest over the DuckDB Appender.
 *
 * Why it looks low-level: the node-api's row-by-row `append*` calls and its
 * VARCHAR vectors go through JS strings, which costs more than the rest of the
 * path together. Here each line's bytes go straight from the Buffer the
 * executor delivered into a DuckDB data chunk (one native call per line); the
 * fixed-width columns are filled in typed arrays and copied into the chunk once
 * per 2048 rows; the full chunk is handed to the Appender, which commits when
 * flushed.
 *
 * Everything runs synchronously on the caller's thread, so memory stays
 * bounded by construction: a producer that outruns DuckDB simply spends its
 * time inside `append`, and the event loop reads no more output meanwhile
 * (pipes and SSH windows fill up and the remote side waits).
 *
 * Columns of `line`, in table order: process_id INTEGER, seq BIGINT,
 * ts TIMESTAMPTZ, stream ENUM('stdout','stderr'), text VARCHAR, raw BLOB.
 */
import { isUtf8 } from 'node:buffer';
import duckdb from '@duckdb/node-bindings';
import type { OutputLine } from '../batch/executor.js';
import type { LineWriter } from './types.js';

const COLUMN = { processId: 0, seq: 1, ts: 2, stream: 3, text: 4, raw: 5 } as const;
const TWO_POW_32 = 4294967296;
/**
 * DuckDB's row group size. Committing exactly this many rows at a time lets
 * DuckDB write each one as a full, compressed row group straight to the file
 * (an "optimistic write"); uneven commits leave partial row groups that a
 * checkpoint later has to re-read, merge and rewrite (CPU and memory spikes).
 */
const ROW_GROUP_ROWS = 122_880;

export interface LineWriterOptions {
  /**
   * The longest a line waits before it is committed (visible to queries).
   * Default 500 ms. Fast producers commit sooner, a whole row group at a time.
   */
  flushIntervalMs?: number;
  /** Called when a timer-driven flush fails (the next append/flush/close throws it too). */
  onError?: (error: Error) => void;
}

/** The logical types of `line`'s columns, read once from an appender on the real table. */
export function lineColumnTypes(appender: duckdb.Appender): duckdb.LogicalType[] {
  const count = duckdb.appender_column_count(appender);
  const types: duckdb.LogicalType[] = [];
  for (let i = 0; i < count; i++) types.push(duckdb.appender_column_type(appender, i));
  return types;
}

/** One data chunk being filled: fixed-width columns staged in typed arrays. */
class ChunkBuilder {
  readonly capacity = duckdb.vector_size();
  private readonly chunk: duckdb.DataChunk;
  private readonly processIds = new Int32Array(this.capacity);
  private readonly seqWords = new Uint32Array(this.capacity * 2);
  private readonly tsWords = new Uint32Array(this.capacity * 2);
  private readonly streams = new Uint8Array(this.capacity);
  /** Validity bits of `raw` (bit set = not NULL); 64-bit words, little-endian. */
  private readonly rawValidity = new Uint8Array(Math.ceil(this.capacity / 64) * 8);
  private textVector!: duckdb.Vector;
  private rawVector!: duckdb.Vector;
  rows = 0;
  private anyRaw = false;

  constructor(types: duckdb.LogicalType[]) {
    this.chunk = duckdb.create_data_chunk(types);
    this.bindVectors();
  }

  private bindVectors(): void {
    this.textVector = duckdb.data_chunk_get_vector(this.chunk, COLUMN.text);
    this.rawVector = duckdb.data_chunk_get_vector(this.chunk, COLUMN.raw);
  }

  /** Adds one row; returns true when the chunk is full. */
  add(processId: number, seq: number, line: OutputLine): boolean {
    const row = this.rows;
    this.processIds[row] = processId;
    this.seqWords[2 * row] = seq >>> 0;
    this.seqWords[2 * row + 1] = Math.floor(seq / TWO_POW_32);
    const micros = Math.round(line.ts * 1000);
    this.tsWords[2 * row] = micros >>> 0;
    this.tsWords[2 * row + 1] = Math.floor(micros / TWO_POW_32) >>> 0;
    this.streams[row] = line.stream === 'stderr' ? 1 : 0;
    const bytes = line.bytes;
    if (isUtf8(bytes)) {
      duckdb.vector_assign_string_element_len(this.textVector, row, bytes);
    } else {
      // Not UTF-8: `text` gets a readable decoding (U+FFFD for bad bytes), `raw` the exact bytes.
      duckdb.vector_assign_string_element_len(this.textVector, row, Buffer.from(bytes.toString('utf8'), 'utf8'));
      duckdb.vector_assign_string_element_len(this.rawVector, row, bytes);
      this.rawValidity[row >>> 3]! |= 1 << (row & 7);
      this.anyRaw = true;
    }
    this.rows = row + 1;
    return this.rows === this.capacity;
  }

  /** Moves the staged rows into the chunk, hands it to the appender, and starts over. */
  appendTo(appender: duckdb.Appender): void {
    const rows = this.rows;
    if (rows === 0) return;
    const chunk = this.chunk;
    duckdb.data_chunk_set_size(chunk, rows);
    copyColumn(chunk, COLUMN.processId, this.processIds, rows * 4);
    copyColumn(chunk, COLUMN.seq, this.seqWords, rows * 8);
    copyColumn(chunk, COLUMN.ts, this.tsWords, rows * 8);
    copyColumn(chunk, COLUMN.stream, this.streams, rows);
    const rawVector = this.rawVector;
    duckdb.vector_ensure_validity_writable(rawVector);
    duckdb.copy_data_to_vector_validity(rawVector, 0, this.rawValidity.buffer, 0, this.rawValidity.byteLength);
    duckdb.append_data_chunk(appender, chunk);
    // Reset frees the chunk's string heap; vectors are fetched again to be safe.
    duckdb.data_chunk_reset(chunk);
    this.bindVectors();
    if (this.anyRaw) this.rawValidity.fill(0);
    this.anyRaw = false;
    this.rows = 0;
  }
}

function copyColumn(chunk: duckdb.DataChunk, column: number, source: ArrayBufferView, byteCount: number): void {
  const vector = duckdb.data_chunk_get_vector(chunk, column);
  duckdb.copy_data_to_vector(vector, 0, source.buffer as ArrayBuffer, source.byteOffset, byteCount);
}

/**
 * Writers still open when the process exits (process.exit() after an error,
 * a signal handler that exits): their last lines are committed synchronously
 * in the 'exit' event, so only a hard kill can lose the final < 1 s.
 */
const openWriters = new Set<AppenderLineWriter>();
let exitHookInstalled = false;
function flushOpenWritersOnExit(): void {
  for (const writer of openWriters) {
    try {
      writer.flushSync();
    } catch {
      // Nothing left to report to at exit; the lines after the last good flush are lost.
    }
  }
}

export class AppenderLineWriter implements LineWriter {
  private readonly builder: ChunkBuilder;
  private readonly nextSeq = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private lastProcessId = Number.NaN;
  private lastSeq = 0;
  private appended = 0;
  private uncommitted = 0;
  /** When the oldest line not yet committed was appended (performance.now()). */
  private oldestUncommittedAt = 0;
  private readonly maxAgeMs: number;
  private closed = false;
  private failure: Error | undefined;

  constructor(
    private readonly appender: duckdb.Appender,
    types: duckdb.LogicalType[],
    private readonly options: LineWriterOptions = {},
    private readonly onClose: () => void = () => {},
  ) {
    this.builder = new ChunkBuilder(types);
    this.maxAgeMs = options.flushIntervalMs ?? 500;
    // The timer commits only lines that have waited maxAgeMs: a producer fast enough to
    // fill row groups never gets a partial commit (partial row groups make checkpoints
    // re-read and rewrite them), a slow one gets its lines visible in time.
    this.timer = setInterval(() => this.flushFromTimer(), Math.max(10, Math.floor(this.maxAgeMs / 4)));
    // The timer alone must not keep a process alive; close() (or the exit hook) flushes the rest.
    this.timer.unref();
    openWriters.add(this);
    if (!exitHookInstalled) {
      process.on('exit', flushOpenWritersOnExit);
      exitHookInstalled = true;
    }
  }

  get count(): number {
    return this.appended;
  }

  append(processId: number, line: OutputLine): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('line writer is closed');
    // seq is dense per process; the cache saves a Map lookup on runs of one process.
    let seq: number;
    if (processId === this.lastProcessId) {
      seq = this.lastSeq;
    } else {
      if (!Number.isNaN(this.lastProcessId)) this.nextSeq.set(this.lastProcessId, this.lastSeq);
      seq = this.nextSeq.get(processId) ?? 0;
      this.lastProcessId = processId;
    }
    this.lastSeq = seq + 1;
    this.appended++;
    if (this.builder.add(processId, seq, line)) this.appendChunk();
    if (this.uncommitted === 0) this.oldestUncommittedAt = performance.now();
    if (++this.uncommitted === ROW_GROUP_ROWS) this.flushSync();
  }

  /** The next seq this writer would give a process (lines it has seen so far). */
  linesOf(processId: number): number {
    if (processId === this.lastProcessId) return this.lastSeq;
    return this.nextSeq.get(processId) ?? 0;
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  /** Commits everything appended so far; synchronous so callers can flush on exit paths. */
  flushSync(): void {
    if (this.failure) throw this.failure;
    if (this.closed || this.uncommitted === 0) return;
    try {
      this.builder.appendTo(this.appender);
      duckdb.appender_flush_sync(this.appender);
      this.uncommitted = 0;
    } catch (error) {
      this.failure = new Error(`could not write lines to the store: ${(error as Error).message}`, { cause: error });
      throw this.failure;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    openWriters.delete(this);
    try {
      this.flushSync();
    } finally {
      this.closed = true;
      try {
        duckdb.appender_close_sync(this.appender);
      } catch {
        // Already reported by flushSync when it matters.
      }
      this.onClose();
    }
  }

  private appendChunk(): void {
    try {
      this.builder.appendTo(this.appender);
    } catch (error) {
      this.failure = new Error(`could not write lines to the store: ${(error as Error).message}`, { cause: error });
      throw this.failure;
    }
  }

  private flushFromTimer(): void {
    if (this.closed || this.failure || this.uncommitted === 0) return;
    if (performance.now() - this.oldestUncommittedAt < this.maxAgeMs) return;
    try {
      this.flushSync();
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }
}

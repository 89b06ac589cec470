/**
 * Output-line ingest over the DuckDB Appender.
 *
 * Why it looks low-level: the node-api's row-by-row `append*` calls and its
 * VARCHAR vectors go through JS strings, which costs more than the rest of the
 * path together. Here each line's bytes are copied from the Buffer the
 * executor delivered into one packed buffer, and every column is staged in
 * typed arrays; once per 2048 rows (a data chunk) a handful of native calls
 * move it all into DuckDB (no native call per line: those cost ~0.1 us each);
 * the full chunk is handed to the Appender, which commits when flushed.
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

/** DuckDB's `duckdb_string_t` (duckdb.h): 16 bytes, length first; up to 12 bytes inline, else a 4-byte prefix and a pointer. */
const STRING_T_BYTES = 16;
const STRING_INLINE_BYTES = 12;
/** A chunk is handed over early once its lines hold this many bytes (a run of 10 MB lines must not pile up 2048 of them). */
const CHUNK_BYTE_LIMIT = 16 << 20;
const NEWLINE = 0x0a;

/**
 * One data chunk being filled. Everything per line happens in JS typed arrays;
 * DuckDB is called a handful of times per chunk (2048 rows), not per line:
 * - every line's bytes are copied into one packed buffer, each followed by a
 *   newline (a multi-byte UTF-8 sequence cannot span it, so one UTF-8 check of
 *   the whole buffer vouches for every line);
 * - at hand-over the packed buffer goes into the text vector's string heap in
 *   ONE call (as row 0's value), and the `duckdb_string_t` of every row is
 *   written as length + prefix + pointer into that heap copy, then copied into
 *   the vector at once. The heap lives until `data_chunk_reset`, after the
 *   Appender has copied the rows.
 */
class ChunkBuilder {
  readonly capacity = duckdb.vector_size();
  private readonly chunk: duckdb.DataChunk;
  private readonly processIds = new Int32Array(this.capacity);
  private readonly seqWords = new Uint32Array(this.capacity * 2);
  private readonly tsWords = new Uint32Array(this.capacity * 2);
  private readonly streams = new Uint8Array(this.capacity);
  /** Validity bits of `raw` (bit set = not NULL); 64-bit words, little-endian. */
  private readonly rawValidity = new Uint8Array(Math.ceil(this.capacity / 64) * 8);
  /** Where each row's text starts in `packed`, and how long it is. */
  private readonly offsets = new Float64Array(this.capacity);
  private readonly lengths = new Uint32Array(this.capacity);
  /** The rows' `duckdb_string_t`s, built here and copied into the text vector in one go. */
  private readonly strings = new Uint8Array(this.capacity * STRING_T_BYTES);
  private readonly stringWords = new Uint32Array(this.strings.buffer);
  private packed = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  rows = 0;
  private anyRaw = false;

  constructor(types: duckdb.LogicalType[]) {
    this.chunk = duckdb.create_data_chunk(types);
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
    const length = bytes.length;
    let used = this.used;
    if (used + length + 1 > this.packed.length) this.grow(used + length + 1);
    this.packed.set(bytes, used);
    this.offsets[row] = used;
    this.lengths[row] = length;
    used += length;
    this.packed[used++] = NEWLINE;
    this.used = used;
    this.rows = row + 1;
    return this.rows === this.capacity || used >= CHUNK_BYTE_LIMIT;
  }

  private grow(needed: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.packed.length * 2));
    this.packed.copy(bigger, 0, 0, this.used);
    this.packed = bigger;
  }

  /** Moves the staged rows into the chunk, hands it to the appender, and starts over. */
  appendTo(appender: duckdb.Appender): void {
    const rows = this.rows;
    if (rows === 0) return;
    const chunk = this.chunk;
    const invalid = isUtf8(this.packed.subarray(0, this.used)) ? [] : this.splitOffInvalidUtf8();
    duckdb.data_chunk_set_size(chunk, rows);
    copyColumn(chunk, COLUMN.processId, this.processIds, rows * 4);
    copyColumn(chunk, COLUMN.seq, this.seqWords, rows * 8);
    copyColumn(chunk, COLUMN.ts, this.tsWords, rows * 8);
    copyColumn(chunk, COLUMN.stream, this.streams, rows);
    const rawVector = duckdb.data_chunk_get_vector(chunk, COLUMN.raw);
    this.fillText(duckdb.data_chunk_get_vector(chunk, COLUMN.text), rawVector, rows);
    // After fillText, which borrowed raw's row 0 to carry the packed bytes.
    for (const [row, bytes] of invalid) duckdb.vector_assign_string_element_len(rawVector, row, bytes);
    duckdb.vector_ensure_validity_writable(rawVector);
    duckdb.copy_data_to_vector_validity(rawVector, 0, this.rawValidity.buffer, 0, this.rawValidity.byteLength);
    duckdb.append_data_chunk(appender, chunk);
    // Reset frees the chunk's string heap (the packed copy and any raw values).
    duckdb.data_chunk_reset(chunk);
    if (this.anyRaw) this.rawValidity.fill(0);
    this.anyRaw = false;
    this.rows = 0;
    this.used = 0;
    // A burst of huge lines should not pin a huge buffer for the writer's whole life.
    if (this.packed.length > 4 * CHUNK_BYTE_LIMIT) this.packed = Buffer.allocUnsafe(1 << 20);
  }

  /**
   * Writes every row's `duckdb_string_t`: inline when short, else prefix +
   * pointer into the heap copy of `packed`. The copy is made as row 0 of the
   * BLOB column `raw` (a VARCHAR vector would check UTF-8 again, and turn
   * invalid bytes into NULL); row 0 of `raw` is NULL or assigned again after.
   */
  private fillText(textVector: duckdb.Vector, carrier: duckdb.Vector, rows: number): void {
    const packed = this.packed;
    const strings = this.strings;
    const words = this.stringWords;
    let baseLow = 0;
    let baseHigh = 0;
    if (this.used > STRING_INLINE_BYTES) {
      duckdb.vector_assign_string_element_len(carrier, 0, packed.subarray(0, this.used));
      const header = new DataView(duckdb.vector_get_data(carrier, STRING_T_BYTES).slice().buffer);
      baseLow = header.getUint32(8, true);
      baseHigh = header.getUint32(12, true);
    }
    for (let row = 0; row < rows; row++) {
      const length = this.lengths[row]!;
      const offset = this.offsets[row]!;
      const at = row * STRING_T_BYTES;
      words[at >>> 2] = length;
      if (length <= STRING_INLINE_BYTES) {
        words[(at >>> 2) + 1] = 0;
        words[(at >>> 2) + 2] = 0;
        words[(at >>> 2) + 3] = 0;
        for (let i = 0; i < length; i++) strings[at + 4 + i] = packed[offset + i]!;
      } else {
        strings[at + 4] = packed[offset]!;
        strings[at + 5] = packed[offset + 1]!;
        strings[at + 6] = packed[offset + 2]!;
        strings[at + 7] = packed[offset + 3]!;
        const low = baseLow + offset;
        words[(at >>> 2) + 2] = low >>> 0;
        words[(at >>> 2) + 3] = (baseHigh + Math.floor(low / TWO_POW_32)) >>> 0;
      }
    }
    duckdb.copy_data_to_vector(textVector, 0, strings.buffer, 0, rows * STRING_T_BYTES);
  }

  /**
   * Some line is not valid UTF-8 (rare): such a line keeps its exact bytes in
   * `raw`, and `text` gets a readable decoding (U+FFFD for bad bytes),
   * appended to `packed` so `fillText` points at it. Returns the rows whose
   * exact bytes go to `raw`.
   */
  private splitOffInvalidUtf8(): Array<[number, Buffer]> {
    const invalid: Array<[number, Buffer]> = [];
    for (let row = 0; row < this.rows; row++) {
      const offset = this.offsets[row]!;
      const original = this.packed.subarray(offset, offset + this.lengths[row]!);
      if (isUtf8(original)) continue;
      invalid.push([row, original]);
      this.rawValidity[row >>> 3]! |= 1 << (row & 7);
      this.anyRaw = true;
      const decoded = Buffer.from(original.toString('utf8'), 'utf8');
      if (this.used + decoded.length + 1 > this.packed.length) this.grow(this.used + decoded.length + 1);
      decoded.copy(this.packed, this.used);
      this.offsets[row] = this.used;
      this.lengths[row] = decoded.length;
      this.used += decoded.length;
      this.packed[this.used++] = NEWLINE;
    }
    return invalid;
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
      throw this.fail(error);
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
      throw this.fail(error);
    }
  }

  /** A DuckDB error while writing: every later append/flush/close throws it too. */
  private fail(error: unknown): Error {
    this.failure = new Error(`could not write lines to the store: ${(error as Error).message}`, { cause: error });
    return this.failure;
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

/**
 * A store read through its live writer: what `openStore()` and the read
 * verbs get when another process holds the file for writing and serves it
 * (`<store>.sock`). It is read-only. `query`, `scan` and `connection` give
 * the same columns, DuckDB types and values as a direct read (values cross
 * losslessly, codec.ts); `connection` implements the part of node-api's
 * DuckDBConnection that ExPerT and notebooks use (run, runAndReadAll,
 * stream and their readers). Parses (Mine's ensureParsed) are done by the
 * writer, which may write.
 */
import { scanChunks, type ChunkVisitor } from '../store/scan.js';
import {
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
} from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { fromResultValue, toDuckDBValue } from '../store/values.js';
import type { ExpertStore, LineWriter, QueryResult, ResultChunk } from '../store/types.js';
import type { ParseReport } from '../mine/types.js';
import type { LiveClient, ResultHead, ResultStream } from './client.js';

/** Serialises calls, as one DuckDB connection needs (and as DuckDBStore does). */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A materialised result, read like node-api's DuckDBResultReader. */
export class LiveResultReader {
  constructor(
    private readonly head: ResultHead,
    private readonly rows: DuckDBValue[][],
  ) {}

  get columnCount(): number {
    return this.head.names.length;
  }
  get currentRowCount(): number {
    return this.rows.length;
  }
  columnNames(): string[] {
    return [...this.head.names];
  }
  deduplicatedColumnNames(): string[] {
    return [...this.head.unique];
  }
  columnName(index: number): string {
    return this.head.names[index]!;
  }
  columnTypes(): DuckDBType[] {
    return [...this.head.types];
  }
  columnType(index: number): DuckDBType {
    return this.head.types[index]!;
  }
  value(columnIndex: number, rowIndex: number): DuckDBValue {
    return this.rows[rowIndex]![columnIndex]!;
  }
  getRows(): DuckDBValue[][] {
    return this.rows.map((row) => [...row]);
  }
  getRowObjects(): Record<string, DuckDBValue>[] {
    return this.rows.map((row) => Object.fromEntries(this.head.unique.map((name, i) => [name, row[i]!])));
  }
  getColumns(): DuckDBValue[][] {
    return this.head.names.map((_, c) => this.rows.map((row) => row[c]!));
  }
  convertRows<T>(converter: DuckDBValueConverter<T>): (T | null)[][] {
    return this.rows.map((row) => row.map((value, i) => converter(value, this.head.types[i]!, converter)));
  }
  convertColumns<T>(converter: DuckDBValueConverter<T>): (T | null)[][] {
    return this.head.names.map((_, c) => this.rows.map((row) => converter(row[c]!, this.head.types[c]!, converter)));
  }
  getRowsJS() {
    return this.convertRows(JSDuckDBValueConverter);
  }
  getColumnsJS() {
    return this.convertColumns(JSDuckDBValueConverter);
  }
  getRowObjectsJS() {
    return this.convertRows(JSDuckDBValueConverter).map((row) => Object.fromEntries(this.head.unique.map((name, i) => [name, row[i]])));
  }
}

/** A streaming result, read like node-api's DuckDBResult (`yieldRows`). */
export class LiveStreamResult {
  constructor(
    private readonly head: ResultHead,
    private readonly stream: ResultStream,
  ) {}
  columnNames(): string[] {
    return [...this.head.names];
  }
  deduplicatedColumnNames(): string[] {
    return [...this.head.unique];
  }
  columnTypes(): DuckDBType[] {
    return [...this.head.types];
  }
  get columnCount(): number {
    return this.head.names.length;
  }
  yieldRows(): AsyncGenerator<DuckDBValue[][]> {
    return this.stream.chunks();
  }
  async readAll(): Promise<LiveResultReader> {
    const rows: DuckDBValue[][] = [];
    for await (const chunk of this.stream.chunks()) rows.push(...chunk);
    return new LiveResultReader(this.head, rows);
  }
}

/** The subset of DuckDBConnection ExPerT uses, answered by the live writer. */
export class LiveConnection {
  constructor(private readonly client: LiveClient) {}

  async stream(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<LiveStreamResult> {
    const stream = this.client.run(sql, values ?? null);
    return new LiveStreamResult(await stream.head, stream);
  }
  async runAndReadAll(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<LiveResultReader> {
    return (await this.stream(sql, values)).readAll();
  }
  run(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<LiveResultReader> {
    return this.runAndReadAll(sql, values);
  }
  disconnectSync(): void {
    this.client.close();
  }
  closeSync(): void {
    this.client.close();
  }
}

export class LiveStore implements ExpertStore {
  readonly readOnly = true;
  readonly abandonedBatches: readonly number[] = [];
  readonly connection: DuckDBConnection;
  private readonly live: LiveConnection;
  private readonly queue = new Queue();
  private closed = false;

  constructor(
    readonly path: string,
    private readonly client: LiveClient,
  ) {
    this.live = new LiveConnection(client);
    // Structurally the part of DuckDBConnection that Mine and notebooks use (see LiveConnection).
    this.connection = this.live as unknown as DuckDBConnection;
  }

  /** Who writes the store, e.g. `process 1234 (expert run)`. */
  get writer(): string {
    return this.client.hello.command;
  }

  async query(sql: string, params: unknown[] = []): Promise<QueryResult> {
    this.assertOpen();
    return this.queue.run(async () => {
      const reader = await this.live.runAndReadAll(sql, params.map(toDuckDBValue));
      return { columns: reader.deduplicatedColumnNames(), rows: reader.getRowsJS().map((row) => row.map(fromResultValue)) };
    });
  }

  async scan(sql: string, params: unknown[], visit: ChunkVisitor): Promise<{ columns: string[]; types: DuckDBType[] }> {
    this.assertOpen();
    return this.queue.run(() => scanChunks(this.live, sql, params, visit));
  }

  /** Mine's parse, done by the writer (it holds the file for writing). */
  async parseOnWriter(parser: string, batchId: number | undefined): Promise<ParseReport> {
    this.assertOpen();
    return (await this.client.call({ op: 'parse', parser, batchId: batchId ?? null })) as ParseReport;
  }

  createBatch(): Promise<number> {
    return this.refuse('create a batch');
  }
  setBatchStatus(): Promise<void> {
    return this.refuse('change a batch');
  }
  createProcess(): Promise<number> {
    return this.refuse('record a process');
  }
  updateProcess(): Promise<void> {
    return this.refuse('update a process');
  }
  recordTuning(): Promise<void> {
    return this.refuse('record tuning');
  }
  markNotStarted(): Promise<number> {
    return this.refuse('mark processes not started');
  }
  markRestored(): Promise<void> {
    return this.refuse('record a restore');
  }
  markAbandoned(): Promise<number[]> {
    return this.refuse('mark abandoned batches');
  }
  lineWriter(): LineWriter {
    throw this.refusal('write lines');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.run(async () => undefined);
    this.client.close();
  }

  private refusal(what: string): UserError {
    return new UserError(
      `cannot ${what}: store ${this.path} is being written by ${this.writer}; this process reads it through its live socket, which is read-only. ` +
        'Wait for that process to finish, or use another --store.',
    );
  }

  private refuse(what: string): Promise<never> {
    return Promise.reject(this.refusal(what));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`store ${this.path} is closed`);
  }
}

/** True for a store read through a live writer (its parses go to the writer). */
export function isLiveStore(store: ExpertStore): store is LiveStore {
  return store instanceof LiveStore;
}

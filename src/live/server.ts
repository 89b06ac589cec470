/**
 * The live server: the process that holds a store for writing answers
 * read-only queries from the same user's other processes over
 * `<store>.sock` (mode 0600, so only this user, and root, can connect).
 * Each client connection is a session with its own DuckDB connection on the
 * writer's database (its TEMP tables are its own); its statements run in a
 * READ ONLY transaction (statement-guard.ts), so a reader can never change
 * the store, and stream back chunk by chunk with socket back-pressure.
 * Parses a reader asks for (`op: 'parse'`) run here, on the writer's store;
 * each one asked for is run once more as the server closes, so the lines that
 * came after a viewer's last poll (and the processes that ended since) are
 * parsed before the writer lets the file go: a viewer (`expert dashboard`,
 * `expert watch`) that then opens the file directly finds nothing to parse
 * and reads it read-only, never taking the write lock from the next reader.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { isUserError } from '../errors.js';
import type { DuckDBStore } from '../store/store.js';
import { decode, encode } from './codec.js';
import { PROTOCOL_VERSION, readMessages, writeMessage, type Reply, type Request } from './protocol.js';
import { explainWriteRefusal, refusal } from './statement-guard.js';

class RefusedStatement extends Error {}

/** How the writer names itself to readers (in messages they print). */
export function writerLabel(): string {
  const script = process.argv[1] ? basename(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') : 'node';
  const verb = process.argv[2] && !process.argv[2].startsWith('-') ? ` ${process.argv[2]}` : '';
  return `process ${process.pid} (${script === 'main' ? 'expert' : script}${verb})`;
}

export class LiveServer {
  private readonly sessions = new Set<Session>();
  private closed = false;
  /** Parses readers asked for, by `parser|batchId`: run once more at close. */
  private readonly asked = new Map<string, { parser: string; batchId: number | null }>();

  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
    private readonly storeFor: () => DuckDBStore | undefined,
  ) {
    server.on('connection', (socket) => {
      if (this.closed) return socket.destroy();
      const session = new Session(socket, this.storeFor, (parser, batchId) => this.asked.set(`${parser}|${batchId}`, { parser, batchId }));
      this.sessions.add(session);
      socket.on('close', () => {
        this.sessions.delete(session);
        void session.close();
      });
    });
  }

  /** Listens on `socketPath` (replacing a stale socket file left by a dead writer). */
  static async listen(socketPath: string, storeFor: () => DuckDBStore | undefined): Promise<LiveServer> {
    await removeIfStale(socketPath);
    const server = createServer();
    // The socket is created by bind(): a umask of 0177 makes it 0600 from its first instant.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(socketPath, 0o600);
    server.unref();
    return new LiveServer(socketPath, server, storeFor);
  }

  get clients(): number {
    return this.sessions.size;
  }

  private closing: Promise<void> | undefined;

  close(): Promise<void> {
    this.closing ??= this.shut();
    return this.closing;
  }

  private async shut(): Promise<void> {
    await this.finalParses();
    this.closed = true;
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.sessions].map((s) => s.close()));
    await closing;
    try {
      unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }

  /** Readers keep reading through the socket meanwhile; a parse that fails is left to whoever reads next. */
  private async finalParses(): Promise<void> {
    const store = this.storeFor();
    if (!store || this.asked.size === 0) return;
    const { ensureParsed } = await import('../mine/engine.js');
    for (const { parser, batchId } of this.asked.values()) {
      try {
        await ensureParsed(store, parser, batchId === null ? {} : { batchId });
      } catch {
        // e.g. the store is closing under an error: nothing to add to it
      }
    }
  }
}

/** A socket file nobody listens on is what a killed writer leaves: remove it. A live one is kept. */
export async function removeIfStale(socketPath: string): Promise<'absent' | 'removed' | 'live'> {
  try {
    if (!lstatSync(socketPath).isSocket()) return 'live';
  } catch {
    return 'absent';
  }
  const answered = await new Promise<boolean>((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) return 'live';
  try {
    unlinkSync(socketPath);
  } catch {
    // someone else removed it
  }
  return 'removed';
}

class Session {
  private connection: Promise<DuckDBConnection> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly writer = writerLabel();

  constructor(
    private readonly socket: Socket,
    private readonly storeFor: () => DuckDBStore | undefined,
    private readonly onParse: (parser: string, batchId: number | null) => void,
  ) {
    readMessages(socket, (message) => {
      const request = message as Request;
      this.tail = this.tail.then(() => this.handle(request)).catch(() => undefined);
    });
    socket.on('error', () => socket.destroy());
  }

  private store(): DuckDBStore {
    const store = this.storeFor();
    if (!store) throw new Error('the store is closing');
    return store;
  }

  private async handle(request: Request): Promise<void> {
    if (this.closed) return;
    try {
      switch (request.op) {
        case 'hello':
          await this.send({ id: request.id, type: 'hello', pid: process.pid, path: this.store().path, command: this.writer, protocol: PROTOCOL_VERSION });
          return;
        case 'run':
          await this.run(request.id, request.sql, decode(request.params) as DuckDBValue[] | Record<string, DuckDBValue> | null);
          return;
        case 'parse': {
          this.onParse(request.parser, request.batchId);
          const { ensureParsed } = await import('../mine/engine.js');
          const report = await ensureParsed(this.store(), request.parser, request.batchId === null ? {} : { batchId: request.batchId });
          await this.send({ id: request.id, type: 'result', value: encode(report) });
          return;
        }
        default:
          throw new Error(`unknown live request ${JSON.stringify((request as { op?: unknown }).op)}`);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const explained = explainWriteRefusal(message, this.writer);
      await this.send({ id: request.id, type: 'error', message: explained ?? message, user: explained !== undefined || error instanceof RefusedStatement || isUserError(error) });
    }
  }

  private async run(id: number, sql: string, params: DuckDBValue[] | Record<string, DuckDBValue> | null): Promise<void> {
    this.connection ??= this.store().openConnection();
    const connection = await this.connection;
    const extracted = await connection.extractStatements(sql);
    const hasParams = params !== null && (Array.isArray(params) ? params.length > 0 : Object.keys(params).length > 0);
    if (extracted.count === 0) throw new Error('No statement to prepare!');
    await connection.run('BEGIN TRANSACTION READ ONLY');
    let ok = false;
    try {
      for (let i = 0; i < extracted.count; i++) {
        const prepared = await extracted.prepare(i);
        // Prepared statements hold native memory until freed; a reader polling every 20 ms must not wait for GC.
        try {
          const why = refusal(prepared.statementType, this.writer);
          if (why) throw new RefusedStatement(why);
          if (i < extracted.count - 1) {
            await prepared.run();
            continue;
          }
          if (hasParams) prepared.bind(params!);
          const result = await prepared.stream();
          await this.send({ id, type: 'columns', names: result.columnNames(), unique: result.deduplicatedColumnNames(), types: result.columnTypes().map(encode) });
          for await (const rows of result.yieldRows()) {
            if (this.closed) return;
            await this.send({ id, type: 'rows', rows: rows.map(encode) });
          }
        } finally {
          prepared.destroySync();
        }
      }
      ok = true;
    } finally {
      await connection.run(ok ? 'COMMIT' : 'ROLLBACK').catch(() => undefined);
    }
    await this.send({ id, type: 'done' });
  }

  private send(reply: Reply): Promise<void> {
    return writeMessage(this.socket, reply);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    const connection = await this.connection?.catch(() => undefined);
    connection?.interrupt();
    await this.tail;
    connection?.disconnectSync();
  }
}

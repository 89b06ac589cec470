/**
 * The reader's end of the live socket: one connection to the writer, requests
 * answered in order, results as a stream of chunks. If the writer goes away
 * (it finished, or was killed) while a request is open, that request fails
 * with LiveWriterGoneError; later requests fail the same way.
 */
import { createConnection, type Socket } from 'node:net';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { decode, encode } from './codec.js';
import { readMessages, writeMessage, type Reply } from './protocol.js';

export class LiveWriterGoneError extends UserError {
  constructor(storePath: string, writer: string) {
    super(
      `the live writer of ${storePath} (${writer}) went away while this query ran (it finished or was killed). ` +
        'Everything it had stored is kept: run the query again.',
    );
    this.name = 'LiveWriterGoneError';
  }
}

export interface LiveHello {
  pid: number;
  path: string;
  /** e.g. `process 1234 (expert run)` */
  command: string;
}

export interface ResultHead {
  names: string[];
  unique: string[];
  types: DuckDBType[];
}

interface Pending {
  onReply(reply: Reply): void;
  onGone(error: Error): void;
}

/** Chunks of one result as they arrive; pauses the socket while too many wait to be read. */
export class ResultStream {
  readonly head: Promise<ResultHead>;
  private resolveHead!: (head: ResultHead) => void;
  private rejectHead!: (error: Error) => void;
  private readonly queue: DuckDBValue[][][] = [];
  private finished = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    this.head = new Promise<ResultHead>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.head.catch(() => undefined);
  }

  columns(head: ResultHead): void {
    this.resolveHead(head);
  }

  push(rows: DuckDBValue[][]): void {
    this.queue.push(rows);
    if (this.queue.length >= 8) this.socket.pause();
    this.notify();
  }

  end(error?: Error): void {
    this.finished = true;
    this.failure ??= error;
    if (error) this.rejectHead(error);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *chunks(): AsyncGenerator<DuckDBValue[][]> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        if (this.queue.length < 2) this.socket.resume();
        yield next;
        continue;
      }
      if (this.finished) {
        this.socket.resume();
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

export class LiveClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private gone: Error | undefined;
  hello!: LiveHello;

  private constructor(
    private readonly socket: Socket,
    private readonly storePath: string,
  ) {
    readMessages(socket, (message) => {
      const reply = message as Reply;
      this.pending.get(reply.id)?.onReply(reply);
    });
    socket.on('close', () => {
      this.gone ??= new LiveWriterGoneError(this.storePath, this.hello?.command ?? 'the writer');
      for (const p of [...this.pending.values()]) p.onGone(this.gone);
      this.pending.clear();
    });
    socket.on('error', () => socket.destroy());
  }

  /** Connects and says hello; rejects (with the socket error) when nobody listens. */
  static async connect(socketPath: string, storePath: string, timeoutMs = 5000): Promise<LiveClient> {
    const socket = createConnection(socketPath);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`no answer on ${socketPath} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    socket.unref();
    const client = new LiveClient(socket, storePath);
    client.hello = (await client.call({ op: 'hello' })) as LiveHello;
    return client;
  }

  /** Runs `sql` on the writer; the result's chunks stream as they come. */
  run(sql: string, params: unknown): ResultStream {
    const stream = new ResultStream(this.socket);
    this.request({ op: 'run', sql, params: encode(params ?? null), stream: true }, {
      onReply: (reply) => {
        switch (reply.type) {
          case 'columns':
            stream.columns({ names: reply.names, unique: reply.unique, types: reply.types.map(decode) as DuckDBType[] });
            return;
          case 'rows':
            stream.push(reply.rows.map(decode) as DuckDBValue[][]);
            return;
          case 'done':
            this.pending.delete(reply.id);
            stream.end();
            return;
          case 'error':
            this.pending.delete(reply.id);
            stream.end(replyError(reply));
            return;
          default:
            return;
        }
      },
      onGone: (error) => stream.end(error),
    });
    return stream;
  }

  /** A request answered by one `result` (or `hello`) reply. */
  call(fields: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.request(fields, {
        onReply: (reply) => {
          this.pending.delete(reply.id);
          if (reply.type === 'error') reject(replyError(reply));
          else if (reply.type === 'result') resolve(decode(reply.value));
          else resolve(reply);
        },
        onGone: reject,
      });
    });
  }

  private request(fields: Record<string, unknown>, pending: Pending): void {
    if (this.gone) {
      pending.onGone(this.gone);
      return;
    }
    const id = this.nextId++;
    this.pending.set(id, pending);
    // Keep the process alive while a request is open (the socket is unref'd when idle).
    this.socket.ref();
    const release = () => {
      if (this.pending.size === 0) this.socket.unref();
    };
    const wrapped: Pending = {
      onReply: (reply) => {
        pending.onReply(reply);
        release();
      },
      onGone: (error) => {
        pending.onGone(error);
        release();
      },
    };
    this.pending.set(id, wrapped);
    void writeMessage(this.socket, { id, ...fields } as never);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A DuckDB error stays a plain Error (as on a direct read); refusals and user errors are UserErrors. */
function replyError(reply: { message: string; user: boolean }): Error {
  return reply.user ? new UserError(reply.message) : new Error(reply.message);
}

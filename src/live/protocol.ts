/**
 * The live socket's wire format: one JSON object per line, both ways.
 * Values and column types inside are in `codec.ts`'s lossless form.
 *
 *   client → server  { id, op: 'hello' }
 *                    { id, op: 'run', sql, params, stream }      one SQL text (several statements allowed without params)
 *                    { id, op: 'parse', parser, batchId }          Mine's ensureParsed, done by the writer
 *   server → client  { id, type: 'hello', pid, path, command }
 *                    { id, type: 'columns', names, unique, types } then { id, type: 'rows', rows }* then { id, type: 'done' }
 *                    { id, type: 'result', value }                  (parse)
 *                    { id, type: 'error', message, user }
 * A client that is slow to read stops the server reading the next chunk (socket back-pressure).
 */
import type { Socket } from 'node:net';

export const PROTOCOL_VERSION = 1;

export type Request =
  | { id: number; op: 'hello' }
  | { id: number; op: 'run'; sql: string; params: unknown; stream: boolean }
  | { id: number; op: 'parse'; parser: string; batchId: number | null };

export type Reply =
  | { id: number; type: 'hello'; pid: number; path: string; command: string; protocol: number }
  | { id: number; type: 'columns'; names: string[]; unique: string[]; types: unknown[] }
  | { id: number; type: 'rows'; rows: unknown[] }
  | { id: number; type: 'done' }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; message: string; user: boolean };

/** Calls `onMessage` for every complete line received on `socket`. */
export function readMessages(socket: Socket, onMessage: (message: unknown) => void): void {
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => {
    pending += data;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.length > 0) onMessage(JSON.parse(line));
    }
  });
}

/** Writes one message; resolves once the socket can take more (back-pressure). */
export function writeMessage(socket: Socket, message: Request | Reply): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  const ok = socket.write(JSON.stringify(message) + '\n');
  if (ok) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

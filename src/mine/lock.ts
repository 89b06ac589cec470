/**
 * One DuckDB connection must not run two queries at once, and Mine's parse
 * uses a temp table on the connection. Mine's own work on a connection is
 * therefore serialised here; nested calls (a summary that parses) re-enter.
 * (Calls made through `store.query()` are serialised by the store itself.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DuckDBConnection } from '@duckdb/node-api';

const tails = new WeakMap<DuckDBConnection, Promise<unknown>>();
const holding = new AsyncLocalStorage<Set<DuckDBConnection>>();

export function withMineLock<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  const held = holding.getStore();
  if (held?.has(connection)) return work();
  const tail = tails.get(connection) ?? Promise.resolve();
  const run = () => holding.run(new Set([...(held ?? []), connection]), work);
  const result = tail.then(run, run);
  tails.set(connection, result.catch(() => undefined));
  return result;
}

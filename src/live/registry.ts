/**
 * Which stores this process serves live, by path. Every store opened for
 * writing is served from the moment it is open until its last writable
 * handle in this process closes (several handles of one file share one
 * DuckDB database, so they share one server). `EXPERT_LIVE=0` turns serving off.
 */
import type { DuckDBStore } from '../store/store.js';
import type { LiveServer } from './server.js';
import { liveSocketPath, socketPathFits } from './socket-path.js';

interface Served {
  stores: DuckDBStore[];
  server: Promise<LiveServer | undefined>;
}

const served = new Map<string, Served>();

export function liveServingEnabled(): boolean {
  return process.env.EXPERT_LIVE !== '0';
}

/** True when this process has `path` open for writing (its own socket must not be used as a reader's). */
export function servedHere(path: string): boolean {
  return served.has(liveSocketPath(path));
}

/** Starts serving `store` (a writable handle just opened), or joins the server of its file. */
export async function serveWhileOpen(store: DuckDBStore): Promise<void> {
  if (!liveServingEnabled()) return;
  const socketPath = liveSocketPath(store.path);
  const entry = served.get(socketPath);
  if (entry) {
    entry.stores.push(store);
    return;
  }
  if (!socketPathFits(socketPath)) return;
  const stores = [store];
  const { LiveServer } = await import('./server.js');
  const server = LiveServer.listen(socketPath, () => stores[0]).catch((error: Error) => {
    process.stderr.write(`expert: not serving live reads of ${store.path}: ${error.message}\n`);
    return undefined;
  });
  served.set(socketPath, { stores, server });
  await server;
}

/** Called as a writable handle closes, before its database goes: the last one stops the server. */
export async function stopServing(store: DuckDBStore): Promise<void> {
  const socketPath = liveSocketPath(store.path);
  const entry = served.get(socketPath);
  if (!entry) return;
  const at = entry.stores.indexOf(store);
  if (entry.stores.length > 1 || at < 0) {
    if (at >= 0) entry.stores.splice(at, 1);
    return;
  }
  // The last handle: it stays the server's store while the server closes (its final parses run on it).
  await (await entry.server)?.close();
  entry.stores.splice(0);
  served.delete(socketPath);
}

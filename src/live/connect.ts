/**
 * Finding a live writer: a reader that finds `<store>.sock` connects to it;
 * a socket file nobody answers on (its writer died) is removed and ignored.
 */
import { existsSync } from 'node:fs';
import { LiveClient } from './client.js';
import { LiveStore } from './live-store.js';
import { removeIfStale } from './server.js';
import { liveServingEnabled, servedHere } from './registry.js';
import { liveSocketPath } from './socket-path.js';

/** The store read through its live writer, or undefined when none serves it. */
export async function openLiveStore(path: string): Promise<LiveStore | undefined> {
  if (!liveServingEnabled() || servedHere(path)) return undefined;
  const socketPath = liveSocketPath(path);
  if (!existsSync(socketPath)) return undefined;
  try {
    const client = await LiveClient.connect(socketPath, path);
    return new LiveStore(client.hello.path, client);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') await removeIfStale(socketPath);
    return undefined;
  }
}

/**
 * Where a store's live socket lives: beside the store, `<store>.sock`
 * (DESIGN.md "Live"). Unix socket paths are limited to 107 bytes on Linux;
 * a store whose socket path would be longer is not served (readers then
 * wait for its lock, as before).
 */
import { resolve } from 'node:path';

export const MAX_SOCKET_PATH_BYTES = 107;

export function liveSocketPath(storePath: string): string {
  return `${resolve(storePath)}.sock`;
}

export function socketPathFits(socketPath: string): boolean {
  return Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES;
}

/**
 * Turns DuckDB's open failures into messages a user can act on. Pure: it only
 * reads the error text DuckDB gave.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** Another process holds the file's lock (DuckDB: one writing process, or any number of readers, not both). */
export class StoreLockedError extends UserError {
  readonly holder: string;
  constructor(readonly path: string, duckdbMessage: string, cause?: unknown) {
    const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/s.exec(duckdbMessage);
    const holder = lock ? `process ${lock[2]} (${lock[1]})` : 'another process';
    super(
      `store ${path} is locked by ${holder}. DuckDB lets one process write a store, or several processes read it, not both at once. ` +
        `Wait for that process to finish (or stop it), or query from inside it (the kernel that has the store open).`,
      { cause },
    );
    this.name = 'StoreLockedError';
    this.holder = holder;
  }
}

/** A store path that does not exist, for a verb that only reads (only `expert run` creates a store). */
export class MissingStoreError extends UserError {
  constructor(path: string) {
    const near = nearbyStores(path);
    super(
      `no store at ${path} (only \`expert run\` creates one; check --store). ` +
        (near.length > 0 ? `Stores nearby: ${near.join(', ')}` : 'No .duckdb file in that folder or this one.'),
    );
    this.name = 'MissingStoreError';
  }
}

/** `.duckdb` files in the folder of `path` and in the working folder, as a user would type them. */
export function nearbyStores(path: string, limit = 8): string[] {
  const folders = [...new Set([dirname(resolve(path)), process.cwd()])];
  const found: string[] = [];
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!name.endsWith('.duckdb')) continue;
      const file = join(folder, name);
      try {
        if (!statSync(file).isFile()) continue;
      } catch {
        continue;
      }
      const shown = relative(process.cwd(), file) || basename(file);
      if (!found.includes(shown)) found.push(shown.startsWith('..') ? file : shown);
    }
  }
  return found.slice(0, limit);
}

export function explainOpenError(path: string, readOnly: boolean, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);

  if (/Could not set lock on file/.test(message)) return new StoreLockedError(path, message, error);
  if (/not a valid DuckDB database file/.test(message)) {
    return new UserError(
      `${path} exists but is not a DuckDB store. Pick another file with --store, or move this one away.`,
      { cause: error },
    );
  }
  if (/read-only mode: database does not exist/.test(message)) {
    return new MissingStoreError(path);
  }
  if (/No such file or directory/.test(message)) {
    return new UserError(`cannot create store ${path}: its directory does not exist. Create the directory first or pick another --store path.`, {
      cause: error,
    });
  }
  if (/Permission denied/.test(message)) {
    return new UserError(`cannot open store ${path}: permission denied${readOnly ? ' (it is not readable by this user)' : ' (it or its folder is not writable by this user; pick another --store path)'}.`, {
      cause: error,
    });
  }
  return new UserError(`cannot open store ${path}: ${message}`, { cause: error });
}

/**
 * Turns DuckDB's open failures into messages a user can act on, from the
 * error text DuckDB gave; a lock's holder is named by its command line where
 * /proc shows it (DuckDB names only the program, `/usr/bin/node`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** Another process holds the file's lock (DuckDB: one writing process, or any number of readers, not both). */
export class StoreLockedError extends UserError {
  readonly holder: string;
  constructor(readonly path: string, duckdbMessage: string, cause?: unknown) {
    const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/s.exec(duckdbMessage);
    const holder = lock ? `process ${lock[2]} (${holderCommand(Number(lock[2])) ?? lock[1]})` : 'another process';
    super(
      `store ${path} is locked by ${holder}. DuckDB lets one process write a store, or several processes read it, not both at once. ` +
        `Wait for that process to finish (or stop it), or query from inside it (the kernel that has the store open).`,
      { cause },
    );
    this.name = 'StoreLockedError';
    this.holder = holder;
  }
}

/** The command line of process `pid` as its user typed it (`expert dashboard …`), or undefined when /proc does not show it. */
export function holderCommand(pid: number): string | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    return argv.length > 0 ? commandText(argv) : undefined;
  } catch {
    return undefined; // gone, another PID namespace, or no /proc
  }
}

/**
 * argv → a short command line (pure): `node [node options] …/expert ARGS` (the installed bin, or
 * dist/src/cli/main.js) reads `expert ARGS`; anything else its program's name and arguments. At most 160 characters.
 */
export function commandText(argv: readonly string[]): string {
  const base = (a: string) => a.slice(a.lastIndexOf('/') + 1);
  let words = [...argv];
  if (words.length > 0 && /^node(js)?(\d+)?$/.test(base(words[0]!))) {
    const script = words.findIndex((a, i) => i > 0 && !a.startsWith('-') && !(i > 1 && /^--(import|require|loader|experimental-loader)$/.test(words[i - 1]!)) && words[i - 1] !== '-r');
    if (script > 0 && (base(words[script]!) === 'expert' || /(^|\/)cli\/main\.[cm]?js$/.test(words[script]!))) words = ['expert', ...words.slice(script + 1)];
  }
  if (words[0] !== 'expert' && words.length > 0) words[0] = base(words[0]!);
  const text = words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w))).join(' ');
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
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

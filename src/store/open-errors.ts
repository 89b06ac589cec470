/**
 * Turns DuckDB's open failures into messages a user can act on. Pure: it only
 * reads the error text DuckDB gave.
 */
import { UserError } from '../errors.js';

export function explainOpenError(path: string, readOnly: boolean, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);

  const lock = /Could not set lock on file .*?Conflicting lock is held in (.*?) \(PID (\d+)\)/s.exec(message);
  if (lock || /Could not set lock on file/.test(message)) {
    const holder = lock ? `process ${lock[2]} (${lock[1]})` : 'another process';
    return new UserError(
      `store ${path} is locked by ${holder}. DuckDB lets one process write a store, or several processes read it, not both. ` +
        `Wait for that process to finish (or stop it), query from inside it (the kernel, or the batch's own process), ` +
        `or, when no process is writing it, open it read-only: \`--read-only\` on the CLI, \`openStore(path, { readOnly: true })\` in code.`,
      { cause: error },
    );
  }
  if (/not a valid DuckDB database file/.test(message)) {
    return new UserError(
      `${path} exists but is not a DuckDB store. Pick another file with --store, or move this one away.`,
      { cause: error },
    );
  }
  if (/read-only mode: database does not exist/.test(message)) {
    return new UserError(`store ${path} does not exist (cannot open a missing store read-only). Check the path given to --store.`, {
      cause: error,
    });
  }
  if (/No such file or directory/.test(message)) {
    return new UserError(`cannot create store ${path}: its directory does not exist. Create the directory first or pick another --store path.`, {
      cause: error,
    });
  }
  if (/Permission denied/.test(message)) {
    return new UserError(`cannot open store ${path}: permission denied.${readOnly ? '' : ' Open it read-only or pick a writable path.'}`, {
      cause: error,
    });
  }
  return new UserError(`cannot open store ${path}: ${message}`, { cause: error });
}

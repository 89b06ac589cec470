/**
 * Which statements a reader may run through a live writer. Every statement
 * runs inside a READ ONLY transaction, so DuckDB itself refuses any write
 * to the store (INSERT, CREATE TABLE, COPY ... FROM, ...) while TEMP tables
 * of the reader's own session still work (Mine's summary uses them). What
 * a transaction cannot contain is refused here, by DuckDB's statement type:
 * settings and pragmas (they would change the writer's DuckDB for everyone),
 * transactions, ATTACH/DETACH, extensions, EXPORT, VACUUM, CALL (checkpoint).
 */
import { StatementType } from '@duckdb/node-api';

const REFUSED = new Set<StatementType>([
  StatementType.TRANSACTION,
  StatementType.SET,
  StatementType.VARIABLE_SET,
  StatementType.PRAGMA,
  StatementType.ATTACH,
  StatementType.DETACH,
  StatementType.LOAD,
  StatementType.EXTENSION,
  StatementType.UPDATE_EXTENSIONS,
  StatementType.EXPORT,
  StatementType.COPY_DATABASE,
  StatementType.VACUUM,
  StatementType.CALL,
  StatementType.PREPARE,
  StatementType.EXECUTE,
  StatementType.ANALYZE,
  StatementType.LOGICAL_PLAN,
  StatementType.INVALID,
]);

/** Why `type` is refused through a live writer, or undefined when it may run. */
export function refusal(type: StatementType, writer: string): string | undefined {
  if (!REFUSED.has(type)) return undefined;
  return `${StatementType[type]} statements are refused: ${writer} is writing this store, and a reader goes through its live socket, which runs only reads (SELECT, and TEMP tables of the reader's own session). Run it once the batch has ended.`;
}

/** DuckDB's own refusal of a write inside the READ ONLY transaction, said for this situation. */
export function explainWriteRefusal(message: string, writer: string): string | undefined {
  if (!/read-only mode|read-only transaction/i.test(message)) return undefined;
  return `statements that write are refused: ${writer} is writing this store, and a reader goes through its live socket, which runs only reads (SELECT, and TEMP tables of the reader's own session). Run it once the batch has ended. (DuckDB: ${message})`;
}

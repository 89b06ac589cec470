/**
 * What a Mine parser is. A parser turns the raw `line` rows of the processes
 * it recognises into one table `parsed.<name>`; it is versioned, and a change
 * of version re-parses. Most parsers are DuckDB SQL over `line` (fast, no rows
 * cross into JS); see `engine.ts` for the contract the SQL must meet.
 */
import type { SinceBootRows } from './since-boot.js';

export interface ColumnDoc {
  name: string;
  /** DuckDB type the SQL produces (for `mine parsers`; the table takes the query's own types). */
  type: string;
  description?: string;
}

export interface ParserDefinition {
  /** Table name under schema `parsed` and the value of `process.parser` that selects it. */
  name: string;
  /** Any change re-parses every process already parsed with an older version. */
  version: string;
  description: string;
  /** Program names (from `process.command`) this parser claims when `process.parser` is empty. */
  programs: readonly string[];
  /** Extra test on the command (e.g. `sadf` vs `sar`, `perf stat` vs `perf record`). */
  matchesCommand?: (words: readonly string[]) => boolean;
  columns: readonly ColumnDoc[];
  /**
   * SELECT over the relation named `src` (columns: process_id, seq, ts, stream, text)
   * returning `process_id, seq, line_ts` + the parser's columns + `parse_error BOOLEAN`
   * (true where a line meant as data did not parse; its fields are then NULL).
   */
  sql: (src: string) => string;
  /**
   * Statements run after rows of the processes listed in temp table
   * `_mine_todo(process_id, complete, since_boot)` were inserted; `since_boot`
   * is what `sinceBoot` said of the process's command (NULL without it).
   */
  postInsert?: (table: string) => string[];
  /**
   * True when a line's rows depend on that line alone (no headers or blocks
   * spanning lines; `postInsert` may still look at the whole process): a
   * running process is then parsed incrementally, only its new lines (engine.ts).
   */
  lineLocal?: boolean;
  /** Monitors: which rows are since-boot averages, from the program words of the command (`since-boot.ts`). */
  sinceBoot?: (words: readonly string[]) => SinceBootRows;
}

export interface ParseReport {
  parser: string;
  version: string;
  /** Processes parsed now (new, changed version, or still running last time). */
  parsedProcesses: number;
  /** Processes whose cached result was reused. */
  cachedProcesses: number;
  rows: number;
  errors: number;
  /** Table to query: `parsed.<name>`. */
  table: string;
}

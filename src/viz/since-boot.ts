/**
 * Rows a monitor printed as averages since boot (Mine's `since_boot` column:
 * vmstat's first row, iostat's first report, ...) are not samples: drawn as
 * data, they make a line drop at every run start. Charts leave them out
 * unless asked to keep them (`since_boot: true` in a chart spec, `sinceBoot`
 * in the builders' options). Pure.
 */
import { toColumns, type Columns, type TableInput } from './columns.js';

/** The rows whose `since_boot` is not true; the same columns when there is no such column or row. */
export function withoutSinceBoot(columns: Columns): Columns {
  const flags = columns.since_boot;
  if (!flags || !flags.some((f) => f === true)) return columns;
  const keep = flags.map((f) => f !== true);
  return Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values.filter((_, i) => keep[i])]));
}

/** A builder's input as columns, since-boot rows left out unless `keep`. */
export function sampleColumns(input: TableInput, keep: boolean | undefined): Columns {
  const columns = toColumns(input);
  return keep ? columns : withoutSinceBoot(columns);
}

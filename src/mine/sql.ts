/** Small helpers for building SQL text safely (identifiers and literals are quoted, never spliced raw). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `parsed."name"` */
export function parsedTable(parser: string): string {
  return `parsed.${ident(parser)}`;
}

/** Casts a text expression to DOUBLE, NULL when it is not a number. */
export function num(expr: string): string {
  return `try_cast(${expr} AS DOUBLE)`;
}

export function int(expr: string): string {
  return `try_cast(${expr} AS BIGINT)`;
}

/** Header name → column name: lower-case, `%` → `pct_`, other punctuation → `_` (as DESIGN.md says). */
export function columnName(header: string): string {
  return header
    .toLowerCase()
    .replace(/%/g, 'pct_')
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** The same rule as `columnName`, as a DuckDB expression over `x`. */
export function columnNameSql(x: string): string {
  return `trim(regexp_replace(replace(lower(${x}), '%', 'pct_'), '[^a-z0-9_]+', '_', 'g'), '_')`;
}

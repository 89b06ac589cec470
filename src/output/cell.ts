/**
 * The value model of everything ExPerT prints (CLI tables, CSV, JSON, the
 * kernel's HTML tables). A `Cell` is JSON-shaped, plus two markers for what
 * JSON numbers and strings cannot carry faithfully:
 * - `ExactNumber`: an integer beyond 2^53, or a DECIMAL with more digits than a
 *   double holds, kept as its full decimal text;
 * - `JsonText`: a value that already is JSON (a DuckDB `JSON` column), which
 *   JSON output embeds as JSON rather than as a quoted string.
 * Each format then decides once how to write each kind (see json.ts, csv.ts,
 * table-text.ts). Pure; no DuckDB import (that lives in duckdb-cells.ts), so
 * verbs that print plain JS rows stay light.
 */
export type Cell = null | boolean | number | string | ExactNumber | JsonText | Cell[] | CellObject;
export interface CellObject {
  [key: string]: Cell;
}

export class ExactNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export class JsonText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An integer as a number when a double holds it exactly, else its digits. */
export function integerCell(value: bigint): number | ExactNumber {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : new ExactNumber(value.toString());
}

/**
 * Bytes as DuckDB casts a BLOB to text (`\xAA` for control bytes, quotes and
 * bytes beyond ASCII), the form DuckDB's own CSV writer uses; the same rule as
 * node-api's `DuckDBBlobValue.toString()`, restated here so that printing plain
 * rows does not load DuckDB.
 */
export function blobText(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    text += byte <= 0x1f || byte === 0x22 || byte === 0x27 || byte >= 0x7f
      ? `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`
      : String.fromCharCode(byte);
  }
  return text;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A JS value (a verb's own rows, `store.query()` results) as a Cell. */
export function cellFromJs(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return value;
    case 'bigint':
      return integerCell(value);
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof ExactNumber || value instanceof JsonText) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return blobText(value);
  if (Array.isArray(value)) return value.map(cellFromJs);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [keyText(cellFromJs(k)), cellFromJs(v)]));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cellFromJs(v)]));
  // DuckDB value classes and the like print themselves the way DuckDB does.
  return String(value);
}

/** A map key as an object key: strings as they are, anything else as its JSON. */
export function keyText(key: Cell): string {
  if (typeof key === 'string') return key;
  if (key instanceof ExactNumber || key instanceof JsonText) return key.text;
  return JSON.stringify(key) ?? 'null';
}

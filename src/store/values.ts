/**
 * Conversions between plain JS values and DuckDB values, both ways. Pure.
 */
import { DuckDBBlobValue, DuckDBTimestampTZValue, type DuckDBValue } from '@duckdb/node-api';

/** Epoch milliseconds (fractional = sub-ms) to a TIMESTAMPTZ value. */
export function timestampValue(epochMs: number): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(Math.round(epochMs * 1000)));
}

export function optionalTimestamp(epochMs: number | null | undefined): DuckDBTimestampTZValue | null {
  return epochMs == null ? null : timestampValue(epochMs);
}

export function jsonValue(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** A query parameter as the caller gave it, to what DuckDB binds. */
export function toDuckDBValue(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    case 'number':
      return value;
    case 'object':
      if (value instanceof Date) return timestampValue(value.getTime());
      if (value instanceof Uint8Array) return new DuckDBBlobValue(value);
      return JSON.stringify(value);
    default:
      throw new TypeError(`cannot bind a ${typeof value} as a query parameter`);
  }
}

/** A result cell, made friendly: safe-range BIGINTs become numbers. */
export function fromResultValue(value: unknown): unknown {
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value);
  }
  if (Array.isArray(value)) return value.map(fromResultValue);
  return value;
}

/**
 * User parsers: a regex with named groups (JavaScript `(?<name>...)` or RE2
 * `(?P<name>...)` syntax) and optional types, turned into DuckDB SQL
 * (`regexp_extract` with the group names, then `try_cast`). A line the regex
 * does not match is skipped; a matched field that does not cast is NULL and
 * the row counts as a parse error. The version is a hash of the definition,
 * so editing the regex or a type re-parses.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { defaultRegistry, type ParserRegistry } from './registry.js';
import { literal } from './sql.js';
import type { ParserDefinition } from './types.js';

export type UserColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP';
const TYPES = new Set<UserColumnType>(['VARCHAR', 'DOUBLE', 'BIGINT', 'INTEGER', 'BOOLEAN', 'TIMESTAMP']);

export interface UserParserSpec {
  name: string;
  /** Regex with named groups; each group becomes a column. */
  regex: string | RegExp;
  /** Column types by group name (default VARCHAR; `num`/`int` accepted for DOUBLE/BIGINT). */
  types?: Record<string, string>;
  /** Programs this parser claims when `process.parser` is empty (default: none, select by `parser:`). */
  programs?: string[];
  /** Only lines of this stream (default both). */
  stream?: 'stdout' | 'stderr';
  description?: string;
}

export function userParser(spec: UserParserSpec): ParserDefinition {
  const source = typeof spec.regex === 'string' ? spec.regex : spec.regex.source;
  if (/(?<!\\)\((?!\?)/.test(source.replace(/\[[^\]]*\]/g, ''))) {
    throw new UserError(`parser '${spec.name}': use (?:...) for groups that are not columns; every capturing group must be named`);
  }
  const groups = [...source.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
  if (groups.length === 0) throw new UserError(`parser '${spec.name}': the regex has no named groups like (?<value>[0-9.]+)`);
  const duplicate = groups.find((g, i) => groups.indexOf(g) !== i);
  if (duplicate) throw new UserError(`parser '${spec.name}': group '${duplicate}' is named twice`);
  const re2 = source.replace(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?P<$1>');
  const types = Object.fromEntries(groups.map((g) => [g, normalizeType(spec.name, g, spec.types?.[g])]));
  for (const key of Object.keys(spec.types ?? {})) {
    if (!groups.includes(key)) throw new UserError(`parser '${spec.name}': type given for '${key}', which is not a group of the regex (groups: ${groups.join(', ')})`);
  }
  const version = createHash('sha256').update(JSON.stringify({ re2, types, stream: spec.stream ?? null })).digest('hex').slice(0, 12);
  const cast = (g: string) => (types[g] === 'VARCHAR' ? `m.${quoteId(g)}` : `try_cast(nullif(m.${quoteId(g)}, '') AS ${types[g]})`);
  const failed = groups.filter((g) => types[g] !== 'VARCHAR').map((g) => `(nullif(m.${quoteId(g)}, '') IS NOT NULL AND ${cast(g)} IS NULL)`);
  return {
    name: spec.name,
    version: `user-${version}`,
    description: spec.description ?? `user parser: ${source}`,
    programs: spec.programs ?? [],
    columns: groups.map((g) => ({ name: g, type: types[g]! })),
    sql: (src) => `
      SELECT process_id, seq, line_ts, ${groups.map((g) => `${cast(g)} AS ${quoteId(g)}`).join(', ')},
        ${failed.length ? failed.join(' OR ') : 'false'} AS parse_error
      FROM (
        SELECT process_id, seq, ts AS line_ts, regexp_extract(text, ${literal(re2)}, [${groups.map(literal).join(', ')}]) AS m
        FROM ${src}
        WHERE regexp_matches(text, ${literal(re2)})${spec.stream ? ` AND stream = ${literal(spec.stream)}` : ''}
      )`,
  };
}

function normalizeType(parser: string, group: string, type: string | undefined): UserColumnType {
  if (type === undefined) return 'VARCHAR';
  const upper = type.toUpperCase();
  const alias: Record<string, UserColumnType> = { NUM: 'DOUBLE', NUMBER: 'DOUBLE', FLOAT: 'DOUBLE', INT: 'BIGINT', STRING: 'VARCHAR', TEXT: 'VARCHAR', BOOL: 'BOOLEAN' };
  const resolved = (alias[upper] ?? upper) as UserColumnType;
  if (!TYPES.has(resolved)) throw new UserError(`parser '${parser}': type '${type}' for '${group}' is not one of ${[...TYPES].join(', ')}`);
  return resolved;
}

function quoteId(name: string): string {
  return `"${name}"`;
}

/** Defines a user parser and registers it (default: the session-wide registry), replacing one of the same name. */
export function defineParser(spec: UserParserSpec, registry: ParserRegistry = defaultRegistry()): ParserDefinition {
  const parser = userParser(spec);
  registry.register(parser);
  return parser;
}

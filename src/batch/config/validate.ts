/**
 * Checks a plain value against a Schema and throws the first problem, in
 * document order, as a ConfigError at the offending node. A small walker
 * over our own schema (not ajv) so each message says, in the config's own
 * words, what was expected there, and the position is the YAML node's.
 */
import { ConfigError } from '../../errors.js';
import { didYouMean, suggestion } from '../../closest.js';
import { parseDuration } from './duration.js';
import type { Schema } from './schema.js';
import type { ConfigPath, ConfigSource } from './source.js';

export function validate(value: unknown, schema: Schema, source: ConfigSource, path: ConfigPath = []): void {
  walk(value, schema, source, path);
}

function walk(value: unknown, schema: Schema, source: ConfigSource, path: ConfigPath): void {
  const fail = (expected: string): never => {
    throw source.error(path, `expected ${expected}, got ${describe(value)}`);
  };
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') fail(schema.enum ? oneOf(schema.enum) : 'a string');
      if (schema.enum && !schema.enum.includes(value as string) && !schema.pattern?.test(value as string)) {
        const also = schema.patternText ? `, or ${schema.patternText}` : '';
        throw source.error(path, `expected ${oneOf(schema.enum)}${also}, got ${describe(value)}${didYouMean(value as string, schema.enum)}`);
      }
      if (schema.nonEmpty && value === '') fail('a non-empty string');
      return;
    case 'integer': {
      const range = rangeText(schema.min, schema.max);
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(`an integer${range}`);
      const n = value as number;
      if ((schema.min !== undefined && n < schema.min) || (schema.max !== undefined && n > schema.max)) fail(`an integer${range}`);
      return;
    }
    case 'any':
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'scalar':
      if (typeof value !== 'string' && typeof value !== 'boolean' && (typeof value !== 'number' || !Number.isFinite(value))) fail('a string, number or boolean');
      return;
    case 'duration':
      if (typeof value !== 'string' && typeof value !== 'number') fail('a duration like 10m, 30s, 1500ms or a number of seconds');
      let ms: number;
      try {
        ms = parseDuration(value as string | number);
      } catch (e) {
        throw source.error(path, (e as Error).message);
      }
      if (schema.positive && ms <= 0) fail('a duration greater than zero');
      return;
    case 'list':
      if (!Array.isArray(value)) fail('a list');
      if (schema.nonEmpty && (value as unknown[]).length === 0) fail('a non-empty list');
      (value as unknown[]).forEach((item, i) => walk(item, schema.items, source, [...path, i]));
      return;
    case 'map':
      if (!isPlainObject(value)) fail('a mapping');
      for (const [key, item] of Object.entries(value as object)) walk(item, schema.values, source, [...path, key]);
      return;
    case 'object': {
      if (!isPlainObject(value)) fail(`a mapping with keys ${Object.keys(schema.fields).join(', ')}`);
      const object = value as Record<string, unknown>;
      const known = Object.keys(schema.fields);
      for (const key of Object.keys(object)) {
        if (!Object.hasOwn(schema.fields, key)) throw source.error([...path, key], `unknown key \`${key}\`${suggestion(key, known)}`, 'key');
        walk(object[key], schema.fields[key]!.schema, source, [...path, key]);
      }
      for (const [key, field] of Object.entries(schema.fields)) {
        if (field.required && !Object.hasOwn(object, key)) throw missing(source, path, key);
      }
      return;
    }
    case 'union': {
      const branch = Array.isArray(value)
        ? schema.list
        : isPlainObject(value)
          ? schema.object
          : typeof value === 'string'
            ? schema.string
            : typeof value === 'number'
              ? schema.number
              : typeof value === 'boolean'
                ? schema.boolean
                : undefined;
      if (!branch) fail(schema.expected);
      walk(value, branch!, source, path);
      return;
    }
  }
}

function missing(source: ConfigSource, path: ConfigPath, key: string): ConfigError {
  const where = path.length ? 'here' : 'at the top level';
  return source.error(path, `missing required key \`${key}\` ${where}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value.length > 60 ? value.slice(0, 57) + '...' : value}'`;
  return `${typeof value} ${String(value)}`;
}

function oneOf(options: readonly string[]): string {
  return options.length === 1 ? `\`${options[0]}\`` : `one of ${options.map((o) => `\`${o}\``).join(', ')}`;
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

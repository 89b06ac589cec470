/**
 * The config machinery for any YAML file a part reads (a policy file, a
 * search spec, a chart spec): parse with positions, check against a Schema,
 * and get ConfigErrors with file:line:column. Use `source.error(path, ...)`
 * for later checks of your own so they carry positions too.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Schema } from './schema.js';
import { ConfigSource } from './source.js';
import { validate } from './validate.js';

export function parseYamlAgainst<T>(text: string, file: string, schema: Schema): { value: T; source: ConfigSource } {
  const source = ConfigSource.fromText(text, file);
  const value = source.toJS();
  validate(value, schema, source);
  return { value: value as T, source };
}

export async function loadYamlAgainst<T>(file: string, schema: Schema, options: { cwd?: string } = {}): Promise<{ value: T; source: ConfigSource }> {
  let text: string;
  try {
    text = await readFile(resolve(options.cwd ?? process.cwd(), file), 'utf8');
  } catch (e) {
    throw new ConfigError({ file, line: 1, column: 1 }, `cannot read the file: ${(e as Error).message}`);
  }
  return parseYamlAgainst<T>(text, file, schema);
}

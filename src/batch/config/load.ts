/**
 * Loading a batch config: YAML text (a file, or a kernel cell) or a
 * TypeScript object → --set overrides → schema walk → machine map →
 * cross-checks → ResolvedBatchConfig. Every problem is a ConfigError with
 * file:line:column. The plan itself is expanded by ../plan (pure).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { checkConfig } from './checks.js';
import { resolveMachines } from './machines.js';
import { applySet, parseSet, type ParsedSet } from './overrides.js';
import { batchConfigSchema } from './schema.js';
import { ConfigSource } from './source.js';
import type { BatchConfig, ResolvedBatchConfig } from './types.js';
import { validate } from './validate.js';

export interface LoadOptions {
  /** `--set key=value` overrides, applied in order before validation. */
  set?: readonly string[];
  /** Where `machines: testbed` and relative paths (without a config file) are resolved. Default process.cwd(). */
  cwd?: string;
  /** Environment for EXPERT_TESTBED_DIR. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface TextOptions extends LoadOptions {
  /** Name used in error messages, e.g. `<cell>` or the file path. */
  file?: string;
  /** Absolute path of the file the text came from: relative machine map paths resolve against its folder. */
  path?: string;
}

export async function loadBatchConfig(file: string, options: LoadOptions = {}): Promise<ResolvedBatchConfig> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError({ file, line: 1, column: 1 }, `cannot read the config file: ${(e as Error).message}`);
  }
  return parseBatchConfigText(text, { ...options, file, path });
}

export async function parseBatchConfigText(text: string, options: TextOptions = {}): Promise<ResolvedBatchConfig> {
  const source = ConfigSource.fromText(text, options.file ?? options.path ?? '<config>');
  return resolveSource(source, options, options.path);
}

/** A config built in TypeScript, checked exactly like a YAML one (errors name `options.file`, default `<config object>`, and the key path). */
export async function resolveBatchConfig(config: BatchConfig, options: TextOptions = {}): Promise<ResolvedBatchConfig> {
  const source = ConfigSource.fromObject(config, options.file ?? '<config object>');
  return resolveSource(source, options, options.path);
}

async function resolveSource(source: ConfigSource, options: LoadOptions, path: string | undefined): Promise<ResolvedBatchConfig> {
  const cwd = options.cwd ?? process.cwd();
  const machineSets: ParsedSet[] = [];
  for (const expression of options.set ?? []) {
    const set = parseSet(expression);
    if (!applySet(source, set, { stopAtString: 'machines' })) machineSets.push({ ...set, path: set.path.slice(1) });
  }
  const value = source.toJS();
  validate(value, batchConfigSchema, source);
  const config = value as BatchConfig;
  keepNumberText(config, source);
  const machines = await resolveMachines(config.machines, {
    source,
    dir: path ? dirname(path) : cwd,
    cwd,
    env: options.env ?? process.env,
    sets: machineSets,
  });
  return checkConfig(config, machines, source, path);
}

/** Parameter values written as numbers keep their text (`1.10` stays "1.10", `010` stays "010"). */
function keepNumberText(config: BatchConfig, source: ConfigSource): void {
  const fix = (holder: Record<string, unknown>, path: Array<string | number>) => {
    for (const [key, value] of Object.entries(holder)) {
      if (typeof value === 'number') holder[key] = source.numberText([...path, key]) ?? value;
      else if (Array.isArray(value)) value.forEach((item, i) => typeof item === 'number' && (value[i] = source.numberText([...path, key, i]) ?? item));
    }
  };
  config.tests.forEach((test, t) => {
    if (test.params) fix(test.params, ['tests', t, 'params']);
    test.exclude?.forEach((rule, r) => fix(rule, ['tests', t, 'exclude', r]));
  });
}

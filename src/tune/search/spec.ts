/**
 * The search spec (`expert tune search spec.yaml`) and the candidates it
 * lists or generates. Pure: parsing and generation only.
 */
import type { BatchConfig, PolicySpec } from '../../batch/config/types.js';
import { batchConfigSchema, policySchema, type Schema } from '../../batch/config/schema.js';
import { ConfigSource, pathText, type ConfigPath } from '../../batch/config/source.js';
import { validate } from '../../batch/config/validate.js';
import { parseYamlAgainst } from '../../batch/config/yaml-file.js';
import { UserError } from '../../errors.js';
import { formatCpuList, parseCpuList } from '../cpu-list.js';
import { cpusOf, validatePolicy } from '../planner.js';
import { spaceSchema } from '../space/schema.js';
import { normaliseSpace } from '../space/dimensions.js';
import type { SpaceSpec } from '../space/types.js';

export interface SearchSpec {
  name?: string;
  /** A batch config file (relative to the spec) or an inline config; its `policies` are replaced by the candidates. */
  batch: string | BatchConfig;
  candidates?: PolicySpec[];
  generate?: GenerateSpec;
  /** A space of placements instead of a list (src/tune/space/). */
  space?: SpaceSpec;
  objective: Objective;
  /** Runs per candidate in a round (exhaustive, random, model; halving's first round). Default 3. */
  repetitions?: number;
  /** `trials`: candidates measured (a candidate in a round is one trial); `time`: wall time, the round in progress is cut off. */
  budget?: { trials?: number; time?: string | number };
  /** Default: exhaustive for a list, model for a space. */
  strategy?: StrategyName;
  /** Seeds the order candidates are tried in and the model's random start (default 1). */
  seed?: number;
  /** Candidates per round for random and model (default 4 and 2). */
  round?: number;
  /** Confirmation rounds of the best few after random/model explored (default {top: 3, rounds: 2}; rounds: 0 for none). */
  confirm?: { top?: number; rounds?: number };
  /**
   * Monitor columns of the run summary the model strategy uses as side information (`perf_context_switches`,
   * `vmstat_cs`, ...). Default: those of the first round's runs that count context switches or CPU time; `[]`: none.
   */
  side?: string[];
}

export type StrategyName = 'random' | 'exhaustive' | 'halving' | 'model';

/**
 * What a trial measures. `metric`: a column of Mine's run summary, one value
 * per run (the run as the unit, as `compare` counts). `sql`: one row per
 * measurement (column `value`, else the first), with `{batch_id}` and, when a
 * round runs several candidates in one batch, `{policy}` (the candidate's name,
 * as a quoted SQL string) or a `policy` column. `parse` names Mine parsers to
 * run on the trial batch first.
 */
export interface Objective {
  sql?: string;
  metric?: string;
  direction: 'min' | 'max';
  parse?: string[];
}

export interface GenerateSpec {
  /** Guests to place; `all` is added as "every guest together". */
  guests: string[];
  /** CPU sets to pin to (each a list or a CPU-list string); "not pinned" is always a choice. */
  cpus?: Array<number[] | number | string>;
  /** Nice levels to try (0 = unchanged). */
  nice?: number[];
  /** Also pin all guests together (default true). */
  together?: boolean;
}

const text: Schema = { type: 'string', nonEmpty: true };

const generateSchema: Schema = {
  type: 'object',
  fields: {
    guests: { schema: { type: 'list', items: text, nonEmpty: true }, required: true },
    cpus: {
      schema: {
        type: 'list',
        items: {
          type: 'union',
          list: { type: 'list', items: { type: 'integer', min: 0 }, nonEmpty: true },
          number: { type: 'integer', min: 0 },
          string: { type: 'string', nonEmpty: true },
          expected: 'a CPU number, a list of CPU numbers or a CPU-list string like "0-3,6"',
        },
      },
    },
    nice: { schema: { type: 'list', items: { type: 'integer', min: -20, max: 19 } } },
    together: { schema: { type: 'boolean' } },
  },
};

/** The spec's shape; an inline `batch:` is checked as a batch config here too, so its errors carry the spec's positions. */
const searchSpecSchema: Schema = {
  type: 'object',
  fields: {
    name: { schema: text },
    batch: { schema: { type: 'union', string: text, object: batchConfigSchema, expected: 'a batch config file or an inline batch config' }, required: true },
    candidates: { schema: { type: 'list', items: policySchema } },
    generate: { schema: generateSchema },
    space: { schema: spaceSchema },
    objective: {
      schema: {
        type: 'object',
        fields: {
          sql: { schema: text },
          metric: { schema: text },
          direction: { schema: { type: 'string', enum: ['min', 'max'] }, required: true },
          parse: { schema: { type: 'list', items: text } },
        },
      },
      required: true,
    },
    repetitions: { schema: { type: 'integer', min: 1 } },
    budget: { schema: { type: 'object', fields: { trials: { schema: { type: 'integer', min: 1 } }, time: { schema: { type: 'duration', positive: true } } } } },
    strategy: { schema: { type: 'string', enum: ['random', 'exhaustive', 'halving', 'model'] } },
    seed: { schema: { type: 'integer', min: 0, max: 0xffffffff } },
    round: { schema: { type: 'integer', min: 1 } },
    confirm: { schema: { type: 'object', fields: { top: { schema: { type: 'integer', min: 2 } }, rounds: { schema: { type: 'integer', min: 0 } } } } },
    side: { schema: { type: 'list', items: text } },
  },
};

/** Where each parsed spec came from, so checks made later (against the batch, the nodes) still say file:line:column. */
const sources = new WeakMap<SearchSpec, ConfigSource>();

/** A spec's YAML text (a file's, or a `%%tune search` cell's), with errors at file:line:column. */
export function parseSpecText(text: string, file: string): SearchSpec {
  const { value, source } = parseYamlAgainst<SearchSpec>(text, file, searchSpecSchema);
  return checkRest(value, source);
}

/** A spec given as a value (TypeScript callers); errors name `file` and the key path. */
export function checkSpec(value: unknown, file: string): SearchSpec {
  const source = ConfigSource.fromObject(value, file);
  validate(value, searchSpecSchema, source);
  return checkRest(value as SearchSpec, source);
}

/**
 * An error about the spec's value at `path`: at file:line:column when the spec was parsed from text (at the key
 * with `part: 'key'`), else naming the key path (a spec built in TypeScript and never checked).
 */
export function specError(spec: SearchSpec, path: ConfigPath, message: string, part: 'key' | 'value' = 'value'): UserError {
  const source = sources.get(spec);
  if (source) return source.error(path, message, part);
  return new UserError(`search spec: ${path.length ? `${pathText(path)}: ` : ''}${message}`);
}

/** What the schema cannot say. */
function checkRest(spec: SearchSpec, source: ConfigSource): SearchSpec {
  sources.set(spec, source);
  const { sql, metric } = spec.objective;
  if ((sql === undefined) === (metric === undefined)) throw source.error(['objective'], 'give either metric (a run summary column, e.g. dd_rate_bps) or sql');
  if (sql !== undefined && !sql.includes('{batch_id}')) throw source.error(['objective', 'sql'], 'must use {batch_id} (the trial batch it is computed for)');
  if (spec.candidates === undefined && spec.generate === undefined && spec.space === undefined) throw source.error([], 'give candidates (a list of policies), generate, or space');
  if (spec.space !== undefined && (spec.candidates !== undefined || spec.generate !== undefined)) throw source.error(['space'], 'a space replaces candidates and generate: give one of them');
  if (spec.space !== undefined) normaliseSpace(spec.space, (path, message) => source.error(path, message));
  spec.generate?.cpus?.forEach((cpus, i) => {
    if (typeof cpus !== 'string') return;
    try {
      parseCpuList(cpus);
    } catch (error) {
      throw source.error(['generate', 'cpus', i], (error as Error).message);
    }
  });
  return spec;
}

/** Candidates in a stable order, baseline first, every name unique. */
export function candidatesOf(spec: SearchSpec): PolicySpec[] {
  const list: PolicySpec[] = [...(spec.candidates ?? [])];
  const g = spec.generate;
  if (g) {
    if (!Array.isArray(g.guests) || g.guests.length === 0) throw new UserError('generate.guests: expected a list of guest names');
    const targets: Array<{ label: string; vms: 'all' | string[] }> = g.guests.map((name) => ({ label: name, vms: [name] }));
    if (g.together !== false && g.guests.length > 1) targets.push({ label: 'all', vms: 'all' });
    const pins: Array<number[] | undefined> = [undefined, ...(g.cpus ?? []).map(cpusOf)];
    const nices = [...new Set([0, ...(g.nice ?? [])])];
    if (!list.some((p) => isBaseline(p))) list.unshift({ name: 'baseline' });
    for (const target of targets) {
      for (const pin of pins) {
        for (const nice of nices) {
          if (pin === undefined && nice === 0) continue;
          const parts = [pin ? `pin-${target.label}-${formatCpuList(pin)}` : `${target.label}`, nice ? `nice${nice}` : ''].filter(Boolean);
          list.push({ name: parts.join('+'), identify: { vms: target.vms }, ...(pin ? { pin: { cpus: pin } } : {}), ...(nice ? { nice } : {}) });
        }
      }
    }
  }
  const seen = new Set<string>();
  for (const p of list) {
    if (typeof p?.name !== 'string') throw new UserError('every candidate policy needs a name');
    if (seen.has(p.name)) throw new UserError(`two candidates are named '${p.name}'`);
    seen.add(p.name);
    validatePolicy(p);
  }
  return list;
}

function isBaseline(p: PolicySpec): boolean {
  return p.pin === undefined && p.nice === undefined && p.ionice === undefined && p.chrt === undefined;
}

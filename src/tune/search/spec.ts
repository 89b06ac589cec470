/**
 * The search spec (`expert tune search spec.yaml`) and the candidates it
 * lists or generates. Pure: parsing and generation only.
 */
import type { BatchConfig, PolicySpec } from '../../batch/config/types.js';
import { UserError } from '../../errors.js';
import { formatCpuList } from '../cpu-list.js';
import { validatePolicy } from '../planner.js';

export interface SearchSpec {
  name?: string;
  /** A batch config file (relative to the spec) or an inline config; its `policies` are replaced by the candidates. */
  batch: string | BatchConfig;
  candidates?: PolicySpec[];
  generate?: GenerateSpec;
  /** `sql` returns one row per measurement (column `value`, else the first column); `parse` names Mine parsers to run on the trial batch first. */
  objective: { sql: string; direction: 'min' | 'max'; parse?: string[] };
  /** Repetitions per trial (exhaustive) or in the first round (halving). Default 3. */
  repetitions?: number;
  budget?: { trials?: number; time?: string | number };
  strategy?: 'exhaustive' | 'halving';
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

const SPEC_KEYS = ['name', 'batch', 'candidates', 'generate', 'objective', 'repetitions', 'budget', 'strategy'];

export function checkSpec(value: unknown, file: string): SearchSpec {
  const fail = (what: string) => {
    throw new UserError(`${file}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a mapping with batch, candidates or generate, objective, budget');
  const spec = value as Record<string, unknown>;
  for (const key of Object.keys(spec)) if (!SPEC_KEYS.includes(key)) fail(`unknown key '${key}' (expected ${SPEC_KEYS.join(', ')})`);
  if (typeof spec.batch !== 'string' && (typeof spec.batch !== 'object' || spec.batch === null)) fail('batch: expected a batch config file or an inline batch config');
  const objective = spec.objective as Record<string, unknown> | undefined;
  if (!objective || typeof objective.sql !== 'string' || !['min', 'max'].includes(String(objective.direction))) fail('objective: expected {sql: "SELECT ... WHERE batch_id = {batch_id} ...", direction: min|max}');
  if (!String(objective!.sql).includes('{batch_id}')) fail('objective.sql must use {batch_id} (the trial batch it is computed for)');
  if (spec.candidates === undefined && spec.generate === undefined) fail('give candidates (a list of policies) or generate');
  if (spec.candidates !== undefined && !Array.isArray(spec.candidates)) fail('candidates: expected a list of policies');
  if (spec.repetitions !== undefined && (!Number.isInteger(spec.repetitions) || (spec.repetitions as number) < 1)) fail('repetitions: expected a whole number >= 1');
  if (spec.strategy !== undefined && !['exhaustive', 'halving'].includes(String(spec.strategy))) fail('strategy: expected exhaustive or halving');
  const budget = spec.budget as Record<string, unknown> | undefined;
  if (budget !== undefined && (typeof budget !== 'object' || (budget.trials !== undefined && (!Number.isInteger(budget.trials) || (budget.trials as number) < 1)))) fail('budget: expected {trials: N, time: 10m}');
  return spec as unknown as SearchSpec;
}

const cpuSet = (c: number[] | number | string): number[] => (Array.isArray(c) ? c : typeof c === 'number' ? [c] : c.split(',').flatMap((p) => {
  const [a, b] = p.split('-').map(Number);
  return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
}));

/** Candidates in a stable order, baseline first, every name unique. */
export function candidatesOf(spec: SearchSpec): PolicySpec[] {
  const list: PolicySpec[] = [...(spec.candidates ?? [])];
  const g = spec.generate;
  if (g) {
    if (!Array.isArray(g.guests) || g.guests.length === 0) throw new UserError('generate.guests: expected a list of guest names');
    const targets: Array<{ label: string; vms: 'all' | string[] }> = g.guests.map((name) => ({ label: name, vms: [name] }));
    if (g.together !== false && g.guests.length > 1) targets.push({ label: 'all', vms: 'all' });
    const pins: Array<number[] | undefined> = [undefined, ...(g.cpus ?? []).map(cpuSet)];
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

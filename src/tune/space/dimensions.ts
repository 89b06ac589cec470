/**
 * A `space:` as axes: every (guest, thread scope, knob) with its normalised
 * choices, in a stable order (guests as written, then scope all → vcpu →
 * iothread → emulator, then cpus → nice → ionice). Pure; a mistake is
 * reported at its key path (and the spec's line when the caller has it).
 */
import { UserError } from '../../errors.js';
import { formatCpuList, parseCpuList } from '../cpu-list.js';
import type { Choice, CpuChoiceText, Dimension, IoniceChoiceText, Knob, KnobChoices, SpaceSpec, ThreadScope } from './types.js';

export type PathError = (path: ReadonlyArray<string | number>, message: string) => Error;

const defaultError: PathError = (path, message) => new UserError(`${path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')}: ${message}`);

const SCOPES: readonly ThreadScope[] = ['all', 'vcpu', 'iothread', 'emulator'];
const KNOBS: readonly Knob[] = ['cpus', 'nice', 'ionice'];
const SCOPE_LABEL: Record<ThreadScope, string> = { all: '', vcpu: 'vcpu:', iothread: 'io:', emulator: 'emu:' };

export interface NormalisedSpace {
  dimensions: Dimension[];
  guests: string[];
  /** CPUs an unpinned thread may use. */
  cpus: number[];
  maxGuestsPerCpu?: number;
  apart: string[][];
  /** Each group as dimension index lists, one list per guest (equal shapes). */
  symmetric: number[][][];
}

export function cpuChoice(value: CpuChoiceText, path: ReadonlyArray<string | number>, error: PathError = defaultError): Choice {
  if (value === 'any') return { label: '*' };
  let cpus: number[];
  try {
    cpus = typeof value === 'number' ? [value] : Array.isArray(value) ? [...new Set(value)].sort((a, b) => a - b) : parseCpuList(value);
  } catch (e) {
    throw error(path, `${(e as Error).message}, or \`any\` for not pinned`);
  }
  if (cpus.length === 0) throw error(path, 'an empty CPU set (write `any` for not pinned)');
  return { cpus, label: formatCpuList(cpus) };
}

function niceChoice(value: number): Choice {
  return value === 0 ? { label: 'n0' } : { nice: value, label: `n${value}` };
}

function ioniceChoice(value: IoniceChoiceText): Choice {
  if (value === 'none') return { label: 'io-' };
  const spec = typeof value === 'string' ? { class: value } : value;
  const level = spec.level === undefined ? '' : `${spec.level}`;
  return { ionice: { class: spec.class, ...(spec.level === undefined ? {} : { level: spec.level }) }, label: `io-${spec.class}${level}` };
}

function knobChoices(knob: Knob, values: unknown[], path: ReadonlyArray<string | number>, error: PathError): Choice[] {
  const choices = values.map((v, i) => (knob === 'cpus' ? cpuChoice(v as CpuChoiceText, [...path, i], error) : knob === 'nice' ? niceChoice(v as number) : ioniceChoice(v as IoniceChoiceText)));
  const seen = new Map<string, number>();
  choices.forEach((c, i) => {
    if (seen.has(c.label)) throw error([...path, i], `the same choice twice (also at [${seen.get(c.label)}])`);
    seen.set(c.label, i);
  });
  return choices;
}

export function normaliseSpace(space: SpaceSpec, error: PathError = defaultError, at: ReadonlyArray<string | number> = ['space']): NormalisedSpace {
  const guests = Object.keys(space.guests ?? {});
  if (guests.length === 0) throw error([...at, 'guests'], 'name at least one guest and its choices');
  const dimensions: Dimension[] = [];
  const byGuest = new Map<string, number[]>();
  for (const guest of guests) {
    const own: number[] = [];
    const g = space.guests[guest]!;
    for (const scope of SCOPES) {
      const knobs: KnobChoices | undefined = scope === 'all' ? g : g[scope];
      if (!knobs) continue;
      for (const knob of KNOBS) {
        const values = knobs[knob] as unknown[] | undefined;
        if (!values) continue;
        const path = scope === 'all' ? [...at, 'guests', guest, knob] : [...at, 'guests', guest, scope, knob];
        own.push(dimensions.length);
        dimensions.push({ guest, scope, knob, choices: knobChoices(knob, values, path, error) });
      }
    }
    if (own.length === 0) throw error([...at, 'guests', guest], 'give at least one of cpus, nice, ionice (for all threads or under vcpu/iothread/emulator)');
    byGuest.set(guest, own);
  }

  const named = (name: string, path: ReadonlyArray<string | number>) => {
    if (!byGuest.has(name)) throw error(path, `no guest '${name}' in space.guests (there are: ${guests.join(', ')})`);
  };
  let maxGuestsPerCpu: number | undefined;
  const apart: string[][] = [];
  (space.constraints ?? []).forEach((c, i) => {
    const keys = Object.keys(c);
    if (keys.length !== 1) throw error([...at, 'constraints', i], 'one rule per entry: max_guests_per_cpu: N or apart: [guests]');
    if ('max_guests_per_cpu' in c) maxGuestsPerCpu = Math.min(maxGuestsPerCpu ?? Infinity, c.max_guests_per_cpu);
    if ('apart' in c) {
      if (c.apart.length < 2) throw error([...at, 'constraints', i, 'apart'], 'name at least two guests');
      c.apart.forEach((name, j) => named(name, [...at, 'constraints', i, 'apart', j]));
      apart.push(c.apart);
    }
  });

  const symmetric: number[][][] = [];
  const grouped = new Set<string>();
  (space.symmetric ?? []).forEach((group, i) => {
    group.forEach((name, j) => {
      named(name, [...at, 'symmetric', i, j]);
      if (grouped.has(name)) throw error([...at, 'symmetric', i, j], `'${name}' is in two symmetric groups (or twice in one)`);
      grouped.add(name);
      if (apart.some((a) => a.includes(name))) throw error([...at, 'symmetric', i, j], `'${name}' is named by an apart constraint, so it is not interchangeable with the others`);
    });
    const shape = (name: string) => JSON.stringify(byGuest.get(name)!.map((d) => [dimensions[d]!.scope, dimensions[d]!.knob, dimensions[d]!.choices.map((c) => c.label)]));
    const first = shape(group[0]!);
    group.forEach((name, j) => {
      if (shape(name) !== first) throw error([...at, 'symmetric', i, j], `'${name}' has other choices than '${group[0]}': interchangeable guests need the same choices`);
    });
    if (group.length > 1) symmetric.push(group.map((name) => byGuest.get(name)!));
  });

  let cpus: number[];
  if (space.cpus !== undefined) cpus = cpuChoice(space.cpus, [...at, 'cpus'], error).cpus ?? [];
  else cpus = [...new Set(dimensions.flatMap((d) => d.choices.flatMap((c) => c.cpus ?? [])))].sort((a, b) => a - b);
  return { dimensions, guests, cpus, ...(maxGuestsPerCpu === undefined ? {} : { maxGuestsPerCpu }), apart, symmetric };
}

export { SCOPE_LABEL };

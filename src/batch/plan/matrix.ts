/**
 * A test's parameter matrix: the cartesian product of every `params` list
 * (a single value is a list of one), except that keys bound in a `zip` group
 * advance together; then `exclude` rules drop combinations. Keys vary in the
 * order they are written, the first slowest (like nested loops); a zip group
 * sits where its first key is written. Values become strings (`16m`, `4`, `true`).
 */
import type { ParamValue, TestSpec } from '../config/types.js';

/** A problem in a test's params/zip/exclude; `path` is relative to the test. */
export class MatrixError extends Error {
  constructor(
    message: string,
    readonly path: Array<string | number>,
    /** Whether the problem is the key at `path` rather than its value. */
    readonly part: 'key' | 'value' = 'value',
  ) {
    super(message);
    this.name = 'MatrixError';
  }
}

export type ParamCombination = Record<string, string>;
type ExcludeRule = Record<string, ParamValue | ParamValue[]>;

export function paramText(value: ParamValue): string {
  return String(value);
}

export function paramCombinations(test: Pick<TestSpec, 'params' | 'zip'> & { exclude?: ExcludeRule[] }): ParamCombination[] {
  const params = test.params ?? {};
  const lists = new Map(Object.entries(params).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map(paramText)]));
  const groupOf = zipGroups(test.zip ?? [], lists);

  // Each axis is a list of partial combinations; the product joins them.
  const axes: ParamCombination[][] = [];
  const emitted = new Set<number>();
  for (const [key, values] of lists) {
    const group = groupOf.get(key);
    if (group === undefined) {
      values.forEach((v, i) => {
        if (values.indexOf(v) !== i) throw new MatrixError(`duplicate value '${v}' (each combination would run twice; use repeat: for repetitions)`, ['params', key, i]);
      });
      axes.push(values.map((v) => ({ [key]: v })));
    } else if (!emitted.has(group)) {
      emitted.add(group);
      const keys = test.zip![group]!;
      const rows = lists.get(keys[0]!)!.map((_, i) => Object.fromEntries(keys.map((k) => [k, lists.get(k)![i]!])));
      const seen = new Set<string>();
      rows.forEach((row) => {
        const id = JSON.stringify(row);
        if (seen.has(id)) throw new MatrixError(`zip group [${keys.join(', ')}] repeats the combination ${label(row)}`, ['zip', group]);
        seen.add(id);
      });
      axes.push(rows);
    }
  }
  let combinations: ParamCombination[] = [{}];
  for (const axis of axes) combinations = combinations.flatMap((c) => axis.map((part) => ({ ...c, ...part })));

  const rules = test.exclude ?? [];
  rules.forEach((rule, r) => {
    for (const key of Object.keys(rule)) {
      if (!lists.has(key)) throw new MatrixError(`exclude names \`${key}\`, which is not a parameter of this test${known(lists)}`, ['exclude', r, key], 'key');
    }
  });
  const kept = combinations.filter((c) => !rules.some((rule) => matches(rule, c)));
  if (kept.length === 0) throw new MatrixError('every parameter combination is excluded, so this test would never run', rules.length ? ['exclude'] : ['params']);
  return kept;
}

function matches(rule: ExcludeRule, combination: ParamCombination): boolean {
  return Object.entries(rule).every(([key, value]) => (Array.isArray(value) ? value.map(paramText) : [paramText(value)]).includes(combination[key]!));
}

/** key → index of its zip group, after checking the groups. */
function zipGroups(zip: string[][], lists: Map<string, string[]>): Map<string, number> {
  const groupOf = new Map<string, number>();
  zip.forEach((keys, g) => {
    keys.forEach((key, k) => {
      if (!lists.has(key)) throw new MatrixError(`zip names \`${key}\`, which is not a parameter of this test${known(lists)}`, ['zip', g, k]);
      if (groupOf.has(key)) throw new MatrixError(`\`${key}\` is already in zip group ${groupOf.get(key)}; a parameter can be in one group only`, ['zip', g, k]);
      groupOf.set(key, g);
    });
    const lengths = keys.map((key) => lists.get(key)!.length);
    if (new Set(lengths).size > 1) {
      throw new MatrixError(`zip group [${keys.join(', ')}] needs lists of equal length, got ${keys.map((key, i) => `${key}: ${lengths[i]}`).join(', ')}`, ['zip', g]);
    }
  });
  return groupOf;
}

function known(lists: Map<string, string[]>): string {
  return lists.size ? ` (parameters: ${[...lists.keys()].join(', ')})` : ' (it has no params)';
}

/** `[size=16m,reclen=64k]`, or '' without params. */
export function label(params: ParamCombination): string {
  const entries = Object.entries(params);
  return entries.length ? `[${entries.map(([k, v]) => `${k}=${v}`).join(',')}]` : '';
}

/**
 * Run-time placeholders: values only known once a run's hooks ran (Tune
 * discovers guest PIDs/TIDs per node before each run). The plan keeps them
 * as `{name}`; here they become shell-quoted values for the process's node.
 * Pure: no effects.
 */
import { quote } from '../../shell.js';

export const RUN_TIME_PLACEHOLDERS = ['guest_pids', 'guest_tids'] as const;

/** Hook output: `values[placeholder][node]`, e.g. `{ guest_pids: { node1: '4711,4712' } }`. */
export type RunTimeValues = Record<string, Record<string, string>>;

export interface Substitution {
  command: string;
  /** Placeholders that had no value for this node and were replaced by an empty (quoted) string. */
  empty: string[];
}

export function substituteRunTime(command: string, node: string, values: RunTimeValues): Substitution {
  const empty: string[] = [];
  let result = command;
  for (const name of RUN_TIME_PLACEHOLDERS) {
    const token = `{${name}}`;
    if (!result.includes(token)) continue;
    const value = values[name]?.[node];
    if (value === undefined || value === '') empty.push(name);
    result = result.split(token).join(quote(value ?? ''));
  }
  return { command: result, empty };
}

/** Merges several hooks' values; a later hook's value for the same placeholder and node wins. */
export function mergeRunTimeValues(into: RunTimeValues, more: RunTimeValues | undefined): RunTimeValues {
  for (const [name, perNode] of Object.entries(more ?? {})) into[name] = { ...into[name], ...perNode };
  return into;
}

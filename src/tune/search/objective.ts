/**
 * A trial batch's measurements per candidate. One round runs several
 * candidates interleaved in one batch, so every value is told to its
 * candidate: by the run's policy (`metric`: Mine's run values, one per run),
 * by `{policy}` in the SQL, or by a `policy` column the SQL returns.
 */
import { UserError } from '../../errors.js';
import { runValues } from '../../mine/run-values.js';
import { ensureParsed } from '../../mine/index.js';
import type { ExpertStore } from '../../store/types.js';
import type { Objective } from './spec.js';

export async function objectiveValues(store: ExpertStore, sql: string, batchId: number): Promise<number[]> {
  const rows = await objectiveRows(store, sql, batchId);
  return rows.values;
}

async function objectiveRows(store: ExpertStore, sql: string, batchId: number): Promise<{ values: number[]; policies: Array<string | null> | null }> {
  let result;
  try {
    result = await store.query(sql.split('{batch_id}').join(String(Math.trunc(batchId))));
  } catch (error) {
    throw new UserError(`objective.sql failed on batch ${batchId}: ${(error as Error).message}`);
  }
  const column = Math.max(0, result.columns.indexOf('value'));
  const policyAt = result.columns.indexOf('policy');
  const kept = result.rows.filter((row) => Number.isFinite(Number(row[column])) && row[column] !== null);
  return { values: kept.map((row) => Number(row[column])), policies: policyAt < 0 ? null : kept.map((row) => (row[policyAt] === null ? null : String(row[policyAt]))) };
}

const sqlString = (text: string) => `'${text.split("'").join("''")}'`;

export async function valuesByCandidate(store: ExpertStore, objective: Objective, batchId: number, names: readonly string[]): Promise<Map<string, number[]>> {
  for (const parser of objective.parse ?? []) await ensureParsed(store, parser, { batchId });
  const out = new Map(names.map((n) => [n, [] as number[]]));
  if (objective.metric !== undefined) {
    const values = await runValues(store, [batchId], { metric: objective.metric });
    for (const run of values.runs) out.get(run.policy)?.push(run.value);
    return out;
  }
  const sql = objective.sql!;
  if (sql.includes('{policy}')) {
    for (const name of names) out.set(name, await objectiveValues(store, sql.split('{policy}').join(sqlString(name)), batchId));
    return out;
  }
  const { values, policies } = await objectiveRows(store, sql, batchId);
  if (policies) {
    values.forEach((v, i) => out.get(policies[i] ?? '')?.push(v));
    return out;
  }
  if (names.length === 1) {
    out.set(names[0]!, values);
    return out;
  }
  throw new UserError(`objective.sql: this round ran ${names.length} candidates in batch ${batchId}, so each value must say whose it is: use {policy} in the query (the candidate's name as an SQL string) or return a policy column (e.g. JOIN process USING (process_id) and SELECT p.policy)`);
}

/** Side columns picked when a spec names none: host monitors that count context switches or CPU time. */
const AUTO_SIDE = /^(perf_(context_switches|cs|cpu_clock|task_clock|cpu_migrations)|vmstat_(cs|us|sy)|mpstat_pct_(usr|sys)|sar_pct_(user|system))$/;

export function autoSideColumns(columns: readonly string[]): string[] {
  return columns.filter((c) => AUTO_SIDE.test(c)).sort();
}

/**
 * The side metrics of a trial batch per candidate: for each column, every
 * run's value (runs that lack it give none). `columns` undefined picks them
 * from this batch's run summary (autoSideColumns) and says which.
 */
export async function sideByCandidate(store: ExpertStore, batchId: number, names: readonly string[], columns: readonly string[] | undefined): Promise<{ columns: string[]; values: Map<string, number[][]> }> {
  const picked = columns ? [...columns] : autoSideColumns((await runValues(store, [batchId], { metric: 'duration_s' })).columns);
  const values = new Map(names.map((n) => [n, [] as number[][]]));
  for (const [k, metric] of picked.entries()) {
    let measured;
    try {
      measured = await runValues(store, [batchId], { metric });
    } catch (error) {
      throw new UserError(`side: ${metric} (batch ${batchId}): ${(error as Error).message}`);
    }
    for (const [name, perMetric] of values) perMetric[k] = measured.runs.filter((r) => r.policy === name && Number.isFinite(r.value)).map((r) => r.value);
  }
  return { columns: picked, values };
}

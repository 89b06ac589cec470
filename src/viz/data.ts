/**
 * Reading chart data from the store (effects live here; figure building stays
 * pure). Parsing itself is Mine's (`ensureParsed`); this module only picks the
 * batch, asks Mine for parsed rows, and joins them with the process facts.
 */
import { ensureParsed } from '../mine/engine.js';
import { parsedTable } from '../mine/sql.js';
import type { ExpertStore } from '../store/types.js';
import type { Columns } from './columns.js';
import type { TimeWindow } from './timeseries.js';

import { parseJson } from '../store/resolve-batch.js';
export { resolveBatch, parseJson, type BatchRow } from '../store/resolve-batch.js';

/** Rows as objects. */
export async function queryRows(store: ExpertStore, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await store.query(sql, params);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

export async function queryColumns(store: ExpertStore, sql: string, params: unknown[] = []): Promise<Columns> {
  const result = await store.query(sql, params);
  return Object.fromEntries(result.columns.map((c, i) => [c, result.rows.map((row) => row[i])]));
}

/** Process columns that go with every parsed row. */
const PROCESS_FACTS = ['batch_id', 'run', 'label', 'host', 'vm', 'role', 'policy', 'rep', 'params'];

/**
 * `parsed.<parser>` rows of one batch that parsed, with the facts of the
 * process that printed them and each param as its own column (so `facet: size` works).
 */
export async function parsedColumns(store: ExpertStore, parser: string, batchId: number): Promise<Columns> {
  await ensureParsed(store, parser, { batchId });
  const facts = PROCESS_FACTS.map((c) => `p.${c}`).join(', ');
  const columns = await queryColumns(
    store,
    `SELECT ${facts}, x.* EXCLUDE (parse_error) FROM ${parsedTable(parser)} x JOIN process p USING (process_id)
     WHERE p.batch_id = $1 AND NOT x.parse_error ORDER BY x.process_id, x.seq`,
    [batchId],
  );
  return withParamColumns(columns);
}

/** Adds one column per key of the JSON `params` column (named after the key unless that name is taken). */
export function withParamColumns(columns: Columns): Columns {
  const params = columns.params;
  if (!params) return columns;
  const parsed = params.map((p) => (parseJson(p) ?? {}) as Record<string, unknown>);
  const keys = [...new Set(parsed.flatMap((p) => (p && typeof p === 'object' ? Object.keys(p) : [])))];
  const out: Columns = { ...columns };
  for (const key of keys) {
    const name = key in out ? `param_${key}` : key;
    out[name] = parsed.map((p) => (p && typeof p === 'object' ? (p[key] ?? null) : null));
  }
  return out;
}

/** One shaded window per run of the batch: from its first workload's start to its last workload's end. */
export async function runWindows(store: ExpertStore, batchId: number): Promise<TimeWindow[]> {
  const rows = await queryRows(
    store,
    `SELECT run, any_value(policy) AS policy, min(started_at) AS start, max(ended_at) AS "end", count(*) AS workloads
     FROM process WHERE batch_id = $1 AND role = 'workload' AND started_at IS NOT NULL AND ended_at IS NOT NULL
     GROUP BY run ORDER BY run`,
    [batchId],
  );
  return rows.map((r) => ({
    start: r.start as Date,
    end: r.end as Date,
    label: `run ${r.run ?? '?'}${r.policy ? ` · ${r.policy}` : ''}`,
    group: String(r.policy ?? ''),
  }));
}

/** Policy names in config order (so colours follow the config). */
export function policyNames(config: unknown): string[] {
  const policies = (config as { policies?: { name?: unknown }[] } | null)?.policies;
  return Array.isArray(policies) ? policies.map((p) => String(p?.name ?? '')).filter(Boolean) : [];
}

/**
 * The batch's `dynamic_move` rows (an online optimizer's moves), oldest first;
 * `before`/`after` as JSON text. No rows when there were none, or when the
 * store predates the table (an old store opened read-only is not migrated).
 */
export async function dynamicMoves(store: ExpertStore, batchId: number): Promise<Columns> {
  try {
    return await queryColumns(
      store,
      `SELECT run, "at", node, guest, action, "before"::VARCHAR AS "before", "after"::VARCHAR AS "after",
              objective_before, objective_after, kept, policy, objective, threshold
       FROM dynamic_move WHERE batch_id = $1 ORDER BY "at"`,
      [batchId],
    );
  } catch (error) {
    if (/dynamic_move does not exist/i.test((error as Error).message)) return {};
    throw error;
  }
}

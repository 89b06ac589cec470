/**
 * The one way every verb, chart and notebook names a batch: its id, its name
 * (the newest batch of that name), or `latest` (the default). An unknown
 * reference is a user error that lists the recent batches.
 */
import { UserError } from '../errors.js';
import type { ExpertStore } from './types.js';

export interface BatchRow {
  batch_id: number;
  name: string;
  description: string | null;
  status: string;
  created_at: unknown;
  finished_at: unknown;
  config: unknown;
  provenance: unknown;
}

export type BatchRef = number | string | undefined;

async function objects(store: ExpertStore, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await store.query(sql, params);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

export async function resolveBatch(store: ExpertStore, ref: BatchRef): Promise<BatchRow> {
  const text = ref === undefined ? 'latest' : String(ref).trim();
  let rows: Record<string, unknown>[];
  if (text === 'latest') rows = await objects(store, 'SELECT * FROM batch ORDER BY batch_id DESC LIMIT 1');
  else if (/^\d+$/.test(text)) rows = await objects(store, 'SELECT * FROM batch WHERE batch_id = $1', [Number(text)]);
  else rows = await objects(store, 'SELECT * FROM batch WHERE name = $1 ORDER BY batch_id DESC LIMIT 1', [text]);
  const row = rows[0];
  if (!row) {
    const known = await objects(store, 'SELECT batch_id, name FROM batch ORDER BY batch_id DESC LIMIT 10');
    const list = known.map((b) => `${b.batch_id} (${b.name})`).join(', ');
    throw new UserError(
      `no batch '${text}' in store ${store.path}` +
        (list ? `; recent batches: ${list}. Name one by id, by name, or 'latest'.` : ': the store has no batch yet (run one with `expert run`).'),
    );
  }
  return { ...row, config: parseJson(row.config), provenance: parseJson(row.provenance) } as BatchRow;
}

/** The batch id a `--batch` option names, or undefined for every batch. */
export async function resolveBatchId(store: ExpertStore, ref: string | undefined): Promise<number | undefined> {
  return ref === undefined ? undefined : Number((await resolveBatch(store, ref)).batch_id);
}

export function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Reading a store from tests: query results as one object per row. */
import type { ExpertStore } from '../../src/store/types.js';

export async function rows(store: ExpertStore, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await store.query(sql, params);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

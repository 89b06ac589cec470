/**
 * The runner's own updates of a batch row beyond what ExpertStore offers:
 * provenance that grows while the batch runs (adaptive rounds, resumes) and
 * taking over an interrupted batch on resume (so the abandoned-batch check
 * sees a live owner). Plain SQL on the store's connection.
 */
import { hostname } from 'node:os';
import type { ExpertStore } from '../../store/types.js';

export async function readProvenance(store: ExpertStore, batchId: number): Promise<unknown> {
  const result = await store.query('SELECT provenance FROM batch WHERE batch_id = $1', [batchId]);
  const text = result.rows[0]?.[0];
  return typeof text === 'string' ? JSON.parse(text) : (text ?? {});
}

export async function saveProvenance(store: ExpertStore, batchId: number, provenance: unknown): Promise<void> {
  await store.query('UPDATE batch SET provenance = CAST($2 AS JSON) WHERE batch_id = $1', [batchId, JSON.stringify(provenance)]);
}

export async function claimBatch(store: ExpertStore, batchId: number): Promise<void> {
  await store.query('UPDATE batch SET owner_pid = $2, owner_host = $3 WHERE batch_id = $1', [batchId, process.pid, hostname()]);
}

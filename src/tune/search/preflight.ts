/**
 * What a search checks before its first round: the objective's and side's
 * run summary columns against the batch's tests and monitors (columns.ts),
 * then every guest and CPU its candidates name against Tune's discovery of
 * the nodes the batch's runs touch (targets.ts). Either mistake would
 * otherwise spend every round on runs that measure nothing.
 */
import type { ResolvedBatchConfig } from '../../batch/config/types.js';
import { createExecutorPool } from '../../batch/executor-pool.js';
import type { ExecutorPool } from '../../batch/hooks.js';
import { resolvePlacement } from '../../batch/plan/targets.js';
import { nodeTargets } from '../hook.js';
import { discoverAll } from '../session.js';
import { checkSummaryColumns } from './columns.js';
import type { SearchSpec } from './spec.js';
import { checkTargets, targetClaims } from './targets.js';

export async function preflight(spec: SearchSpec, base: ResolvedBatchConfig, executors?: ExecutorPool): Promise<void> {
  checkSummaryColumns(spec, base);
  const claims = targetClaims(spec);
  if (claims.length === 0) return;
  // The nodes Tune's hook tunes: those of the runs' workloads and monitors (a guest is tuned on its node).
  const names = new Set([...base.tests, ...base.monitors].flatMap((p) => resolvePlacement(p.on ?? 'nodes', base.machines).map((t) => t.node)));
  const pool = executors ?? createExecutorPool();
  try {
    const nodes = await Promise.all(nodeTargets(base.machines, names).map(async (target) => ({ node: target.node, target, executor: await pool.get(target) })));
    checkTargets(spec, claims, await discoverAll(nodes));
  } finally {
    if (!executors) await pool.closeAll();
  }
}

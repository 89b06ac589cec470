/**
 * Preparing `expert run --resume <batch>`: the batch's config comes from the
 * store (`batch.config`, the resolved config it ran with), the plan is
 * expanded again with the recorded order seed and the adaptive rounds the
 * provenance lists, and the process rows tell which runs have no successful
 * result yet (plan/resume.ts). Optionally the config file the user gives must
 * hash like the stored one.
 */
import { UserError } from '../../errors.js';
import type { Plan, ResolvedBatchConfig } from '../config/types.js';
import type { ExpertStore } from '../../store/types.js';
import { expandPlan } from '../plan/expand.js';
import { nextRound } from '../plan/adaptive.js';
import { planResume } from '../plan/resume.js';
import { configHash, machineShape } from '../provenance.js';
import { loadMachineMap } from '../config/machines.js';
import type { ResumeRequest } from './run-batch.js';

export interface PreparedResume {
  plan: Plan;
  resume: ResumeRequest;
  /** Runs already done (not run again). */
  done: number[];
  status: string;
}

/**
 * A batch that ran on the local testbed resumes on the testbed that is up now:
 * its ports and keys change with every `testbed up`, so the stored map would
 * point at closed ports. The testbed must have the same nodes and guests.
 */
async function withCurrentTestbed(config: ResolvedBatchConfig, batchId: number): Promise<ResolvedBatchConfig> {
  if (!config.machines.testbed) return config;
  const current = await loadMachineMap('testbed').catch((error: Error) => {
    throw new UserError(`--resume ${batchId}: the batch ran on the local testbed, which is not up here (${error.message}); bring it up with the same nodes and guests first`);
  });
  const want = JSON.stringify(machineShape(config.machines));
  if (JSON.stringify(machineShape(current)) !== want) {
    throw new UserError(`--resume ${batchId}: the testbed up now has other nodes or guests than the batch ran on (${want}); bring it up with the same --nodes and --vms`);
  }
  return { ...config, machines: current };
}

export async function prepareResume(store: ExpertStore, batchId: number, given?: ResolvedBatchConfig): Promise<PreparedResume> {
  const batch = (await store.query('SELECT config, provenance, status, name FROM batch WHERE batch_id = $1', [batchId])).rows[0];
  if (!batch) throw new UserError(`--resume ${batchId}: no batch ${batchId} in ${store.path}`);
  const [configText, provenanceText, status] = batch as [string, string | null, string];
  if (status === 'running' || status === 'pending') {
    throw new UserError(`--resume ${batchId}: batch ${batchId} is ${status}: its runner is still alive (stop it first, or wait for it)`);
  }
  const config = await withCurrentTestbed(JSON.parse(configText) as ResolvedBatchConfig, batchId);
  const provenance = (provenanceText ? JSON.parse(provenanceText) : {}) as {
    config_hash?: string;
    order?: { kind?: string; seed?: number };
    repeat?: { rounds?: Array<{ round: number; cells: string[] }>; cells?: Record<string, { stopped?: string }> };
  };
  if (given) {
    const hash = configHash(given);
    const stored = provenance.config_hash ?? configHash(config);
    if (hash !== stored) {
      throw new UserError(`--resume ${batchId}: ${given.source ?? 'the given config'} is not the config batch ${batchId} ran with (its hash ${hash}, the batch's ${stored}); leave the file out to resume with the stored config`);
    }
  }
  const seed = provenance.order?.kind === 'random' ? provenance.order.seed : undefined;
  const plan = expandPlan(config, seed === undefined ? {} : { seed });
  const allRuns = [...plan.runs];
  for (const round of provenance.repeat?.rounds ?? []) allRuns.push(...nextRound(config, plan.order, allRuns, new Set(round.cells)));
  const stored = await store.query('SELECT run, role, status, exit_code, attempt, position FROM process WHERE batch_id = $1 AND run IS NOT NULL', [batchId]);
  const resume = planResume(
    allRuns,
    stored.rows.map(([run, role, status, exitCode, attempt, position]) => ({
      run: Number(run),
      role: String(role),
      status: String(status),
      exitCode: exitCode === null ? null : Number(exitCode),
      attempt: Number(attempt ?? 1),
      position: position === null ? null : Number(position),
    })),
  );
  const stoppedCells = new Set(Object.entries(provenance.repeat?.cells ?? {}).filter(([, c]) => c.stopped).map(([key]) => key));
  return {
    plan,
    resume: { batchId, runs: resume.runs, attempts: resume.attempts, allRuns, stoppedCells },
    done: resume.done,
    status,
  };
}

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
import { allocationEnv, currentAllocation } from '../../slurm/allocation.js';
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
 * A node that ran through srun (`machines: {slurm: {vms: discover}}` on the
 * testbed's Slurm) stays a srun node: only its guests' addresses and the SSH
 * files come from the testbed up now.
 */
async function withCurrentTestbed(config: ResolvedBatchConfig, batchId: number, env: NodeJS.ProcessEnv): Promise<ResolvedBatchConfig> {
  const stored = config.machines;
  if (!stored.testbed) return config;
  const current = await loadMachineMap('testbed', { env }).catch((error: Error) => {
    throw new UserError(`--resume ${batchId}: the batch ran on the local testbed, which is not up here (${error.message}); bring it up with the same nodes and guests first`);
  });
  const want = JSON.stringify(machineShape(stored));
  if (JSON.stringify(machineShape(current)) !== want) {
    throw new UserError(`--resume ${batchId}: the testbed up now has other nodes or guests than the batch ran on (${want}); bring it up with the same --nodes and --vms`);
  }
  if (!stored.nodes.some((node) => node.launcher === 'srun')) return { ...config, machines: current };
  const nodes = stored.nodes.map((node) => {
    const now = current.nodes.find((n) => n.name === node.name)!;
    if (node.launcher !== 'srun') return now;
    return { ...node, ...(now.vms ? { vms: now.vms } : {}) };
  });
  const machines = { ...current, nodes, ...(stored.launcher ? { launcher: stored.launcher } : {}), ...(stored.srun ? { srun: stored.srun } : {}) };
  return { ...config, machines };
}

/**
 * A batch whose nodes ran as Slurm job steps (`launcher: srun`) resumes only
 * inside an allocation that holds every one of those nodes (exit 2 otherwise,
 * also for --dry-run, as a new batch with `launcher: srun` outside one).
 */
async function requireAllocationFor(config: ResolvedBatchConfig, batchId: number, env: NodeJS.ProcessEnv): Promise<void> {
  const names = config.machines.nodes.filter((node) => node.launcher === 'srun').map((node) => node.name);
  if (names.length === 0) return;
  const list = names.join(', ');
  if (!allocationEnv(env)) {
    throw new UserError(`--resume ${batchId}: the batch ran on ${list} as Slurm job steps (launcher: srun), and this shell is not in a Slurm allocation (SLURM_JOB_ID and SLURM_JOB_NODELIST are not set): resume it inside an allocation that holds ${names.length === 1 ? 'that node' : 'those nodes'}, e.g. \`salloc -w ${names.join(',')}\``);
  }
  const allocation = await currentAllocation(env, `--resume ${batchId}`);
  const held = new Set(allocation.nodes.map((node) => node.name));
  const missing = names.filter((name) => !held.has(name));
  if (missing.length > 0) {
    throw new UserError(`--resume ${batchId}: the batch ran on ${list} as Slurm job steps (launcher: srun), but this allocation (job ${allocation.jobId}, nodes ${allocation.nodelist}) does not hold ${missing.join(', ')}: resume it inside an allocation that holds ${names.length === 1 ? 'that node' : 'those nodes'}, e.g. \`salloc -w ${names.join(',')}\``);
  }
}

export async function prepareResume(store: ExpertStore, batchId: number, given?: ResolvedBatchConfig, env: NodeJS.ProcessEnv = process.env): Promise<PreparedResume> {
  const batch = (await store.query('SELECT config, provenance, status, name FROM batch WHERE batch_id = $1', [batchId])).rows[0];
  if (!batch) throw new UserError(`--resume ${batchId}: no batch ${batchId} in ${store.path}`);
  const [configText, provenanceText, status] = batch as [string, string | null, string];
  if (status === 'running' || status === 'pending') {
    throw new UserError(`--resume ${batchId}: batch ${batchId} is ${status}: its runner is still alive (stop it first, or wait for it)`);
  }
  const config = await withCurrentTestbed(JSON.parse(configText) as ResolvedBatchConfig, batchId, env);
  await requireAllocationFor(config, batchId, env);
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

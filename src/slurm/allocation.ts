/**
 * The current Slurm allocation (salloc, sbatch, or srun --pty): its job id
 * and its nodes, from SLURM_JOB_ID / SLURM_JOB_NODELIST. The nodelist is
 * expanded by Slurm itself (`scontrol show hostnames`), and each node's
 * NodeAddr and NodeHostName come from `scontrol -o show node`.
 */
import { UserError } from '../errors.js';
import { scontrolRecords, slurmCommand } from './commands.js';

export interface SlurmNode {
  /** Slurm's NodeName (what `srun -w` takes). */
  name: string;
  /** NodeAddr: where the node is reached over the network (SSH to it, guests on it). */
  addr: string;
  hostname: string;
}

export interface Allocation {
  jobId: string;
  /** As Slurm gave it, e.g. `n[1-3]`. */
  nodelist: string;
  nodes: SlurmNode[];
}

export class NotInAllocationError extends UserError {
  constructor(what: string) {
    super(`${what} needs a Slurm allocation, and this shell is not in one (SLURM_JOB_ID and SLURM_JOB_NODELIST are not set): run it inside \`salloc -N <nodes>\`, an sbatch job, or submit it with \`expert slurm submit\``);
    this.name = 'NotInAllocationError';
  }
}

export function allocationEnv(env: NodeJS.ProcessEnv): { jobId: string; nodelist: string } | undefined {
  const jobId = env.SLURM_JOB_ID ?? env.SLURM_JOBID;
  const nodelist = env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
  return jobId && nodelist ? { jobId, nodelist } : undefined;
}

export async function currentAllocation(env: NodeJS.ProcessEnv = process.env, what = '`machines: slurm`'): Promise<Allocation> {
  const found = allocationEnv(env);
  if (!found) throw new NotInAllocationError(what);
  const names = (await slurmCommand('scontrol', ['show', 'hostnames', found.nodelist], { env })).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UserError(`Slurm's nodelist ${found.nodelist} (job ${found.jobId}) names no node`);
  const records = parseNodeRecords((await slurmCommand('scontrol', ['-o', 'show', 'node', names.join(',')], { env })).stdout);
  const nodes = names.map((name) => {
    const record = records.get(name);
    return { name, addr: record?.NodeAddr || name, hostname: record?.NodeHostName || name };
  });
  return { jobId: found.jobId, nodelist: found.nodelist, nodes };
}

/** `scontrol -o show node` output: one line per node of `Key=Value` words → NodeName → fields. */
export function parseNodeRecords(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const fields of scontrolRecords(text)) if (fields.NodeName) out.set(fields.NodeName, fields);
  return out;
}

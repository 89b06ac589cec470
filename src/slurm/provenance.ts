/** What a batch's provenance records about the Slurm job it ran in (from the job's environment). */
export interface SlurmFacts {
  job_id: string;
  nodelist: string;
  job_name?: string;
  cluster?: string;
  partition?: string;
  submit_host?: string;
  /** The job was submitted by `expert slurm submit`. */
  submitted_by_expert: boolean;
}

export function slurmFacts(env: NodeJS.ProcessEnv = process.env): SlurmFacts | undefined {
  const jobId = env.SLURM_JOB_ID ?? env.SLURM_JOBID;
  if (!jobId) return undefined;
  const facts: SlurmFacts = { job_id: jobId, nodelist: env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST ?? '', submitted_by_expert: env.EXPERT_SLURM_SUBMIT === '1' };
  if (env.SLURM_JOB_NAME) facts.job_name = env.SLURM_JOB_NAME;
  if (env.SLURM_CLUSTER_NAME) facts.cluster = env.SLURM_CLUSTER_NAME;
  if (env.SLURM_JOB_PARTITION) facts.partition = env.SLURM_JOB_PARTITION;
  if (env.SLURM_SUBMIT_HOST) facts.submit_host = env.SLURM_SUBMIT_HOST;
  return facts;
}

/**
 * A real Slurm for the tests (src/slurm/local-cluster.ts: 1 slurmctld, 4
 * slurmd on loopback, munge), allocations made with `salloc --no-shell`
 * (the environment a shell inside `salloc` would have), and what Slurm
 * says is still running (`squeue -s`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterUp, type LocalCluster } from '../../src/slurm/local-cluster.js';

export const CLUSTER_DIR = join(tmpdir(), 'expert-slurm-tests');

export async function startCluster(): Promise<LocalCluster> {
  return clusterUp({ dir: CLUSTER_DIR, nodes: 4 });
}

export interface TestAllocation {
  jobId: string;
  nodelist: string;
  /** The environment of a shell inside the allocation. */
  env: NodeJS.ProcessEnv;
  release(): void;
}

/** `extra`: more salloc options, e.g. `['-w', 'n3,n4']` (the project's Slurm shares nodes between jobs: a count alone may give the same ones). */
export function allocate(cluster: LocalCluster, nodes: number, extra: string[] = []): TestAllocation {
  const granted = spawnSync('salloc', ['--no-shell', '-N', String(nodes), '-J', 'expert-test', ...extra], { env: cluster.env, encoding: 'utf8', timeout: 30_000 });
  const jobId = /Granted job allocation (\d+)/.exec(granted.stderr)?.[1];
  if (!jobId) throw new Error(`salloc gave no allocation: ${granted.stderr}`);
  const nodelist = execFileSync('squeue', ['-h', '-j', jobId, '-o', '%N'], { env: cluster.env, encoding: 'utf8' }).trim();
  return {
    jobId,
    nodelist,
    env: { ...cluster.env, SLURM_JOB_ID: jobId, SLURM_JOBID: jobId, SLURM_JOB_NODELIST: nodelist, SLURM_NODELIST: nodelist, SLURM_JOB_NUM_NODES: String(nodes) },
    release: () => { try { execFileSync('scancel', [jobId], { env: cluster.env }); } catch { /* gone */ } },
  };
}

/** Steps of a job other than its extern step, as `squeue -s` lists them (`JOB.STEP NAME`). */
export function steps(cluster: LocalCluster, jobId: string): string[] {
  const out = execFileSync('squeue', ['-h', '-s', '-j', jobId, '-o', '%i %j'], { env: cluster.env, encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l && !/\.extern\b/.test(l) && !/\.batch\b/.test(l));
}

export function jobState(cluster: LocalCluster, jobId: string): string {
  try {
    return execFileSync('squeue', ['-h', '-j', jobId, '-o', '%T'], { env: cluster.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return ''; // squeue forgets ended jobs (and errors on unknown ids)
  }
}

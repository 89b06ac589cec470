/**
 * `expert slurm submit`: the batch as an sbatch job. The job script (pure,
 * below) runs `expert run` in the job's allocation with the same node and
 * ExPerT this command runs with, into the given store; `EXPERT_SLURM_SUBMIT=1`
 * lets provenance say the job came from here (the job id is there anyway).
 */
import { resolve } from 'node:path';
import { commandLine, quote } from '../shell.js';
import { UserError } from '../errors.js';
import { slurmCommand } from './commands.js';

export interface SubmitOptions {
  batchFile: string;
  store: string;
  nodes: number;
  partition?: string;
  time?: string;
  set?: string[];
  /** sbatch's --output pattern (default expert-slurm-%j.out in the current folder). */
  output?: string;
  jobName?: string;
  cwd: string;
  /** How to start expert again: [node, ...execArgv, cli script]. */
  expert: string[];
}

export function jobScript(options: SubmitOptions): string {
  const run = [...options.expert, 'run', resolve(options.cwd, options.batchFile), '--store', resolve(options.cwd, options.store), ...(options.set ?? []).flatMap((s) => ['--set', s])];
  return [
    '#!/bin/sh',
    '# Written by `expert slurm submit`: runs the batch in this job\'s allocation (machines: slurm sees its nodes).',
    'export EXPERT_SLURM_SUBMIT=1',
    `cd -- ${quote(options.cwd)} || exit 2`,
    `exec ${commandLine(run)}`,
    '',
  ].join('\n');
}

export function sbatchArgs(options: SubmitOptions, wait: boolean): string[] {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new UserError(`-N ${options.nodes}: expected a number of nodes, 1 or more`);
  const args = ['--parsable', '-N', String(options.nodes), '--job-name', options.jobName ?? 'expert', '--output', resolve(options.cwd, options.output ?? 'expert-slurm-%j.out'), '--chdir', options.cwd];
  if (options.partition) args.push('--partition', options.partition);
  if (options.time) args.push('--time', options.time);
  if (wait) args.push('--wait');
  return args;
}

/** Submits the job; returns its id (and, with `wait`, the job's exit code once it ended). */
export async function submitBatch(options: SubmitOptions, wait = false, env: NodeJS.ProcessEnv = process.env): Promise<{ jobId: string }> {
  const { stdout } = await slurmCommand('sbatch', sbatchArgs(options, wait), { env, input: jobScript(options), timeoutMs: wait ? 2 ** 31 - 1 : 60_000 });
  const jobId = stdout.trim().split('\n')[0]!.split(';')[0]!.trim();
  if (!/^\d+$/.test(jobId)) throw new UserError(`sbatch did not print a job id (it printed ${JSON.stringify(stdout.trim())})`);
  return { jobId };
}

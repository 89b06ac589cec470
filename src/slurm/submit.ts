/**
 * `expert slurm submit`: the batch as an sbatch job. The job script (pure,
 * below) runs `expert run` in the job's allocation with the same node and
 * ExPerT this command runs with, into the given store; `EXPERT_SLURM_SUBMIT=1`
 * lets provenance say the job came from here (the job id is there anyway).
 */
import { resolve } from 'node:path';
import { commandLine, quote } from '../shell.js';
import { UserError } from '../errors.js';
import { scontrolRecords, slurmCommand } from './commands.js';

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

/** Submits the job; returns its id (for `--wait`, see submitAndWait). */
export async function submitBatch(options: SubmitOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ jobId: string }> {
  const { stdout } = await slurmCommand('sbatch', sbatchArgs(options, false), { env, input: jobScript(options), timeoutMs: 60_000 });
  return { jobId: parseJobId(stdout) };
}

function parseJobId(stdout: string): string {
  const jobId = stdout.trim().split('\n')[0]!.split(';')[0]!.trim();
  if (!/^\d+$/.test(jobId)) throw new UserError(`sbatch did not print a job id (it printed ${JSON.stringify(stdout.trim())})`);
  return jobId;
}

/**
 * `sbatch --parsable --wait`: `onJobId` as soon as sbatch prints the job id (it does at submission), then,
 * once the job ended, sbatch's exit code (the job's: the batch's, 1 some failed, 130 interrupted).
 * A submission sbatch refuses (no job id printed) rejects, with Slurm's words.
 */
export async function submitAndWait(options: SubmitOptions, onJobId: (jobId: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<{ jobId: string; exitCode: number }> {
  let stdout = '';
  let jobId: string | undefined;
  let unreadable: unknown;
  // A listener must not throw: what sbatch printed instead of an id is told once it ended.
  const onStdout = (text: string) => {
    stdout += text;
    if (jobId !== undefined || unreadable !== undefined || !stdout.includes('\n')) return;
    try {
      onJobId((jobId = parseJobId(stdout)));
    } catch (error) {
      unreadable = error;
    }
  };
  let exitCode = 0;
  try {
    const result = await slurmCommand('sbatch', sbatchArgs(options, true), { env, input: jobScript(options), timeoutMs: 2 ** 31 - 1, onStdout });
    jobId ??= parseJobId(result.stdout);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (jobId === undefined || status === undefined) throw unreadable ?? error;
    exitCode = status;
  }
  if (unreadable) throw unreadable;
  return { jobId, exitCode };
}

export interface JobEnd {
  /** Slurm's JobState, e.g. FAILED, COMPLETED, CANCELLED, TIMEOUT. */
  state?: string;
  /** Slurm's ExitCode, `code:signal`. */
  exitCode?: string;
  /** The job's output file, as Slurm resolved it. */
  output?: string;
}

/** How an ended job ended, from `scontrol show job` (kept MinJobAge after the end), else `sacct`; empty when neither knows it. */
export async function jobEnd(jobId: string, env: NodeJS.ProcessEnv = process.env): Promise<JobEnd> {
  try {
    const { stdout } = await slurmCommand('scontrol', ['-o', 'show', 'job', jobId], { env });
    const fields = scontrolRecords(stdout.trim())[0] ?? {};
    if (fields.JobState) return { state: fields.JobState, ...(fields.ExitCode ? { exitCode: fields.ExitCode } : {}), ...(fields.StdOut ? { output: fields.StdOut } : {}) };
  } catch {
    /* forgotten already, or no controller: try accounting */
  }
  try {
    const { stdout } = await slurmCommand('sacct', ['-n', '-X', '-P', '-o', 'State,ExitCode', '-j', jobId], { env });
    const [state, exitCode] = (stdout.trim().split('\n')[0] ?? '').split('|');
    if (state) return { state: state.split(' ')[0]!, ...(exitCode ? { exitCode } : {}) };
  } catch {
    /* no accounting */
  }
  return {};
}

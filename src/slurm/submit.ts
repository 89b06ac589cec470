/**
 * `expert slurm submit`: the batch as an sbatch job. The job script (pure,
 * below) runs `expert run` in the job's allocation with the same node and
 * ExPerT this command runs with, into the given store; `EXPERT_SLURM_SUBMIT=1`
 * lets provenance say the job came from here (the job id is there anyway).
 */
import { spawn } from 'node:child_process';
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
 * A submission sbatch refuses rejects, with Slurm's words.
 */
export function submitAndWait(options: SubmitOptions, onJobId: (jobId: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<{ jobId: string; exitCode: number }> {
  const args = sbatchArgs(options, true);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sbatch', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let jobId: string | undefined;
    let failed: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (jobId === undefined && failed === undefined && stdout.includes('\n')) {
        try {
          jobId = parseJobId(stdout);
          onJobId(jobId);
        } catch (e) {
          failed = e as Error;
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.stdin.on('error', () => { /* sbatch exited before reading the script: its exit says why */ });
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new UserError("`sbatch` is not installed or not on PATH (Slurm's client commands are needed here)") : e);
    });
    child.once('close', (code, signal) => {
      if (failed) return reject(failed);
      if (jobId === undefined) {
        if (code === 0) {
          try {
            jobId = parseJobId(stdout);
          } catch (e) {
            return reject(e);
          }
        } else {
          const said = (stderr || stdout).trim().split('\n').slice(-3).join('; ') || (signal ? `killed by ${signal}` : `exit ${code}`);
          return reject(Object.assign(new UserError(`\`sbatch ${args.join(' ')}\` failed: ${said}`), { said }));
        }
      }
      resolvePromise({ jobId, exitCode: code ?? 1 });
    });
    child.stdin.end(jobScript(options));
  });
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
    const fields: Record<string, string> = {};
    for (const word of stdout.trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
    }
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

/**
 * Running Slurm's client commands (scontrol, sbatch, squeue, scancel) with a
 * bound on time and an error a user can act on when Slurm is missing or its
 * controller does not answer.
 */
import { execFile } from 'node:child_process';
import { UserError } from '../errors.js';

export interface SlurmCommandResult {
  stdout: string;
  stderr: string;
}

export function slurmCommand(
  program: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; onStdout?: (text: string) => void } = {},
): Promise<SlurmCommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, [...args], { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr });
      const e = error as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return reject(new UserError(`\`${program}\` is not installed or not on PATH (Slurm's client commands are needed here)`));
      const said = (stderr || stdout || e.message).trim().split('\n').slice(-3).join('; ');
      const why = e.killed ? `did not answer within ${options.timeoutMs ?? 30_000} ms` : `failed: ${said}`;
      const status = typeof e.code === 'number' ? e.code : undefined;
      // `said`: Slurm's own words, for callers that phrase the error themselves.
      reject(Object.assign(new UserError(`\`${program} ${args.join(' ')}\` ${why}`), { status, said: e.killed ? why : said }));
    });
    if (options.onStdout) child.stdout?.on('data', (chunk: Buffer | string) => options.onStdout!(String(chunk)));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `scontrol -o show …` output: one record per line of `Key=Value` words (values without spaces, as -o prints them). */
export function scontrolRecords(text: string): Array<Record<string, string>> {
  return text.split('\n').map((line) => {
    const fields: Record<string, string> = {};
    for (const word of line.trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
    }
    return fields;
  });
}

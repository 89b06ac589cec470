/** The CLI as a test runs it from the checkout: `expert ARGS` through tsx, its exit code and both streams whole. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CliResult { code: number; stdout: string; stderr: string }

const TSX = import.meta.resolve('tsx');
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** `expert ARGS` run in folder `cwd` (relative paths in ARGS start there). */
export function expertIn(cwd: string | undefined, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `expert ARGS` run in the test's own folder. */
export const expert = (...args: string[]): Promise<CliResult> => expertIn(undefined, ...args);

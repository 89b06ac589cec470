/**
 * The `expert` kernel under a real Jupyter client (tests/kernel/drive_kernel.py,
 * Debian's jupyter_client), installed into a temporary prefix that
 * JUPYTER_PATH points at: cells run in order in one kernel, as a front end
 * runs them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installKernel } from '../../kernel-extensions/install.js';

const run = promisify(execFile);
const DRIVER = join(import.meta.dirname, '..', 'kernel', 'drive_kernel.py');

export interface KernelOutput { type: string; name?: string; text?: string; data?: Record<string, unknown> }
export interface CellResult { status: string; outputs: KernelOutput[] }

/** Installs the kernelspec under `dir`/prefix; the returned environment makes Jupyter find it there. */
export async function installTestKernel(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  const prefix = join(dir, 'prefix');
  await installKernel({ prefix });
  return { ...env, JUPYTER_PATH: join(prefix, 'share', 'jupyter') };
}

/** Runs `cells` in one kernel started in `cwd` (as Jupyter starts a notebook's kernel in its folder). */
export async function driveKernel(cwd: string, cells: string[], env: NodeJS.ProcessEnv, options: { extra?: string[]; timeoutMs?: number } = {}): Promise<CellResult[]> {
  const { stdout } = await run('/usr/bin/python3', [DRIVER, 'expert', cwd, JSON.stringify(cells), ...(options.extra ?? [])], {
    env,
    maxBuffer: 256 << 20,
    timeout: options.timeoutMs ?? 300_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as CellResult[];
}

export const streamText = (cell: CellResult, stream: string) =>
  cell.outputs.filter((o) => o.type === 'stream' && o.name === stream).map((o) => o.text).join('');

export const htmlOf = (cell: CellResult) => cell.outputs.map((o) => String(o.data?.['text/html'] ?? '')).join('\n');

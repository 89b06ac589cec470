/**
 * Installs the `expert` kernelspec into Jupyter (`expert kernel install`).
 * The spec starts a small launcher (copied into the kernelspec folder) with
 * the same Node that installed it, so the notebook server needs nothing else
 * on its PATH. The launcher starts the kernel of the project the notebook is
 * in (launcher.ts), so one system-wide kernelspec serves every clone; this
 * clone is only the fallback for notebooks outside any project.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../src/errors.js';
import { packageRoot } from '../src/package-root.js';

const run = promisify(execFile);

export const KERNEL_NAME = 'expert';

/** The launcher's name in the kernelspec folder: .mjs, as no package.json there says it is ESM. */
const LAUNCHER = 'launcher.mjs';

export function kernelSpec(fallbackProject = packageRoot()): Record<string, unknown> {
  return {
    argv: [process.execPath, `{resource_dir}/${LAUNCHER}`, '--fallback', fallbackProject, '--config-path', '{connection_file}'],
    display_name: 'ExPerT (TypeScript)',
    language: 'typescript',
    interrupt_mode: 'signal',
    metadata: { debugger: false },
  };
}

/** Always the compiled launcher, also when this module runs from source (tsx). */
function compiledLauncher(): string {
  const file = path.join(packageRoot(), 'dist', 'kernel-extensions', 'launcher.js');
  if (!existsSync(file)) throw new UserError(`${file} is missing: run \`npm run build\` first`);
  return file;
}

/** The Jupyter command: $JUPYTER, else Debian's (a pyenv or venv `jupyter` shim on PATH may not have it), else `jupyter` on PATH. */
export function jupyterCommand(): string {
  return process.env.JUPYTER ?? (existsSync('/usr/bin/jupyter') ? '/usr/bin/jupyter' : 'jupyter');
}

export async function installKernel(options: { user?: boolean; prefix?: string } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'expert-kernelspec-'));
  try {
    await writeFile(path.join(dir, 'kernel.json'), JSON.stringify(kernelSpec(), null, 2));
    await copyFile(compiledLauncher(), path.join(dir, LAUNCHER));
    const args = ['kernelspec', 'install', '--replace', '--name', KERNEL_NAME];
    if (options.user) args.push('--user');
    if (options.prefix) args.push('--prefix', options.prefix);
    args.push(dir);
    try {
      const { stdout, stderr } = await run(jupyterCommand(), args);
      const where = /Installed kernelspec \S+ in (\S+)/.exec(stdout + stderr)?.[1];
      return where ?? 'the Jupyter kernel directory';
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') {
        throw new UserError(`cannot find Jupyter ('${jupyterCommand()}'): install Debian's jupyter-notebook (scripts/setup.sh does) or set JUPYTER`);
      }
      throw new UserError(`jupyter kernelspec install failed: ${(e.stderr ?? e.message).trim()}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

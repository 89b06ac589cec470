/**
 * `expert notebook run` and `expert notebook publish`: parameters are
 * injected here (papermill semantics), execution and HTML export go through
 * Debian's Jupyter (nbclient/nbconvert) via nbtool.py.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../src/errors.js';
import { packageRoot } from '../../src/package-root.js';
import { KERNEL_NAME } from '../install.js';
import { injectParameters, type Notebook } from './parameters.js';
import { offlineHtml } from './offline-html.js';

/** Debian's Python, which has nbclient and nbconvert (a pyenv `python3` on PATH may not). */
function python(): string {
  return process.env.EXPERT_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** The Python helper is not compiled: it stays in the source tree. */
function nbtool(): string {
  return path.join(packageRoot(), 'kernel-extensions', 'notebook', 'nbtool.py');
}

function callNbtool(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(python(), [nbtool(), ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
    child.stdout?.pipe(process.stdout);
  });
}

async function readNotebook(file: string): Promise<Notebook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`${file}: cannot read the notebook`);
  }
  try {
    const notebook = JSON.parse(text) as Notebook;
    if (!Array.isArray(notebook.cells)) throw new Error('no cells');
    return notebook;
  } catch (error) {
    throw new UserError(`${file}: not a Jupyter notebook (${(error as Error).message})`);
  }
}

export interface RunNotebookOptions {
  parameters?: Record<string, unknown>;
  /** Where the executed notebook goes; default `<name>.out.ipynb` beside the input. */
  out?: string;
  /** Per-cell timeout in seconds; 0 = none. */
  timeoutS?: number;
  kernel?: string;
}

export interface NotebookRunResult {
  out: string;
  ok: boolean;
  /** What nbclient said about the failing cell, when one failed. */
  error?: string;
}

export async function runNotebook(input: string, options: RunNotebookOptions = {}): Promise<NotebookRunResult> {
  const source = path.resolve(input);
  const notebook = injectParameters(await readNotebook(source), options.parameters ?? {});
  const out = path.resolve(options.out ?? source.replace(/\.ipynb$/, '') + '.out.ipynb');
  await writeFile(out, JSON.stringify(notebook, null, 1));
  const { code, stderr } = await callNbtool([
    'execute', out, out,
    '--cwd', path.dirname(source),
    '--kernel', options.kernel ?? KERNEL_NAME,
    '--timeout', String(options.timeoutS ?? 0),
  ]);
  if (code === 0) return { out, ok: true };
  if (/No such kernel named/.test(stderr)) {
    throw new UserError(`Jupyter has no '${options.kernel ?? KERNEL_NAME}' kernel: run \`expert kernel install\` (scripts/setup.sh does)`);
  }
  if (/ModuleNotFoundError: No module named '(nbclient|nbformat|nbconvert)'/.test(stderr)) {
    throw new UserError(`${python()} lacks Jupyter's nbclient/nbconvert: install Debian's python3-nbclient and python3-nbconvert, or set EXPERT_PYTHON`);
  }
  return { out, ok: false, error: stderr.trim() };
}

export async function publishNotebook(input: string, htmlFile: string): Promise<string> {
  const source = path.resolve(input);
  await readNotebook(source);
  const html = path.resolve(htmlFile);
  const { code, stderr } = await callNbtool(['html', source, html]);
  if (code !== 0) throw new UserError(`could not export ${input} to HTML: ${stderr.trim()}`);
  await writeFile(html, offlineHtml(await readFile(html, 'utf8')));
  return html;
}

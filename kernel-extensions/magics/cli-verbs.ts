/**
 * Line magics that are the CLI's verbs run in the kernel: `%testbed up --vms 2`
 * does exactly what `expert testbed up --vms 2` does (same flags, same
 * checks, same messages), with its output in the cell. What the verb writes
 * to stderr is its progress (a red stream in Jupyter would read as an
 * error): it goes to one display updated in place. A verb that prints data
 * is asked for JSON (unless the cell names a --format) and its rows are shown
 * as an HTML table.
 */
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { UserError } from '../../src/errors.js';
import { escapeHtml } from '../../src/viz/html.js';
import type { KernelContext } from '../context.js';
import { htmlTable, textTable } from '../html-table.js';
import type { Magic } from './registry.js';
import type { MagicSegment } from './parse.js';

type Program = Awaited<ReturnType<typeof buildProgram>>;

export interface VerbOutput {
  /** Everything the verb wrote to stdout (only when captured). */
  stdout: string;
}

/** Shows the data a verb printed as JSON; the default shows an array of objects as a table. */
export type JsonRenderer = (context: KernelContext, value: unknown, args: string[]) => void;

export async function runCliVerb(
  group: string,
  args: string[],
  storeFile?: string,
  capture?: { stdout: boolean; stderr: (text: string) => void },
): Promise<VerbOutput> {
  const program = await buildProgram([group, ...args]);
  // Verbs that touch the store use the notebook's store unless the cell names one.
  const withStore = storeFile && !args.includes('--store') && hasOption(program, group, args[0], '--store') ? [...args, '--store', storeFile] : args;
  const previous = process.exitCode;
  process.exitCode = undefined;
  const restore = capture ? captureOutput(capture) : undefined;
  try {
    await program.parseAsync(['node', 'expert', group, ...withStore]);
    const code = process.exitCode;
    if (typeof code === 'number' && code !== 0) throw new UserError(`${group} ${args.join(' ')} ended with exit code ${code}`);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return { stdout: restore?.() ?? '' }; // --help
      throw new UserError(error.message.replace(/^error: /, ''));
    }
    throw error;
  } finally {
    process.exitCode = previous;
    restore?.();
  }
  return { stdout: restore?.() ?? '' };
}

/** Routes process.stdout/stderr writes while a verb runs; the returned function restores them and gives the stdout text. */
export function captureOutput(capture: { stdout: boolean; stderr: (text: string) => void }): () => string {
  const { stdout, stderr } = { stdout: process.stdout.write, stderr: process.stderr.write };
  let out = '';
  let restored = false;
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
  if (capture.stdout) {
    process.stdout.write = ((chunk: unknown) => { out += text(chunk); return true; }) as typeof process.stdout.write;
  }
  process.stderr.write = ((chunk: unknown) => { capture.stderr(text(chunk)); return true; }) as typeof process.stderr.write;
  return () => {
    if (!restored) {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
      restored = true;
    }
    return out;
  };
}

function hasOption(program: Program, group: string, verb: string | undefined, option: string): boolean {
  const command = program.commands.find((c) => c.name() === group)?.commands.find((c) => c.name() === verb);
  return Boolean(command?.options.some((o) => o.long === option));
}

/** A display of the verb's progress lines, updated in place as they arrive. */
export function progressDisplay(context: KernelContext): (text: string) => void {
  const display = context.updatableDisplay();
  let lines = '';
  return (text) => {
    lines += text;
    const shown = lines.replace(/\n$/, '');
    display.show({ 'text/html': `<pre class="expert-progress">${escapeHtml(shown)}</pre>`, 'text/plain': shown });
  };
}

/** Runs a verb in a cell: progress in place, data as a table (or as the --format the cell asked for). */
export async function runVerbInCell(context: KernelContext, group: string, args: string[], render: JsonRenderer = showRows): Promise<void> {
  const asked = args.some((a) => a === '--format' || a.startsWith('--format='));
  const json = !asked && hasOption(await buildProgram([group, ...args]), group, args[0], '--format');
  const { stdout } = await runCliVerb(group, json ? [...args, '--format', 'json'] : args, context.storeFile, {
    stdout: json,
    stderr: progressDisplay(context),
  });
  if (!json) return;
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    if (stdout !== '') process.stdout.write(stdout); // not data (e.g. --help)
    return;
  }
  render(context, value, args);
}

/** An array of objects as a table; anything else as indented JSON. */
export function showRows(context: KernelContext, value: unknown): void {
  if (Array.isArray(value) && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
    const columns = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
    const rows = value.map((v) => columns.map((c) => (v as Record<string, unknown>)[c] ?? null));
    context.display({ 'text/html': htmlTable(columns, rows, 500), 'text/plain': textTable(columns, rows, 500) });
    return;
  }
  const text = JSON.stringify(value, null, 2);
  context.display({ 'application/json': value, 'text/html': `<pre>${escapeHtml(text)}</pre>`, 'text/plain': text });
}

export function cliVerbMagic(group: string, summary: string, verbs: string): Magic {
  return {
    name: group,
    kind: 'line',
    summary,
    usage: `${verbs}\n\nFlags are those of \`expert ${group} <verb> --help\`.`,
    async run(context, call: MagicSegment) {
      if (call.args.length === 0) throw new UserError(`usage: ${verbs.split('\n')[0]}`);
      await runVerbInCell(context, group, call.args);
    },
  };
}

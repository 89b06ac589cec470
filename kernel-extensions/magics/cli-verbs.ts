/**
 * Line magics that are the CLI's verbs run in the kernel: `%testbed up --vms 2`
 * does exactly what `expert testbed up --vms 2` does (same flags, same
 * checks, same messages), with its output in the cell.
 */
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { UserError } from '../../src/errors.js';
import type { Magic } from './registry.js';
import type { MagicSegment } from './parse.js';

export async function runCliVerb(group: string, args: string[], storeFile?: string): Promise<void> {
  const program = buildProgram();
  // Verbs that touch the store use the notebook's store unless the cell names one.
  const withStore = storeFile && !args.includes('--store') && acceptsStore(program, group, args[0]) ? [...args, '--store', storeFile] : args;
  const previous = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'expert', group, ...withStore]);
    const code = process.exitCode;
    if (typeof code === 'number' && code !== 0) throw new UserError(`${group} ${args.join(' ')} ended with exit code ${code}`);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return; // --help
      throw new UserError(error.message.replace(/^error: /, ''));
    }
    throw error;
  } finally {
    process.exitCode = previous;
  }
}

function acceptsStore(program: ReturnType<typeof buildProgram>, group: string, verb: string | undefined): boolean {
  const command = program.commands.find((c) => c.name() === group)?.commands.find((c) => c.name() === verb);
  return Boolean(command?.options.some((o) => o.long === '--store'));
}

export function cliVerbMagic(group: string, summary: string, verbs: string): Magic {
  return {
    name: group,
    kind: 'line',
    summary,
    usage: `${verbs}\n\nFlags are those of \`expert ${group} <verb> --help\`.`,
    async run(context, call: MagicSegment) {
      if (call.args.length === 0) throw new UserError(`usage: ${verbs.split('\n')[0]}`);
      await runCliVerb(group, call.args, context.storeFile);
    },
  };
}

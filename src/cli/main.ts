#!/usr/bin/env node
/**
 * `expert`: the command line. Each verb group lives in its own module and
 * registers itself here; user errors print one line and exit 2.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../errors.js';
import { packageVersion } from '../package-root.js';
import { registerRun } from './run.js';
import { registerMine } from './mine.js';
import { registerTestbed } from './testbed.js';
import { registerPlot } from './plot.js';
import { registerNotebook } from './notebook.js';
import { registerTune } from './tune.js';

export function buildProgram(): Command {
  const program = new Command('expert')
    .description('ExPerT-TS: run, tune and mine I/O performance experiments on virtualized clusters')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerMine(program);
  registerTestbed(program);
  registerPlot(program);
  registerNotebook(program);
  registerTune(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors are bad input.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(error)) {
      process.stderr.write(`expert: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`expert: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(70);
    },
  );
}

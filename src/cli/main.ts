#!/usr/bin/env node
/**
 * `expert`: the command line. Each verb group lives in its own module and
 * registers itself here; user errors print one line and exit 2.
 *
 * Start-up is kept light: only the module of the verb on the command line is
 * loaded (DuckDB, arquero, ssh2 and the rest come with the verbs that use
 * them), and `--version` loads none.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { isUserError } from '../errors.js';
import { packageVersion } from '../package-root.js';
import { flushed, stdout } from '../output/sink.js';

type Register = (program: Command) => void;

/** Top-level verb → the module that registers it (several verbs may share one). */
const VERBS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./run.js')).registerRun,
  mine: async () => (await import('./mine.js')).registerMine,
  testbed: async () => (await import('./testbed.js')).registerTestbed,
  plot: async () => (await import('./plot.js')).registerPlot,
  report: async () => (await import('./plot.js')).registerPlot,
  notebook: async () => (await import('./notebook.js')).registerNotebook,
  kernel: async () => (await import('./notebook.js')).registerNotebook,
  tune: async () => (await import('./tune.js')).registerTune,
  compare: async () => (await import('./compare.js')).registerCompare,
  watch: async () => (await import('./watch.js')).registerWatch,
  dashboard: async () => (await import('./dashboard.js')).registerDashboard,
  slurm: async () => (await import('./slurm.js')).registerSlurm,
};

/** The verbs `argv` needs: its first word's, none for a bare `--version`, all for help or an unknown word. */
function verbsFor(args: readonly string[]): string[] {
  const word = args.find((a) => !a.startsWith('-'));
  if (word !== undefined && word in VERBS) return [word];
  if (word === undefined && args.some((a) => a === '-V' || a === '--version')) return [];
  return Object.keys(VERBS);
}

export async function buildProgram(args: readonly string[] = process.argv.slice(2)): Promise<Command> {
  const program = new Command('expert')
    .description('ExPerT-TS: run, tune and mine I/O performance experiments on virtualized clusters')
    .version(packageVersion())
    .exitOverride();
  const registered = new Set<Register>();
  for (const verb of verbsFor(args)) {
    const register = await VERBS[verb]!();
    if (registered.has(register)) continue;
    registered.add(register);
    register(program);
  }
  return program;
}

/** The words of `args` that name (sub)commands, e.g. `expert mine sql`, for the usage hint. */
function commandPath(program: Command, args: readonly string[]): string {
  const names = ['expert'];
  let command: Command = program;
  for (const arg of args) {
    const next = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next) break;
    names.push(next.name());
    command = next;
  }
  return names.join(' ');
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const args = argv.slice(2);
  const program = await buildProgram(args);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a usage error (already printed in one line by commander) gets a hint and exit 2.
      if (error.exitCode === 0) return 0;
      // A bare group (`expert`, `expert mine`) printed its help already: no hint to add.
      if (error.code === 'commander.help') return 2;
      process.stderr.write(`Run '${commandPath(program, args)} --help' for usage.\n`);
      return 2;
    }
    if (isUserError(error)) {
      process.stderr.write(`expert: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

/** Exits only once stdout and stderr have handed every byte to the OS (a pipe may still be full). */
async function exit(code: number): Promise<never> {
  const out = stdout();
  await out.flush();
  await flushed(process.stdout);
  if (out.failure) {
    process.stderr.write(`expert: could not write the output: ${out.failure.message}\n`);
    if (code === 0) code = 1;
  }
  await flushed(process.stderr);
  process.exit(code);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  // npm link, npx, global installs and node_modules/.bin reach this file through symlinks: compare real paths.
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().then(exit, async (error) => {
    process.stderr.write(`expert: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    await exit(70);
  });
}

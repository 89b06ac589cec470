/**
 * `expert kernel install [--user]`, `expert notebook run`, `expert notebook publish`.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { collect } from './options.js';
import { checkOutputFile } from '../output-paths.js';
import { installKernel } from '../../kernel-extensions/install.js';
import { parseParameter } from '../../kernel-extensions/notebook/parameters.js';
import { publishNotebook, runNotebook } from '../../kernel-extensions/notebook/run.js';

export function registerNotebook(program: Command): void {
  program
    .command('kernel')
    .description('the expert Jupyter kernel')
    .command('install')
    .description('install the `expert` kernelspec into Jupyter')
    .option('--user', 'install for the current user only')
    .option('--prefix <dir>', 'install under <dir>/share/jupyter/kernels')
    .action(async (options: { user?: boolean; prefix?: string }) => {
      const where = await installKernel(options);
      process.stdout.write(`installed the expert kernel in ${where}\n`);
    });

  const notebook = program.command('notebook').description('run and publish notebooks with the expert kernel');
  notebook
    .command('run <notebook>')
    .description('execute a notebook top to bottom (papermill-style parameters)')
    .option('-p, --parameter <name=value>', 'set a parameter (repeatable); injected after the cell tagged `parameters`', collect, [])
    .option('--out <file>', 'where the executed notebook goes (default <name>.out.ipynb)')
    .option('--timeout <seconds>', 'per-cell timeout, 0 for none', '0')
    .action(async (file: string, options: { parameter: string[]; out?: string; timeout: string }) => {
      if (options.out !== undefined) checkOutputFile(options.out, '--out');
      if (!/^\d+(\.\d+)?$/.test(options.timeout.trim())) throw new UserError(`--timeout: expected seconds (0 for none), got '${options.timeout}'`);
      const result = await runNotebook(file, {
        parameters: Object.fromEntries(options.parameter.map(parseParameter)),
        out: options.out,
        timeoutS: Number(options.timeout),
      });
      if (result.ok) {
        process.stdout.write(`${result.out}\n`);
      } else {
        process.stderr.write(`${result.error}\nexecuted notebook (with the error) saved to ${result.out}\n`);
        process.exitCode = 1;
      }
    });
  notebook
    .command('publish <notebook>')
    .description('export an executed notebook as one offline HTML file')
    .requiredOption('--html <file>', 'the HTML file to write')
    .action(async (file: string, options: { html: string }) => {
      checkOutputFile(options.html, '--html');
      process.stdout.write(`${await publishNotebook(file, options.html)}\n`);
    });
}

import { UserError } from '../../src/errors.js';
import { parsedToArquero } from '../../src/mine/interop.js';
import { defaultRegistry } from '../../src/mine/registry.js';
import { htmlTable, textTable } from '../html-table.js';
import { takeOption } from './parse.js';
import { rowsOf } from './sql.js';
import type { Magic } from './registry.js';
import { ARQUERO_TABLE } from '../context.js';

export const mineMagic: Magic = {
  name: 'mine',
  kind: 'line',
  summary: 'list parsers, or parse on demand (only what is not cached) and show or keep the result',
  usage: `%mine parsers
%mine parse PARSER [--batch ID] [-o var] [--limit N]

Parsing is lazy and cached per process and parser version; -o var keeps
parsed.PARSER (of that batch) as an Arquero table.`,
  async run(context, call) {
    const [verb, ...args] = call.args;
    if (verb === 'parsers') {
      const names = ['parser', 'version', 'programs', 'columns'];
      const rows = defaultRegistry().list().map((p) => [p.name, p.version, p.programs.join(' '), p.columns.map((c) => c.name).join(', ')]);
      context.display({ 'text/html': htmlTable(names, rows, 100), 'text/plain': textTable(names, rows, 100) });
      return;
    }
    if (verb !== 'parse' || !args[0] || args[0].startsWith('-')) throw new UserError('usage: %mine parsers | %mine parse PARSER [--batch ID] [-o var]');
    const parser = args[0];
    const out = takeOption(args.slice(1), ['-o', '--out']);
    const batchOption = takeOption(out.rest, ['--batch']);
    const limitOption = takeOption(batchOption.rest, ['--limit']);
    if (limitOption.rest.length > 0) throw new UserError(`unexpected argument '${limitOption.rest[0]}'; see %mine?`);
    const batchId = batchOption.value === undefined ? undefined : Number(batchOption.value);
    if (batchId !== undefined && !Number.isInteger(batchId)) throw new UserError(`--batch: expected a batch id, got '${batchOption.value}'`);
    const limit = limitOption.value === undefined ? 20 : Number(limitOption.value);
    if (!Number.isInteger(limit) || limit < 0) throw new UserError(`--limit: expected a whole number, got '${limitOption.value}'`);
    const { table, report } = await parsedToArquero(await context.store(), parser, batchId === undefined ? {} : { batchId });
    process.stdout.write(`${report.table} (version ${report.version}): parsed ${report.parsedProcesses} process(es), ${report.cachedProcesses} cached; ${report.rows} rows, ${report.errors} parse error(s)\n`);
    const names = table.columnNames();
    const rows = rowsOf(names, Object.fromEntries(names.map((n) => [n, table.array(n) as unknown[]])));
    context.display({ 'text/html': htmlTable(names, rows, limit), 'text/plain': textTable(names, rows, limit) });
    if (out.value) await context.setVariable(out.value, table, ARQUERO_TABLE);
  },
};

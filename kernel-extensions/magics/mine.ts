import { UserError } from '../../src/errors.js';
import { ensureParsed } from '../../src/mine/engine.js';
import { queryColumns } from '../../src/mine/interop.js';
import { defaultRegistry } from '../../src/mine/registry.js';
import { ident } from '../../src/mine/sql.js';
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
    const store = await context.store();
    const report = await ensureParsed(store, parser, batchId === undefined ? {} : { batchId });
    process.stdout.write(`${report.table} (version ${report.version}): parsed ${report.parsedProcesses} process(es), ${report.cachedProcesses} cached; ${report.rows} rows, ${report.errors} parse error(s)\n`);
    const where = batchId === undefined ? '' : 'WHERE process_id IN (SELECT process_id FROM process WHERE batch_id = $1)';
    const { names, columns } = await queryColumns(store, `SELECT * FROM parsed.${ident(parser)} ${where} ORDER BY process_id, seq`, batchId === undefined ? [] : [batchId]);
    const rows = rowsOf(names, columns);
    const limit = limitOption.value === undefined ? 20 : Number(limitOption.value);
    context.display({ 'text/html': htmlTable(names, rows, limit), 'text/plain': textTable(names, rows, limit) });
    if (out.value) {
      const aq = await import('arquero');
      await context.setVariable(out.value, aq.table(columns, names), ARQUERO_TABLE);
    }
  },
};

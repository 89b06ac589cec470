import type { DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../../src/errors.js';
import { queryColumns } from '../../src/mine/interop.js';
import { htmlTable, textTable } from '../html-table.js';
import { takeOption } from './parse.js';
import { bindVariables } from './sql-bind.js';
import type { Magic } from './registry.js';
import { ARQUERO_TABLE, type KernelContext } from '../context.js';

export const sqlMagic: Magic = {
  name: 'sql',
  kind: 'cell',
  summary: 'run SQL on the store; {var} binds a notebook variable; -o var keeps the result as an Arquero table',
  usage: `%%sql [-o var] [--limit N]
SELECT ... WHERE batch_id = {batch}

{name} is bound as a query parameter (never pasted into the SQL).
-o var   the whole result becomes the Arquero table \`var\` in TypeScript
--limit  rows shown (default 50; the row count is always said)`,
  async run(context, call) {
    const out = takeOption(call.args, ['-o', '--out']);
    const limitOption = takeOption(out.rest, ['--limit']);
    const limit = limitOption.value === undefined ? 50 : Number(limitOption.value);
    if (!Number.isInteger(limit) || limit < 0) throw new UserError(`--limit: expected a whole number, got '${limitOption.value}'`);
    if (limitOption.rest.length > 0) throw new UserError(`unexpected argument '${limitOption.rest[0]}'; see %sql?`);
    if (call.body.trim() === '') throw new UserError('the cell has no query');
    const { names, columns, rowCount, cells } = await query(context, call.body);
    const shown = cells(limit);
    context.display({ 'text/html': htmlTable(names, shown, limit, rowCount), 'text/plain': textTable(names, shown, limit, rowCount) });
    if (out.value) {
      const aq = await import('arquero');
      await context.setVariable(out.value, aq.table(columns, names), ARQUERO_TABLE);
    }
  },
};

async function query(context: KernelContext, body: string) {
  const { sql, names } = bindVariables(body);
  const params = names.map((name) => bindable(name, notebookVariable(context, name)));
  return queryColumns(await context.store(), sql, params);
}

function notebookVariable(context: KernelContext, name: string): unknown {
  try {
    return context.variable(name);
  } catch (error) {
    throw new UserError(`{${name}} in the query: ${(error as Error).message}`);
  }
}

function bindable(name: string, value: unknown): DuckDBValue {
  if (value === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof value)) return value as DuckDBValue;
  if (value instanceof Date) return value.toISOString();
  throw new UserError(`{${name}} is a ${Array.isArray(value) ? 'list' : typeof value}: bind strings, numbers, booleans or dates`);
}

export function rowsOf(names: string[], columns: Record<string, unknown[]>): unknown[][] {
  const count = names.length === 0 ? 0 : columns[names[0]!]!.length;
  return Array.from({ length: count }, (_, i) => names.map((n) => columns[n]![i]));
}

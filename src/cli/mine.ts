/**
 * `expert mine ...`: list parsers, parse on demand, run SQL, the run summary,
 * and Parquet export. Output goes through `--format table|csv|json`.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { ensureParsed } from '../mine/engine.js';
import { exportParquet } from '../mine/export.js';
import { defaultRegistry } from '../mine/registry.js';
import { runSummary } from '../mine/summary.js';
import { ident } from '../mine/sql.js';
import { DEFAULT_STORE_PATH, openStore } from '../store/store.js';
import type { ExpertStore } from '../store/types.js';
import { formatRows, resolveFormat } from './format.js';
import { registerMineWizard } from './plot.js';

const TABLE_ROWS = 200;

interface StoreOption {
  store: string;
}

async function withStore<T>(path: string, readOnly: boolean, work: (store: ExpertStore) => Promise<T>): Promise<T> {
  const store = await openStore(path, { readOnly });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function batchId(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new UserError(`--batch: expected a batch id (a number), got '${value}'`);
  return Number(value);
}

export function registerMine(program: Command): void {
  const mine = program.command('mine').description('parse, query and export what experiments printed');

  mine
    .command('parsers')
    .description('list the parsers: name, version, programs they claim, columns')
    .option('--format <format>', 'table, csv or json')
    .action((options: { format?: string }) => {
      const format = resolveFormat(options.format);
      const rows = defaultRegistry().list().map((p) => [p.name, p.version, p.programs.join(' '), p.description, p.columns.map((c) => c.name).join(', ')]);
      process.stdout.write(formatRows(['parser', 'version', 'programs', 'description', 'columns'], rows, format));
    });

  mine
    .command('parse <parser>')
    .description('parse (only what is not cached yet) and print parsed.<parser>')
    .option('--batch <id>', 'only processes of this batch')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .option('--limit <n>', `print at most n rows (0: none, only the summary; table format default ${TABLE_ROWS})`)
    .option('--format <format>', 'table, csv or json')
    .action(async (parser: string, options: StoreOption & { batch?: string; limit?: string; format?: string }) => {
      const format = resolveFormat(options.format);
      const batch = batchId(options.batch);
      // A table on a terminal shows the first rows only; csv/json print everything unless --limit says otherwise.
      const limit = options.limit === undefined ? (format === 'table' ? TABLE_ROWS : undefined) : Number(options.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new UserError(`--limit: expected a whole number, got '${options.limit}'`);
      await withStore(options.store, false, async (store) => {
        const report = await ensureParsed(store, parser, batch === undefined ? {} : { batchId: batch });
        process.stderr.write(
          `${report.table} (version ${report.version}): parsed ${report.parsedProcesses} process(es), ${report.cachedProcesses} cached; ${report.rows} rows, ${report.errors} parse error(s)\n`,
        );
        if (limit === 0) return;
        const where = batch === undefined ? '' : `WHERE process_id IN (SELECT process_id FROM process WHERE batch_id = ${batch})`;
        const result = await store.query(`SELECT * FROM parsed.${ident(parser)} ${where} ORDER BY process_id, seq${limit ? ` LIMIT ${limit}` : ''}`);
        process.stdout.write(formatRows(result.columns, result.rows, format));
      });
    });

  mine
    .command('sql <query>')
    .description('run a SQL query on the store (read-only)')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .option('--format <format>', 'table, csv or json')
    .action(async (query: string, options: StoreOption & { format?: string }) => {
      const format = resolveFormat(options.format);
      await withStore(options.store, true, async (store) => {
        let result;
        try {
          result = await store.query(query);
        } catch (error) {
          throw new UserError(`SQL error: ${(error as Error).message}`, { cause: error });
        }
        process.stdout.write(formatRows(result.columns, result.rows, format));
      });
    });

  mine
    .command('summary')
    .description('one row per workload: params, policy, rep, throughput and the monitors averaged over its own time window')
    .option('--batch <id>', 'only this batch')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .option('--format <format>', 'table, csv or json')
    .action(async (options: StoreOption & { batch?: string; format?: string }) => {
      const format = resolveFormat(options.format);
      const batch = batchId(options.batch);
      await withStore(options.store, false, async (store) => {
        const result = await runSummary(store, batch === undefined ? {} : { batchId: batch });
        process.stdout.write(formatRows(result.columns, result.rows, format));
      });
    });

  mine
    .command('export')
    .description('write the raw and parsed tables as Parquet files (one per table)')
    .requiredOption('--parquet <dir>', 'output directory')
    .option('--batch <id>', 'only this batch')
    .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
    .option('--format <format>', 'table, csv or json')
    .action(async (options: StoreOption & { parquet: string; batch?: string; format?: string }) => {
      const format = resolveFormat(options.format);
      const batch = batchId(options.batch);
      await withStore(options.store, false, async (store) => {
        const files = await exportParquet(store, options.parquet, batch === undefined ? {} : { batchId: batch });
        process.stdout.write(formatRows(['table', 'file', 'rows'], files.map((f) => [f.table, f.file, f.rows]), format));
      });
    });

  // `expert mine wizard` lives with the charts (src/cli/plot.ts).
  registerMineWizard(mine);
}

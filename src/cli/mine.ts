/**
 * `expert mine ...`: list parsers, parse on demand, run SQL, the run summary,
 * and Parquet export. Output goes through `--format table|csv|json` and
 * `--columns`. Mine's modules (parsers, DuckDB) load when a verb runs, not at start-up.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { columnsOption, dataOptions, printData, resolveFormat, type DataOptions } from './format.js';
import { registerMineWizard } from './plot.js';
import { withExistingStore } from './store-access.js';
import { plural, printCells } from '../output/print.js';
import { cellFromJs } from '../output/cell.js';
import { DEFAULT_STORE_PATH } from '../store/default-path.js';

const TABLE_ROWS = 200;

interface StoreOption {
  store: string;
}

interface BatchOption {
  batch?: string;
}

const BATCH_HELP = 'only this batch: its id, its name (the newest of that name), or latest';

/** The summary columns a table shows first (the rest follow, and give way on a narrow terminal). */
const SUMMARY_TABLE_ORDER = ['run', 'policy', 'params', 'rep', 'guest', 'exit_code', 'status'];

function parseLimit(value: string | undefined, format: string): number | undefined {
  // A table on a terminal shows the first rows only; csv/json print everything unless --limit says otherwise.
  if (value === undefined) return format === 'table' ? TABLE_ROWS : undefined;
  const limit = Number(value);
  if (!(Number.isInteger(limit) && limit >= 0)) throw new UserError(`--limit: expected a whole number, got '${value}'`);
  return limit;
}

export function registerMine(program: Command): void {
  const mine = program.command('mine').description('parse, query and export what experiments printed');

  dataOptions(
    mine
      .command('parsers')
      .description('list the parsers: name, version, programs they claim, columns')
      .option('--store <file>', 'store file (parsers are the same for every store; accepted like on every verb)', DEFAULT_STORE_PATH),
  ).action(async (options: StoreOption & DataOptions) => {
    const { defaultRegistry } = await import('../mine/registry.js');
    const rows = defaultRegistry().list().map((p) => [p.name, p.version, p.programs.join(' '), p.description, p.columns.map((c) => c.name).join(', ')]);
    await printData(['parser', 'version', 'programs', 'description', 'columns'], rows, options);
  });

  dataOptions(
    mine
      .command('parse <parser>')
      .description('parse (only what is not cached yet) and print parsed.<parser>')
      .option('--batch <batch>', BATCH_HELP)
      .option('--store <file>', 'store file', DEFAULT_STORE_PATH)
      .option('--limit <n>', `print at most n rows (0: none, only the summary; table format default ${TABLE_ROWS})`),
  ).action(async (parser: string, options: StoreOption & BatchOption & DataOptions & { limit?: string }) => {
    const format = resolveFormat(options.format);
    const limit = parseLimit(options.limit, format);
    const [{ ensureParsed }, { ident }, { resolveBatchId }, { printQuery }] = await Promise.all([
      import('../mine/engine.js'),
      import('../mine/sql.js'),
      import('../store/resolve-batch.js'),
      import('../output/print-query.js'),
    ]);
    await withExistingStore(options.store, async (store) => {
      const batch = await resolveBatchId(store, options.batch);
      const report = await ensureParsed(store, parser, batch === undefined ? {} : { batchId: batch });
      process.stderr.write(
        `${report.table} (version ${report.version}): parsed ${plural(report.parsedProcesses, 'process', 'processes')}, ${report.cachedProcesses} cached; ` +
          `${plural(report.rows, 'row')}, ${plural(report.errors, 'parse error')}\n`,
      );
      if (limit === 0) return;
      const where = batch === undefined ? '' : `WHERE process_id IN (SELECT process_id FROM process WHERE batch_id = ${batch})`;
      const shown = await printQuery(store, `SELECT * FROM parsed.${ident(parser)} ${where} ORDER BY process_id, seq${limit ? ` LIMIT ${limit}` : ''}`, [], format, {
        ...pickedColumns(options),
        ...(limit !== undefined && format === 'table' && report.rows > limit ? { note: `(the first ${limit} of ${report.rows} rows; --limit N or --format csv for more)` } : {}),
      });
      return shown;
    });
  });

  dataOptions(
    mine
      .command('sql <query>')
      .description('run a SQL query on the store (read-only); every DuckDB type prints in every format')
      .option('--store <file>', 'store file', DEFAULT_STORE_PATH),
  ).action(async (query: string, options: StoreOption & DataOptions) => {
    const format = resolveFormat(options.format);
    if (query.trim() === '') throw new UserError('mine sql: the query is empty; give one, e.g. expert mine sql "SELECT count(*) FROM line"');
    const { printQuery } = await import('../output/print-query.js');
    await withExistingStore(options.store, async (store) => {
      try {
        await printQuery(store, query, [], format, pickedColumns(options));
      } catch (error) {
        if (error instanceof UserError) throw error;
        throw new UserError(`SQL error: ${(error as Error).message}`, { cause: error });
      }
    });
  });

  dataOptions(
    mine
      .command('summary')
      .description('one row per workload: params, policy, rep, exit code, throughput and the monitors averaged over its own time window')
      .option('--batch <batch>', BATCH_HELP)
      .option('--store <file>', 'store file', DEFAULT_STORE_PATH),
  ).action(async (options: StoreOption & BatchOption & DataOptions) => {
    const [{ runSummary }, { resolveBatchId }] = await Promise.all([import('../mine/summary.js'), import('../store/resolve-batch.js')]);
    await withExistingStore(options.store, async (store) => {
      const batch = await resolveBatchId(store, options.batch);
      const result = await runSummary(store, batch === undefined ? {} : { batchId: batch });
      // One batch: its id and name would repeat on every row of a table.
      // The label is last, so a narrow terminal never cuts it; the other process facts give way first.
      // batch_id leads only when the rows span several batches (else it repeats one number on every row).
      const batchColumn = result.columns.indexOf('batch_id');
      const batches = new Set(result.rows.map((r) => String(r[batchColumn])));
      const order = [...(batches.size > 1 ? ['batch_id'] : []), ...SUMMARY_TABLE_ORDER, ...metricColumns(result.columns), 'host', 'duration_s'];
      const tableOrder = [...order, ...result.columns.filter((c) => !order.includes(c) && c !== 'label'), 'label'];
      const picked = columnsOption(options.columns);
      await printCells(result.columns, [result.cells ? result.cells() : result.rows.map((r) => r.map(cellFromJs))], resolveFormat(options.format), {
        tableOrder,
        ...(picked ? { columns: picked } : {}),
      });
    });
  });

  dataOptions(
    mine
      .command('export')
      .description('write the raw and parsed tables as Parquet files (one per table)')
      .requiredOption('--parquet <dir>', 'output directory (made if missing)')
      .option('--batch <batch>', BATCH_HELP)
      .option('--store <file>', 'store file', DEFAULT_STORE_PATH),
  ).action(async (options: StoreOption & BatchOption & DataOptions & { parquet: string }) => {
    resolveFormat(options.format);
    const [{ exportParquet }, { resolveBatchId }, { prepareDirectory }] = await Promise.all([
      import('../mine/export.js'),
      import('../store/resolve-batch.js'),
      import('../output-paths.js'),
    ]);
    await withExistingStore(options.store, async (store) => {
      // The store and the batch first: a typo in either makes no directory.
      const batch = await resolveBatchId(store, options.batch);
      const dir = prepareDirectory(options.parquet, '--parquet');
      const files = await exportParquet(store, dir, { parse: true, ...(batch === undefined ? {} : { batchId: batch }) });
      await printData(['table', 'file', 'rows'], files.map((f) => [f.table, f.file, f.rows]), options);
    });
  });

  // `expert mine wizard` lives with the charts (src/cli/plot.ts).
  registerMineWizard(mine);
}

/** Summary columns that are figures (after the process facts), in their order. */
function metricColumns(columns: readonly string[]): string[] {
  const facts = new Set(['batch_id', 'batch', 'run', 'label', 'policy', 'params', 'rep', 'host', 'guest', 'status', 'exit_code', 'started_at', 'ended_at', 'duration_s', 'process_id', 'warmup', 'attempt', 'position', 'round', 'tuned']);
  return columns.filter((c) => !facts.has(c));
}

function pickedColumns(options: DataOptions): { columns?: string[] } {
  const columns = columnsOption(options.columns);
  return columns ? { columns } : {};
}

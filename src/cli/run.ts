/**
 * `expert run <batch.yaml> [--store F] [--set key=value ...] [--dry-run] [--format F]`
 * `expert run --resume <batch> [<batch.yaml>] [--store F]`
 * `--dashboard [HOST:PORT]` serves the batch's live dashboard from this process (src/live/), URL on stderr.
 *
 * --resume runs again, into the same batch, every run that has no successful
 * result (its next `process.attempt`), with the config stored in the batch;
 * a given YAML must hash like it. Pre-flight warnings go to stderr; with
 * `strict: true` a failed check exits 2 before any run.
 *
 * Loads and expands the config BEFORE touching the store, so bad input
 * (exit 2) writes nothing. Prints `batch <id>` on stdout (on stderr with
 * --format, whose rows are then the only stdout), progress on stderr.
 * Exit codes: 0 every workload exited 0; 1 some did not (or something could
 * not start); 2 bad input; 130 interrupted (SIGINT/SIGTERM/SIGHUP: every process is
 * stopped, tuning restored, every line received kept, batch `interrupted`).
 */
import type { Command } from 'commander';
import { collect } from './options.js';
import { loadBatchConfig } from '../batch/config/index.js';
import { expandPlan, planRows } from '../batch/plan/index.js';
import { runBatch, defaultHooks, prepareResume, type BatchOutcome, type BatchEvent, type RunBatchOptions } from '../batch/runner/index.js';
import type { Plan } from '../batch/config/types.js';
import { UserError } from '../errors.js';
import { openStore, DEFAULT_STORE_PATH } from '../store/store.js';
import type { ExpertStore } from '../store/types.js';
import { dataOptions, printData, resolveFormat, columnsOption, type OutputFormat } from './format.js';
import { printQuery } from '../output/print-query.js';
import { resolveBatchId } from '../store/resolve-batch.js';
import { createProgressDisplay } from './run-display.js';

export const EXIT_INTERRUPTED = 130;

interface RunOptions {
  store: string;
  set: string[];
  dryRun?: boolean;
  format?: string;
  columns?: string;
  acceptNewHostKeys?: boolean;
  resume?: string;
  /** `--dashboard [HOST:PORT]`: true without an address. */
  dashboard?: string | true;
}

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('run a batch: every test × params × policy × repetition, monitors beside, every output line into the store')
    .argument('[batch.yaml]', 'the batch config (with --resume: optional, checked against the stored one)')
    .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
    .option('--set <key=value>', 'override a config value, e.g. tests.0.repeat=5 (repeatable)', collect, [])
    .option('--dry-run', 'print the expanded plan (one row per process to start) and write nothing')
    .option('--resume <batch>', 'run again, into this batch, the runs that have no successful result (an interrupted or partly failed batch)')
    .option('--dashboard [HOST:PORT]', 'serve a live dashboard of the batch (loopback and a free port by default) and print its URL on stderr')
    .option('--accept-new-host-keys', "record SSH host keys not yet in known_hosts (like ssh's accept-new); a changed key is still refused")
    .addHelpText(
      'after',
      '\nExit codes: 0 every workload exited 0, 1 some failed, 2 bad input, 130 interrupted (Ctrl-C / SIGTERM).\n' +
        'Ctrl-C stops every process, restores tuning, keeps every line and marks the batch interrupted; a second Ctrl-C only says to wait.\n' +
        '--format and --columns apply to the --dry-run plan and to the per-process summary printed at the end.',
    );
  dataOptions(run).action(async (file: string | undefined, options: RunOptions) => {
    process.exitCode = await runCommand(file, options);
  });
}

export async function runCommand(file: string | undefined, options: RunOptions): Promise<number> {
  const format = options.format === undefined ? undefined : resolveFormat(options.format);
  const resuming = options.resume !== undefined;
  columnsOption(options.columns);
  if (file === undefined && !resuming) throw new UserError('run: give a batch config (expert run batch.yaml), or --resume <batch>');
  if (resuming && options.set.length > 0) throw new UserError('--resume runs the batch with its stored config: --set cannot change it');
  // Bad input stops here, before the store is opened (or created).
  const config = file === undefined ? undefined : await loadBatchConfig(file, { set: options.set });
  if (config && options.acceptNewHostKeys) config.machines.ssh = { ...config.machines.ssh, acceptNewHostKeys: true };
  if (options.dryRun && !resuming) {
    const { columns, rows } = planRows(expandPlan(config!));
    await printData(columns, rows, options);
    return 0;
  }
  // Only a new batch may create the store; --resume needs the one that holds the batch.
  const store = await openStore(options.store, options.dryRun ? { readOnly: true } : resuming ? { create: false } : {});
  let plan: Plan;
  let resume: RunBatchOptions['resume'];
  try {
    if (resuming) {
      const resumeId = (await resolveBatchId(store, options.resume))!;
      const prepared = await prepareResume(store, resumeId, config);
      plan = prepared.plan;
      if (options.acceptNewHostKeys) plan.config.machines.ssh = { ...plan.config.machines.ssh, acceptNewHostKeys: true };
      resume = prepared.resume;
      if (options.dryRun) {
        const { columns, rows } = planRows({ ...plan, runs: prepared.resume.runs });
        await printData(columns, rows, options);
        return 0;
      }
      if (prepared.resume.runs.length === 0) {
        process.stderr.write(`batch ${resumeId}: every run already has a successful result; nothing to run again\n`);
        return 0;
      }
      process.stderr.write(`batch ${resumeId} (${prepared.status}): running ${prepared.resume.runs.length} run(s) again, ${prepared.done.length} already done\n`);
    } else {
      plan = expandPlan(config!);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const listen = options.dashboard === undefined ? undefined : (await import('../live/dashboard-server.js')).parseListen(options.dashboard);
  let dashboard: Promise<{ close(): Promise<void> } | undefined> | undefined;
  const display = createProgressDisplay();
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      display.say(`${signal}: stopping every process, restoring, keeping every line… (Ctrl-C again will not skip this)`);
      controller.abort();
    } else {
      display.say('stopping, please wait (processes are being stopped and tuning restored)');
    }
  };
  // SIGHUP (the terminal went away) stops the batch the same way; a gone terminal must not crash the stop.
  const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const ignoreWriteErrors = () => {};
  process.stderr.on('error', ignoreWriteErrors);
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let outcome: BatchOutcome;
  try {
    outcome = await runBatch(plan, {
      store,
      hooks: defaultHooks(plan),
      signal: controller.signal,
      ...(resume ? { resume } : {}),
      onEvent: (event) => {
        printPreflight(event);
        // With --format, stdout carries only the formatted rows (they include batch_id).
        if (event.type === 'batch-started') display.print(`batch ${event.batchId}`, format ? process.stderr : process.stdout);
        if (event.type === 'batch-started' && listen) dashboard = startDashboard(store, event.batchId, event.name, listen, display.say.bind(display));
        display.onEvent(event);
      },
    });
  } finally {
    display.stop();
    await (await dashboard)?.close();
    await store.close();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.stderr.off('error', ignoreWriteErrors);
  }
  if (format) await printSummary(options.store, outcome.batchId, format, columnsOption(options.columns));
  if (outcome.summary.status === 'interrupted') return EXIT_INTERRUPTED;
  return outcome.ok ? 0 : 1;
}

/** The live dashboard of the batch this process runs, reading the writer's own store. */
async function startDashboard(
  store: ExpertStore,
  batchId: number,
  name: string,
  listen: { host: string; port: number },
  say: (message: string) => void,
): Promise<{ close(): Promise<void> } | undefined> {
  const { Dashboard } = await import('../live/dashboard-server.js');
  try {
    const dashboard = await Dashboard.start((work) => work(store), batchId, listen, { title: `ExPerT · batch ${batchId} ${name}` });
    say(`dashboard: ${dashboard.url}`);
    return dashboard;
  } catch (error) {
    say(`dashboard not started: ${(error as Error).message}`);
    return undefined;
  }
}

/** Pre-flight failures as warnings on stderr, before the batch starts. */
function printPreflight(event: BatchEvent): void {
  if (event.type !== 'preflight') return;
  for (const failure of event.failures) process.stderr.write(`warning: pre-flight ${failure}\n`);
}

/** The per-process outcome, read back from the store (what a later `mine sql` would show). */
async function printSummary(path: string, batchId: number, format: OutputFormat, columns: string[] | undefined): Promise<void> {
  const store = await openStore(path, { readOnly: true });
  try {
    await printQuery(
      store,
      `SELECT p.batch_id, p.process_id, p.run, p.position, p.attempt, p.warmup, p.role, p.label, p.status, p.exit_code, p.signal, p.error,
              (SELECT count(*) FROM line l WHERE l.process_id = p.process_id) AS lines
       FROM process p WHERE p.batch_id = $1 ORDER BY p.process_id`,
      [batchId],
      format,
      columns ? { columns } : { tableOrder: ['process_id', 'run', 'position', 'role', 'status', 'exit_code', 'signal', 'lines', 'error', 'label'] },
    );
  } finally {
    await store.close();
  }
}

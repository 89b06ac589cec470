/**
 * `expert run <batch.yaml> [--store F] [--set key=value ...] [--dry-run] [--format F]`
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
import { runBatch, defaultHooks, type BatchOutcome } from '../batch/runner/index.js';
import { openStore, DEFAULT_STORE_PATH } from '../store/store.js';
import { formatRows, resolveFormat } from './format.js';
import { createProgressDisplay } from './run-display.js';

export const EXIT_INTERRUPTED = 130;

interface RunOptions {
  store: string;
  set: string[];
  dryRun?: boolean;
  format?: string;
  acceptNewHostKeys?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a batch: every test × params × policy × repetition, monitors beside, every output line into the store')
    .argument('<batch.yaml>', 'the batch config')
    .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
    .option('--set <key=value>', 'override a config value, e.g. tests.0.repeat=5 (repeatable)', collect, [])
    .option('--dry-run', 'print the expanded plan (one row per process to start) and write nothing')
    .option('--format <format>', 'table|csv|json: for --dry-run rows and the final per-process summary')
    .option('--accept-new-host-keys', "record SSH host keys not yet in known_hosts (like ssh's accept-new); a changed key is still refused")
    .addHelpText(
      'after',
      '\nExit codes: 0 every workload exited 0, 1 some failed, 2 bad input, 130 interrupted (Ctrl-C / SIGTERM).\n' +
        'Ctrl-C stops every process, restores tuning, keeps every line and marks the batch interrupted; a second Ctrl-C only says to wait.',
    )
    .action(async (file: string, options: RunOptions) => {
      process.exitCode = await runCommand(file, options);
    });
}

export async function runCommand(file: string, options: RunOptions): Promise<number> {
  const format = options.format === undefined ? undefined : resolveFormat(options.format);
  // Bad input stops here, before the store is opened (or created).
  const config = await loadBatchConfig(file, { set: options.set });
  if (options.acceptNewHostKeys) config.machines.ssh = { ...config.machines.ssh, acceptNewHostKeys: true };
  const plan = expandPlan(config);
  if (options.dryRun) {
    const { columns, rows } = planRows(plan);
    process.stdout.write(formatRows(columns, rows, format ?? resolveFormat(undefined)));
    return 0;
  }
  const store = await openStore(options.store);
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
      onEvent: (event) => {
        // With --format, stdout carries only the formatted rows (they include batch_id).
        if (event.type === 'batch-started') (format ? process.stderr : process.stdout).write(`batch ${event.batchId}\n`);
        display.onEvent(event);
      },
    });
  } finally {
    display.stop();
    await store.close();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.stderr.off('error', ignoreWriteErrors);
  }
  if (format) await printSummary(options.store, outcome.batchId, format);
  if (outcome.summary.status === 'interrupted') return EXIT_INTERRUPTED;
  return outcome.ok ? 0 : 1;
}

/** The per-process outcome, read back from the store (what a later `mine sql` would show). */
async function printSummary(path: string, batchId: number, format: ReturnType<typeof resolveFormat>): Promise<void> {
  const store = await openStore(path, { readOnly: true });
  try {
    const result = await store.query(
      `SELECT p.batch_id, p.process_id, p.run, p.role, p.label, p.status, p.exit_code, p.signal, p.error,
              (SELECT count(*) FROM line l WHERE l.process_id = p.process_id) AS lines
       FROM process p WHERE p.batch_id = $1 ORDER BY p.process_id`,
      [batchId],
    );
    process.stdout.write(formatRows(result.columns, result.rows, format));
  } finally {
    await store.close();
  }
}

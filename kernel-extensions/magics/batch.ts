/**
 * `%%batch` (a batch config in the cell) and `%batch run|list|show|kill|wait`.
 * Batches run through the same runner as `expert run`, with the same hooks
 * (Tune when a policy needs it); progress is one display updated in place.
 * An interrupt (or `%batch kill`) stops every process, restores tuning and
 * keeps every line, exactly as Ctrl-C does for `expert run`.
 */
import path from 'node:path';
import { loadBatchConfig, parseBatchConfigText } from '../../src/batch/config/index.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';
import { expandPlan, planRows } from '../../src/batch/plan/index.js';
import { defaultHooks, runBatch, type BatchOutcome } from '../../src/batch/runner/index.js';
import { outcomeLine, ProgressState, renderFrame } from '../../src/cli/run-progress.js';
import { UserError } from '../../src/errors.js';
import type { KernelContext } from '../context.js';
import { escapeHtml } from '../../src/viz/html.js';
import { htmlTable, textTable } from '../html-table.js';
import { causesSummary, failedWorkloads, failureCause } from './batch-failures.js';
import { bodyAtCellLines } from './parse.js';
import type { Magic } from './registry.js';

interface Running {
  batchId: number;
  name: string;
  controller: AbortController;
  done: Promise<BatchOutcome>;
}

/** Batches this kernel runs in the background, by batch id. */
const running = new Map<number, Running>();

function options(args: string[]) {
  const sets: string[] = [];
  const rest: string[] = [];
  let dryRun = false;
  let background = false;
  let live = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--set') sets.push(args[++i] ?? '');
    else if (a.startsWith('--set=')) sets.push(a.slice(6));
    else if (a === '--dry-run') dryRun = true;
    else if (a === '--background') background = true;
    else if (a === '--live') live = true;
    else rest.push(a);
  }
  return { sets, dryRun, background, live, rest };
}

async function launch(context: KernelContext, config: ResolvedBatchConfig, dryRun: boolean, background: boolean, live = false): Promise<void> {
  const plan = expandPlan(config);
  if (dryRun) {
    const { columns, rows } = planRows(plan);
    context.display({ 'text/html': htmlTable(columns, rows, 200), 'text/plain': textTable(columns, rows, 200) });
    return;
  }
  const store = await context.store();
  const display = context.updatableDisplay();
  const state = new ProgressState();
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 500) return;
    last = now;
    const frame = renderFrame(state, now, 140);
    display.show({ 'text/html': `<pre class="expert-progress">${escapeHtml(frame)}</pre>`, 'text/plain': frame });
  };
  // A background batch is stopped by %batch kill; a foreground one by the kernel's interrupt.
  const controller = new AbortController();
  // --live: the monitors' chart under the cell, redrawn in place while the batch runs (src/live/notebook-live.ts).
  const chart = live ? new (await import('../../src/live/notebook-live.js')).LiveChart(store, context.updatableDisplay().show, `batch '${config.name}'`) : undefined;
  const stopOnInterrupt = () => controller.abort();
  if (!background) context.signal.addEventListener('abort', stopOnInterrupt, { once: true });
  let started!: (id: number) => void;
  const batchId = new Promise<number>((resolve) => (started = resolve));
  const done = runBatch(plan, {
    store,
    hooks: defaultHooks(plan),
    signal: controller.signal,
    onEvent: (event) => {
      state.apply(event);
      if (event.type === 'batch-started') {
        started(event.batchId);
        chart?.follow(event.batchId);
      }
      draw(event.type === 'batch-started' || event.type === 'batch-finished' || event.type === 'stopping');
    },
  }).finally(async () => {
    context.signal.removeEventListener('abort', stopOnInterrupt);
    await chart?.stop();
  });
  if (background) {
    const id = await Promise.race([batchId, done.then((o) => o.batchId)]);
    running.set(id, { batchId: id, name: config.name, controller, done });
    void done.finally(() => running.delete(id)).catch(() => {});
    process.stdout.write(`batch ${id} runs in the background: %batch wait ${id}, %batch kill ${id}\n`);
    return;
  }
  const outcome = await done;
  draw(true);
  await report(context, outcome);
}

async function report(context: KernelContext, outcome: BatchOutcome): Promise<void> {
  const s = outcome.summary;
  process.stdout.write(`${outcomeLine(outcome.batchId, s)}\n`);
  if (s.status === 'interrupted') throw new UserError(`batch ${outcome.batchId} interrupted: every process stopped, tuning restored, lines kept`);
  if (outcome.ok) return;
  const failed = await failedWorkloads(await context.store(), outcome.batchId);
  if (failed.length > 0) {
    const columns = ['process_id', 'label', 'status', 'exit_code', 'cause'];
    const rows = failed.map((p) => [p.process_id, p.label, p.status, p.exit_code, failureCause(p)]);
    context.display({ 'text/html': htmlTable(columns, rows, 100), 'text/plain': textTable(columns, rows, 100) });
  }
  throw new UserError(`batch ${outcome.batchId}: ${s.failedWorkloads} of ${s.workloads} workload(s) did not succeed${failed.length ? `:\n${causesSummary(failed)}` : ''}`);
}

function batchIdArg(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UserError(`expected a batch id (a number), got '${value}'`);
  return Number(value);
}

export const batchMagic: Magic = {
  name: 'batch',
  kind: 'both',
  summary: 'run a batch (config in the cell, or a file), list batches, show one, kill or wait for a background one',
  usage: `%%batch [--set key=value ...] [--dry-run] [--background] [--live]
name: my-study
machines: testbed
tests: [...]

%batch run FILE [--set key=value ...] [--dry-run] [--background] [--live]
%batch list                 batches in the store
%batch show ID              its processes and their outcome
%batch kill [ID]            stop a background batch (every process, tuning restored, lines kept)
%batch wait [ID]            wait for a background batch

The config format is the batch YAML of \`expert run\`; errors name the cell's line and column.
Interrupting the kernel stops a foreground batch the same way as Ctrl-C stops \`expert run\`.
--live draws the monitors (vmstat, perf per node and guest; run starts and policy changes marked) under the cell,
updated in place every 2 s while the batch runs; the final chart stays in the notebook.
While a batch runs, other processes read this store through its live socket (\`expert watch\`, \`expert mine sql\`).`,
  async run(context, call) {
    if (call.kind === 'cell') {
      const { sets, dryRun, background, live, rest } = options(call.args);
      if (rest.length > 0) throw new UserError(`unexpected argument '${rest[0]}'; see %batch?`);
      const config = await parseBatchConfigText(bodyAtCellLines(call), {
        file: '<%%batch cell>',
        // As if the cell were a file in the notebook's folder: relative paths and the git commit in provenance come from there.
        path: path.resolve('<%%batch cell>'),
        set: sets,
        cwd: process.cwd(),
      });
      await launch(context, config, dryRun, background, live);
      return;
    }
    const [verb, ...args] = call.args;
    switch (verb) {
      case 'run': {
        const { sets, dryRun, background, live, rest } = options(args);
        if (rest.length !== 1) throw new UserError('usage: %batch run FILE [--set key=value ...] [--dry-run] [--background] [--live]');
        await launch(context, await loadBatchConfig(rest[0]!, { set: sets }), dryRun, background, live);
        return;
      }
      case 'list': {
        const result = await (await context.store()).query(
          `SELECT b.batch_id, b.name, b.status, b.created_at, b.finished_at,
                  (SELECT count(*) FROM process p WHERE p.batch_id = b.batch_id) AS processes
           FROM batch b ORDER BY b.batch_id`,
        );
        context.display({ 'text/html': htmlTable(result.columns, result.rows, 200), 'text/plain': textTable(result.columns, result.rows, 200) });
        return;
      }
      case 'show': {
        const id = batchIdArg(args[0]);
        if (id === undefined) throw new UserError('usage: %batch show ID');
        const result = await (await context.store()).query(
          `SELECT p.process_id, p.run, p.role, p.label, p.host, p.vm, p.policy, p.status, p.exit_code, p.signal, p.error,
                  (SELECT count(*) FROM line l WHERE l.process_id = p.process_id) AS lines
           FROM process p WHERE p.batch_id = $1 ORDER BY p.process_id`,
          [id],
        );
        if (result.rows.length === 0) throw new UserError(`no batch ${id} in ${context.storeFile}`);
        context.display({ 'text/html': htmlTable(result.columns, result.rows, 500), 'text/plain': textTable(result.columns, result.rows, 500) });
        return;
      }
      case 'kill':
      case 'wait': {
        const id = batchIdArg(args[0]) ?? [...running.keys()].pop();
        const batch = id === undefined ? undefined : running.get(id);
        if (!batch) throw new UserError(id === undefined ? 'no batch runs in the background in this kernel' : `batch ${id} does not run in the background in this kernel`);
        if (verb === 'kill') batch.controller.abort();
        const stop = () => batch.controller.abort();
        context.signal.addEventListener('abort', stop, { once: true });
        try {
          const outcome = await batch.done;
          if (verb === 'kill') process.stdout.write(`batch ${id} ${outcome.summary.status}: every process stopped, tuning restored, ${outcome.summary.lines} lines kept\n`);
          else await report(context, outcome);
        } finally {
          context.signal.removeEventListener('abort', stop);
        }
        return;
      }
      default:
        throw new UserError('usage: %%batch | %batch run FILE | list | show ID | kill [ID] | wait [ID]; see %batch?');
    }
  },
};

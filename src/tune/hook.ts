/**
 * Tune as a batch RunHook: before each run, discover the guests on every node
 * the run touches, apply the run's policy (recorded in `tuning`, journaled on
 * disk) and hand `{guest_pids}`/`{guest_tids}` to the runner; re-apply at the
 * policy's `reapply` interval; after the run (also after failures and
 * interrupts) restore every changed thread.
 */
import type { MachineMap, PolicySpec, Target } from '../batch/config/types.js';
import { parseDuration } from '../batch/config/duration.js';
import { nodeTarget } from '../batch/plan/targets.js';
import type { RunContext, RunHook } from '../batch/hooks.js';
import { UserError } from '../errors.js';
import type { ActionResult } from './apply.js';
import { startDynamicTuning, type DynamicPolicy, type DynamicTuning } from './dynamic.js';
import { startHillClimb, type HillClimb, type MoveRow } from './dynamic-climb.js';
import { missingMonitor } from './monitor-window.js';
import { climbScope } from './dynamic-check.js';
import { defaultJournalPath, entryKey, Journal } from './journal.js';
import { isNoOpPolicy } from './planner.js';
import { restoreEntries, type RestoreResult } from './restore.js';
import { applyPolicy, guestPlaceholders, reapplyPolicy, type TuneNode } from './session.js';

export interface TuneHookOptions {
  /** Where the restore journal lives (default: `.expert/tune/journal.json` beside the store). */
  journalPath?: string;
  /** I/O sampling window for `identify: {top}` without its own `window` (default 1 s). */
  ioWindowMs?: number;
  /** Dynamic policies by policy name: called at their interval during runs under that policy. */
  dynamic?: Record<string, { policy: DynamicPolicy; intervalMs?: number }>;
  /** Sees every applied action and restore outcome (progress displays, tests). */
  onApplied?(results: ActionResult[], context: RunContext): void;
  onRestored?(results: RestoreResult[], context: RunContext): void;
  /** Sees every move of a YAML `dynamic:` optimizer (also recorded in `dynamic_move`). */
  onMove?(row: MoveRow, context: RunContext): void;
}

interface ActiveRun {
  nodes: TuneNode[];
  journal: Journal;
  timer?: NodeJS.Timeout;
  reapplying?: Promise<unknown>;
  dynamic?: DynamicTuning;
  climb?: HillClimb;
  stopped: boolean;
}

export function parseWindow(value: string | number): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new UserError(`tune: ${(error as Error).message}`);
  }
}

/** The node targets a run touches: the node of each workload and monitor (guests are tuned on their node). */
export function runNodeTargets(context: Pick<RunContext, 'run' | 'config'>): Target[] {
  const names = new Set([...context.run.workloads, ...context.run.monitors].map((p) => p.target.node));
  return nodeTargets(context.config.machines, names);
}

export function nodeTargets(machines: MachineMap, names?: Set<string>): Target[] {
  return machines.nodes
    .filter((n) => !names || names.has(n.name))
    // The batch's own node targets: same host/port/user/ssh, and a `launcher: srun` node stays a Slurm step.
    .map((n) => nodeTarget(n, machines));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Threads a crashed earlier run left tuned (its process is gone) are restored before a new run starts. */
async function restoreOrphans(journal: Journal, context: RunContext): Promise<void> {
  const orphans = (await journal.entries()).filter((e) => e.owner.pid !== process.pid && !alive(e.owner.pid));
  if (orphans.length === 0) return;
  await restoreEntries(orphans, { executorFor: (target) => context.executors.get(target), journal, storeFor: (e) => (e.store === context.store.path ? context.store : undefined) });
}

export function createTuneHook(options: TuneHookOptions = {}): RunHook {
  const active = new Map<string, ActiveRun>();
  /** Batches this hook tuned in: a thread a failed restore left behind is retried after the next run. */
  const touched = new Set<number>();
  const runKey = (c: RunContext) => `${c.batchId}:${c.run.index}`;

  const isActive = (batchId: number, run: number | undefined) => active.has(`${batchId}:${run}`);

  return {
    async beforeRun(context) {
      const journal = new Journal(options.journalPath ?? defaultJournalPath(context.store.path));
      const targets = runNodeTargets(context);
      const nodes = await Promise.all(targets.map(async (target) => ({ node: target.node, target, executor: await context.executors.get(target) })));
      await restoreOrphans(journal, context);
      const state: ActiveRun = { nodes, journal, stopped: false };
      active.set(runKey(context), state);
      touched.add(context.batchId);
      const session = { store: context.store, batchId: context.batchId, run: context.run.index, journal, signal: context.signal, ioWindowMs: options.ioWindowMs };
      const policy: PolicySpec = context.policy;
      const applied = await applyPolicy(nodes, policy, session, parseWindow);
      options.onApplied?.(applied.results, context);

      if (policy.reapply !== undefined && !isNoOpPolicy(policy)) {
        const every = parseWindow(policy.reapply);
        if (every > 0) {
          const tuned = new Set(applied.results.map((r) => entryKey({ node: r.node, tid: r.tid, startTime: r.startTime })));
          const tick = () => {
            if (state.stopped || state.reapplying) return;
            state.reapplying = reapplyPolicy(nodes, applied.resolved, session, tuned)
              .then((results) => results.length && options.onApplied?.(results, context))
              .catch(() => undefined)
              .finally(() => (state.reapplying = undefined));
          };
          state.timer = setInterval(tick, every);
        }
      }
      const dynamic = options.dynamic?.[policy.name];
      if (dynamic) {
        state.dynamic = startDynamicTuning({ nodes, policy: dynamic.policy, intervalMs: dynamic.intervalMs ?? 1000, name: policy.name, store: context.store, batchId: context.batchId, run: context.run.index, journal, restoreAtStop: false });
      }
      if (policy.dynamic) {
        state.climb = startHillClimb({ nodes, spec: policy.dynamic, name: policy.name, store: context.store, batchId: context.batchId, run: context.run.index, journal, parseWindow, onMove: (row) => options.onMove?.(row, context) });
      }
      // A policy that should change something but found nothing to change would read as a treatment in every comparison.
      const warnings =
        !isNoOpPolicy(policy) && !policy.dynamic && !dynamic && applied.results.length === 0
          ? [`policy '${policy.name}' changed nothing: no guest thread on ${nodes.map((n) => n.node).join(', ')} matched its identify (see expert tune discover); its runs are untreated`]
          : [];
      const missing = policy.dynamic && missingMonitor(policy.dynamic.objective, context.config);
      if (missing) warnings.push(`policy '${policy.name}': ${missing}`);
      // Named guests not on this run's nodes, CPUs not online there: the climb leaves them out, and says so.
      if (policy.dynamic) warnings.push(...climbScope(policy.dynamic, applied.discoveries).warnings.map((w) => `policy '${policy.name}': ${w}`));
      return { placeholders: guestPlaceholders(applied.discoveries), warnings };
    },

    async afterRun(context) {
      const state = active.get(runKey(context));
      if (!state) return;
      active.delete(runKey(context));
      state.stopped = true;
      if (state.timer) clearInterval(state.timer);
      await state.reapplying;
      await state.dynamic?.stop();
      await state.climb?.stop();
      // This run's threads, and any an earlier run of this hook could not restore.
      const entries = (await state.journal.entries()).filter((e) => e.owner.pid === process.pid && e.batchId !== null && touched.has(e.batchId) && (e.batchId !== context.batchId || e.run === context.run.index || !isActive(e.batchId, e.run)));
      if (entries.length === 0) return;
      const byNode = new Map(state.nodes.map((n) => [n.node, n.executor]));
      const results = await restoreEntries(entries, {
        executorFor: async (target) => byNode.get(target.node) ?? context.executors.get(target),
        journal: state.journal,
        storeFor: () => context.store,
      });
      options.onRestored?.(results, context);
      const failed = results.filter((r) => r.outcome === 'failed');
      if (failed.length) {
        throw new Error(`could not restore ${failed.length} thread(s) (they stay in ${state.journal.path}; run \`expert tune restore\`): ${failed.slice(0, 3).map((f) => `${f.node} tid ${f.tid}: ${f.error}`).join('; ')}`);
      }
    },
  };
}


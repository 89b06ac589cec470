/**
 * Applies a node plan: journal first (write-ahead), then one script over the
 * node's executor, then read-back verification and one `tuning` row per
 * thread and action. Failures (no taskset, a thread that vanished, a lost
 * connection) become recorded outcomes, never exceptions.
 */
import type { Target } from '../batch/config/types.js';
import type { Executor } from '../batch/executor.js';
import type { ExpertStore } from '../store/types.js';
import type { ActionKind, ThreadAction, ThreadPlan } from './actions.js';
import { buildApplyScript, parseApplyOutput, type ThreadOutcome } from './apply-script.js';
import { entryKey, type Journal, type JournalEntry } from './journal.js';
import { actionReached, stateSlice } from './verify.js';
import type { ThreadKind } from './types.js';

export interface ActionResult {
  node: string;
  guest: string;
  pid: number;
  tid: number;
  startTime: number;
  threadKind: ThreadKind;
  action: ActionKind;
  before: unknown;
  after: unknown;
  verified: boolean;
  error?: string;
  appliedAt: number;
}

export interface ApplyContext {
  executor: Executor;
  node: string;
  target: Target;
  policy: string;
  store?: ExpertStore;
  batchId?: number | null;
  run?: number;
  journal?: Journal;
  timeoutMs?: number;
}

/** Runs the script and parses it; a script that could not run yields no outcomes and an error. */
export async function runThreadScript(executor: Executor, threads: Parameters<typeof buildApplyScript>[0], timeoutMs = 60_000): Promise<{ outcomes: Map<number, ThreadOutcome>; error?: string }> {
  try {
    const result = await executor.exec('sh -s', { stdin: buildApplyScript(threads), timeoutMs });
    const outcomes = parseApplyOutput(result.stdout);
    if (result.exitCode !== 0) return { outcomes, error: `tuning script on ${executor.name} ended with ${result.exitCode ?? result.signal}: ${result.stderr.trim().slice(0, 300)}` };
    return { outcomes };
  } catch (error) {
    return { outcomes: new Map(), error: `could not run the tuning script on ${executor.name}: ${(error as Error).message}` };
  }
}

export async function applyThreadPlans(threads: readonly ThreadPlan[], context: ApplyContext): Promise<ActionResult[]> {
  if (threads.length === 0) return [];
  const appliedAt = Date.now();
  const journaled = (plan: ThreadPlan): JournalEntry => ({
    node: context.node,
    target: context.target,
    batchId: context.batchId ?? null,
    ...(context.run === undefined ? {} : { run: context.run }),
    policy: context.policy,
    guest: plan.guest,
    pid: plan.pid,
    tid: plan.tid,
    startTime: plan.startTime,
    threadKind: plan.threadKind,
    kinds: [...new Set(plan.actions.map((a) => a.kind))],
    before: plan.restoreTo ?? plan.before,
    appliedAt,
    owner: { pid: process.pid },
    ...(context.store ? { store: context.store.path } : {}),
  });
  const fresh = context.journal ? await context.journal.add(threads.map(journaled)) : new Set<string>();

  const { outcomes, error: scriptError } = await runThreadScript(context.executor, threads, context.timeoutMs);
  const results: ActionResult[] = [];
  const goneKeys: string[] = [];
  for (const plan of threads) {
    const key = entryKey({ node: context.node, tid: plan.tid, startTime: plan.startTime });
    const outcome = outcomes.get(plan.tid);
    const gone = outcome?.gone === true && outcome.before === undefined;
    if (gone) goneKeys.push(key);
    if (outcome?.before && fresh.has(key) && context.journal && !plan.restoreTo) {
      // The exact state just before the first change replaces discovery's (older) reading.
      await context.journal.refineBefore(key, outcome.before);
    }
    for (const action of plan.actions) {
      const errors = outcome?.errors.filter((e) => e.action === action.kind).map((e) => e.message) ?? [];
      let error: string | undefined;
      if (!outcome) error = scriptError ?? 'the tuning script printed nothing for this thread';
      else if (gone) error = 'thread exited before it could be tuned (guest gone or thread ended)';
      else if (errors.length) error = errors.join('; ');
      else if (outcome.gone || !outcome.after) error = 'thread exited while being tuned';
      const verified = error === undefined && outcome?.after !== undefined && actionReached(action, outcome.after);
      if (!verified && error === undefined) error = 'read back from /proc does not match what was asked';
      const result: ActionResult = {
        node: context.node,
        guest: plan.guest,
        pid: plan.pid,
        tid: plan.tid,
        startTime: plan.startTime,
        threadKind: plan.threadKind,
        action: action.kind,
        before: stateSlice(action.kind, plan.restoreTo ?? outcome?.before ?? plan.before),
        after: { ...(stateSlice(action.kind, outcome?.after) ?? {}), requested: requestedOf(action), ...(error ? { error } : {}) },
        verified,
        appliedAt,
        ...(error ? { error } : {}),
      };
      results.push(result);
      if (context.store) {
        await context.store.recordTuning({
          batchId: context.batchId ?? null,
          host: context.node,
          guest: plan.guest,
          pid: plan.pid,
          tid: plan.tid,
          threadKind: plan.threadKind,
          action: action.kind,
          before: result.before,
          after: result.after,
          appliedAt,
          verified,
          ...(context.run === undefined ? {} : { run: context.run }),
          policy: context.policy,
        });
      }
    }
  }
  if (context.journal && goneKeys.length) await context.journal.remove(goneKeys);
  return results;
}

function requestedOf(action: ThreadAction): unknown {
  const { kind: _kind, ...rest } = action;
  return rest;
}

/**
 * Applies a node plan: journal first (write-ahead), then one script over the
 * node's executor, then read-back verification and one `tuning` row per
 * thread and action. Failures (no taskset, a thread that vanished, a lost
 * connection) become recorded outcomes, never exceptions. libvirt domains
 * in the plan are read (libvirt's live view) before the journal is written,
 * changed through virsh in the same script, and get one `cputune` row each
 * when their schedinfo changed.
 */
import type { Target } from '../batch/config/types.js';
import type { Executor } from '../batch/executor.js';
import type { ExpertStore } from '../store/types.js';
import type { ActionKind, DomainPlan, ThreadAction, ThreadPlan } from './actions.js';
import { cputuneOutcome, libvirtPinProblem, queryDomains, scriptDomainOf } from './apply-libvirt.js';
import { buildApplyScript, parseApplyOutput, parseDomainOutput, type DomainOutcome, type ScriptDomain, type ScriptThread, type ThreadOutcome } from './apply-script.js';
import { clipExplanation } from './cpuset-check.js';
import { entryKey, type Journal, type JournalEntry } from './journal.js';
import { actionReached, stateSlice } from './verify.js';
import type { LibvirtTune, ThreadKind } from './types.js';

export interface ActionResult {
  node: string;
  guest: string;
  pid: number;
  tid: number;
  startTime: number;
  /** `domain` for a row about a libvirt domain as a whole (cputune). */
  threadKind: ThreadKind | 'domain';
  action: ActionKind | 'cputune';
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
  /** libvirt domains to change through virsh (their threads are among the thread plans). */
  domains?: readonly DomainPlan[];
}

/** Runs the script and parses it; a script that could not run yields no outcomes and an error. */
export async function runThreadScript(executor: Executor, threads: readonly ScriptThread[], timeoutMs = 60_000, domains: readonly ScriptDomain[] = []): Promise<{ outcomes: Map<number, ThreadOutcome>; domains: Map<string, DomainOutcome>; error?: string }> {
  try {
    const result = await executor.exec('sh -s', { stdin: buildApplyScript(threads, domains), timeoutMs });
    const outcomes = parseApplyOutput(result.stdout);
    const domainOutcomes = parseDomainOutput(result.stdout);
    if (result.exitCode !== 0) return { outcomes, domains: domainOutcomes, error: `tuning script on ${executor.name} ended with ${result.exitCode ?? result.signal}: ${result.stderr.trim().slice(0, 300)}` };
    return { outcomes, domains: domainOutcomes };
  } catch (error) {
    return { outcomes: new Map(), domains: new Map(), error: `could not run the tuning script on ${executor.name}: ${(error as Error).message}` };
  }
}

/** libvirt's view before any change; a domain that cannot be read is left out (its threads keep taskset). */
async function domainsBefore(context: ApplyContext): Promise<{ plans: DomainPlan[]; before: Map<string, LibvirtTune> }> {
  const plans = context.domains ?? [];
  if (plans.length === 0) return { plans: [], before: new Map() };
  const before = await queryDomains(context.executor, plans, context.timeoutMs).catch(() => new Map<string, LibvirtTune>());
  return { plans: plans.filter((d) => before.has(d.uuid)), before };
}

export async function applyThreadPlans(threads: readonly ThreadPlan[], context: ApplyContext): Promise<ActionResult[]> {
  if (threads.length === 0 && !context.domains?.length) return [];
  const appliedAt = Date.now();
  const { plans: domains, before: libvirtBefore } = await domainsBefore(context);
  const throughLibvirt = (plan: ThreadPlan) => plan.libvirt !== undefined && domains.some((d) => d.uuid === plan.libvirt!.uuid && d.pins.some((p) => p.unit === plan.libvirt!.unit));
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
    ...(throughLibvirt(plan) ? { via: { backend: 'libvirt' as const, uuid: plan.libvirt!.uuid, unit: plan.libvirt!.unit } } : {}),
  });
  const domainJournaled = (d: DomainPlan): JournalEntry => {
    const main = threads.find((t) => t.tid === d.pid);
    return {
      node: context.node, target: context.target, batchId: context.batchId ?? null, ...(context.run === undefined ? {} : { run: context.run }),
      policy: context.policy, guest: d.guest, pid: d.pid, tid: d.pid, startTime: d.startTime, threadKind: 'emulator',
      kinds: [...(d.pins.length ? (['libvirt-pin'] as const) : []), ...(d.sched ? (['cputune'] as const) : [])],
      before: main?.before ?? { cpus: '', nice: 0, schedPolicy: 0, rtPriority: 0 },
      appliedAt, owner: { pid: process.pid }, ...(context.store ? { store: context.store.path } : {}),
      domain: { domain: d.domain, uuid: d.uuid, before: libvirtBefore.get(d.uuid)!, units: d.pins.map((p) => p.unit), sched: Object.keys(d.sched ?? {}) },
    };
  };
  const fresh = context.journal ? await context.journal.add([...domains.map(domainJournaled), ...threads.map(journaled)]) : new Set<string>();

  const scriptThreads = threads.map((t) => ({ ...t, pinnedByLibvirt: throughLibvirt(t) }));
  const { outcomes, domains: domainOutcomes, error: scriptError } = await runThreadScript(context.executor, scriptThreads, context.timeoutMs, domains.map(scriptDomainOf));
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
      if (error === undefined && action.kind === 'pin' && throughLibvirt(plan)) error = libvirtPinProblem(plan, action.cpus, domainOutcomes.get(plan.libvirt!.uuid));
      const reached = outcome?.after !== undefined && actionReached(action, outcome.after);
      const verified = error === undefined && reached;
      if (!verified && error === undefined) {
        error = (action.kind === 'pin' && clipExplanation(plan, action.cpus, outcome?.after?.cpus)) || 'read back from /proc does not match what was asked';
      } else if (error !== undefined && !reached && action.kind === 'pin' && outcome?.after && !throughLibvirt(plan)) {
        const clip = clipExplanation(plan, action.cpus, outcome.after.cpus);
        if (clip) error = `${clip} (${error})`;
      }
      const result: ActionResult = {
        node: context.node,
        guest: plan.guest,
        pid: plan.pid,
        tid: plan.tid,
        startTime: plan.startTime,
        threadKind: plan.threadKind,
        action: action.kind,
        before: stateSlice(action.kind, plan.restoreTo ?? outcome?.before ?? plan.before),
        after: { ...(stateSlice(action.kind, outcome?.after) ?? {}), requested: requestedOf(action), ...(action.kind === 'pin' && throughLibvirt(plan) ? { via: 'libvirt', unit: plan.libvirt!.unit } : {}), ...(error ? { error } : {}) },
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
  for (const d of domains) {
    const outcome = domainOutcomes.get(d.uuid);
    if (outcome?.gone) goneKeys.push(entryKey({ node: context.node, tid: d.pid, startTime: d.startTime, domain: true }));
    if (!d.sched) continue;
    const judged = cputuneOutcome(d, libvirtBefore.get(d.uuid), outcome);
    const error = judged.error ?? (outcome ? undefined : scriptError);
    const result: ActionResult = {
      node: context.node, guest: d.guest, pid: d.pid, tid: d.pid, startTime: d.startTime, threadKind: 'domain', action: 'cputune',
      before: { domain: d.domain, ...judged.before }, after: { domain: d.domain, ...judged.after, requested: d.sched, ...(error ? { error } : {}) },
      verified: error === undefined, appliedAt, ...(error ? { error } : {}),
    };
    results.push(result);
    if (context.store) {
      await context.store.recordTuning({
        batchId: context.batchId ?? null, host: context.node, guest: d.guest, pid: d.pid, tid: d.pid, threadKind: 'domain', action: 'cputune',
        before: result.before, after: result.after, appliedAt, verified: result.verified,
        ...(context.run === undefined ? {} : { run: context.run }), policy: context.policy,
      });
    }
  }
  if (context.journal && goneKeys.length) await context.journal.remove(goneKeys);
  return results;
}

function requestedOf(action: ThreadAction): unknown {
  const { kind: _kind, ...rest } = action;
  return rest;
}

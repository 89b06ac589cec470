/**
 * One policy over several nodes: discover everywhere, resolve `identify`
 * (names, all, or the cluster-wide top-k by I/O), plan per node, apply and
 * record. Also the re-apply pass that catches threads that appeared later.
 */
import type { PolicySpec, Target } from '../batch/config/types.js';
import type { Executor } from '../batch/executor.js';
import { UserError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { applyThreadPlans, type ActionResult } from './apply.js';
import { discoverNode } from './discover.js';
import type { ParsedDiscovery } from './discover-parse.js';
import { entryKey, type Journal } from './journal.js';
import { isNoOpPolicy, needsIoRates, planPolicy, validatePolicy, type NodePlan } from './planner.js';
import { sampleIoRates } from './sample.js';
import { actionReached } from './verify.js';

export interface TuneNode {
  node: string;
  target: Target;
  executor: Executor;
}

export interface SessionContext {
  store?: ExpertStore;
  batchId?: number | null;
  run?: number;
  journal?: Journal;
  signal?: AbortSignal;
  /** Window for `identify: {top: ...}` when the policy gives none (default 1 s). */
  ioWindowMs?: number;
}

export interface PolicyApplication {
  /** The policy with `identify` resolved to guest names (top-k fixed at apply time). */
  resolved: PolicySpec;
  discoveries: Map<string, ParsedDiscovery>;
  plans: NodePlan[];
  results: ActionResult[];
}

export async function discoverAll(nodes: readonly TuneNode[]): Promise<Map<string, ParsedDiscovery>> {
  const found = await Promise.all(nodes.map(async (n) => [n.node, await discoverNode(n.executor, n.node)] as const));
  return new Map(found);
}

/**
 * `guest vm9 runs on none of node1 (QEMU guests found: node1/vm1)` when some named guests run on none of the
 * discovered nodes (apply and search refuse them); undefined when each runs on one of them.
 */
export function guestsNowhere(named: readonly string[], discoveries: ReadonlyMap<string, ParsedDiscovery>): string | undefined {
  const all = [...discoveries.values()];
  const nowhere = named.filter((name) => !all.some((d) => d.guests.some((g) => g.name === name)));
  if (nowhere.length === 0) return undefined;
  const seen = all.flatMap((d) => d.guests.map((g) => `${d.node}/${g.name}`));
  return `guest${nowhere.length > 1 ? 's' : ''} ${nowhere.join(', ')} run${nowhere.length > 1 ? '' : 's'} on none of ${[...discoveries.keys()].join(', ')} (QEMU guests found: ${seen.join(', ') || 'none'})`;
}

/** Fixes a top-k identify to the guests that are the k busiest across all nodes right now. */
async function resolveIdentify(policy: PolicySpec, nodes: readonly TuneNode[], discoveries: Map<string, ParsedDiscovery>, context: SessionContext, parseWindow: (v: string | number) => number): Promise<PolicySpec> {
  if (!needsIoRates(policy)) return policy;
  const top = policy.identify!.top!;
  const windowMs = top.window === undefined ? (context.ioWindowMs ?? 1000) : parseWindow(top.window);
  const ranked: Array<{ name: string; rate: number }> = [];
  await Promise.all(
    nodes.map(async (n) => {
      const d = discoveries.get(n.node)!;
      const named = policy.identify?.vms && policy.identify.vms !== 'all' ? new Set(policy.identify.vms) : undefined;
      const guests = d.guests.filter((g) => !named || named.has(g.name));
      const rates = await sampleIoRates(n.executor, guests.map((g) => g.pid), windowMs, context.signal);
      for (const g of guests) ranked.push({ name: g.name, rate: rates.get(g.pid) ?? 0 });
    }),
  );
  ranked.sort((a, b) => b.rate - a.rate || a.name.localeCompare(b.name));
  const { top: _top, ...identify } = policy.identify!;
  return { ...policy, identify: { ...identify, vms: ranked.slice(0, top.k).map((r) => r.name) } };
}

export async function applyPolicy(nodes: readonly TuneNode[], policy: PolicySpec, context: SessionContext, parseWindow: (v: string | number) => number): Promise<PolicyApplication> {
  validatePolicy(policy);
  const discoveries = await discoverAll(nodes);
  if (isNoOpPolicy(policy)) return { resolved: policy, discoveries, plans: [], results: [] };
  const resolved = await resolveIdentify(policy, nodes, discoveries, context, parseWindow);
  const plans = nodes.map((n) => planPolicy(discoveries.get(n.node)!, resolved));
  const named = resolved.identify?.vms;
  if (Array.isArray(named) && !policy.identify?.top) {
    const nowhere = guestsNowhere(named, discoveries);
    if (nowhere) throw new UserError(`policy ${policy.name}: ${nowhere}`);
  }
  const results = (
    await Promise.all(
      nodes.map((n, i) => applyThreadPlans(plans[i]!.threads, { executor: n.executor, node: n.node, target: n.target, policy: policy.name, store: context.store, batchId: context.batchId, run: context.run, journal: context.journal, domains: plans[i]!.domains })),
    )
  ).flat();
  return { resolved, discoveries, plans, results };
}

/**
 * Re-discovers and applies the (resolved) policy to threads that were not
 * tuned yet (new worker threads) or drifted from what was asked.
 */
export async function reapplyPolicy(nodes: readonly TuneNode[], resolved: PolicySpec, context: SessionContext, tuned: Set<string>): Promise<ActionResult[]> {
  const discoveries = await discoverAll(nodes);
  const journaled = context.journal ? await context.journal.entries() : [];
  const all: ActionResult[] = [];
  for (const n of nodes) {
    const plan = planPolicy(discoveries.get(n.node)!, resolved);
    const stale = plan.threads.filter((t) => !tuned.has(entryKey({ node: n.node, tid: t.tid, startTime: t.startTime })) || !t.actions.every((a) => actionReached(a, t.before)));
    for (const t of stale) {
      if (tuned.has(entryKey({ node: n.node, tid: t.tid, startTime: t.startTime }))) continue;
      // A new thread inherited its creator's tuned state: restore it to the guest's untuned main-thread state.
      const main = journaled.find((e) => e.node === n.node && e.pid === t.pid && e.tid === t.pid && !e.domain);
      if (main) t.restoreTo = { ...t.before, cpus: main.before.cpus, nice: main.before.nice, schedPolicy: main.before.schedPolicy, rtPriority: main.before.rtPriority, ...(main.before.ionice ? { ionice: main.before.ionice } : {}) };
    }
    const results = await applyThreadPlans(stale, { executor: n.executor, node: n.node, target: n.target, policy: resolved.name, store: context.store, batchId: context.batchId, run: context.run, journal: context.journal });
    for (const t of stale) tuned.add(entryKey({ node: n.node, tid: t.tid, startTime: t.startTime }));
    all.push(...results);
  }
  return all;
}

/** `{guest_pids}` and `{guest_tids}` as the runner takes them (`values[placeholder][node]`): every QEMU guest on the node, comma-separated. */
export function guestPlaceholders(discoveries: Map<string, ParsedDiscovery>): Record<string, Record<string, string>> {
  const values: Record<string, Record<string, string>> = { guest_pids: {}, guest_tids: {} };
  for (const [node, d] of discoveries) {
    values.guest_pids![node] = d.guests.map((g) => g.pid).join(',');
    values.guest_tids![node] = d.guests.flatMap((g) => g.threads.filter((t) => t.pid === g.pid).map((t) => t.tid)).join(',');
  }
  return values;
}

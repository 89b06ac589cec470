/**
 * Dynamic policies: a user's TypeScript function, called at an interval with
 * a snapshot of the guests' activity, returns actions; each action is planned
 * and applied like a static policy (recorded, journaled) and everything is
 * undone at the end.
 */
import type { PolicySpec } from '../batch/config/types.js';
import type { ExpertStore } from '../store/types.js';
import type { ActionResult } from './apply.js';
import type { ParsedDiscovery } from './discover-parse.js';
import { Journal } from './journal.js';
import { planPolicy } from './planner.js';
import { applyThreadPlans } from './apply.js';
import { restoreEntries, type RestoreResult } from './restore.js';
import { ratesBetween, sampleCounters, type CounterSample, type GuestRates } from './sample.js';
import { discoverAll, type TuneNode } from './session.js';

export interface GuestSnapshot extends GuestRates {
  node: string;
  guest: string;
  threads: number;
}

export interface Snapshot {
  at: number;
  /** Time since the previous snapshot (the rates' window). */
  intervalMs: number;
  /** Calls so far, from 0. */
  tick: number;
  guests: GuestSnapshot[];
  discoveries: Map<string, ParsedDiscovery>;
}

/** What a dynamic policy asks for one guest; the fields mean what they mean in a static policy. */
export interface DynamicAction {
  guest: string;
  /** Needed only when two nodes have a guest of that name. */
  node?: string;
  pin?: PolicySpec['pin'];
  nice?: number;
  ionice?: PolicySpec['ionice'];
  chrt?: PolicySpec['chrt'];
  /** libvirt guests: schedinfo parameters (as a static policy's `cputune`). */
  cputune?: PolicySpec['cputune'];
}

export type DynamicPolicy = (snapshot: Snapshot) => DynamicAction[] | Promise<DynamicAction[]>;

export interface DynamicOptions {
  nodes: TuneNode[];
  policy: DynamicPolicy;
  intervalMs: number;
  /** Recorded as the `policy` of each action. */
  name: string;
  store?: ExpertStore;
  batchId?: number | null;
  run?: number;
  journal: Journal;
  /** Restore what this tuning changed when stopped (default true; the batch hook restores itself). */
  restoreAtStop?: boolean;
  onTick?(snapshot: Snapshot, results: ActionResult[]): void;
  onError?(error: unknown): void;
}

export interface DynamicTuning {
  /** Stops the timer, waits for a tick in progress, and (by default) restores. */
  stop(): Promise<RestoreResult[]>;
  readonly ticks: number;
  readonly results: readonly ActionResult[];
}

export function startDynamicTuning(options: DynamicOptions): DynamicTuning {
  let previous = new Map<string, CounterSample>();
  let tick = 0;
  let stopped = false;
  let running: Promise<void> | undefined;
  const results: ActionResult[] = [];

  const once = async () => {
    const discoveries = await discoverAll(options.nodes);
    const samples = new Map(await Promise.all(options.nodes.map(async (n) => [n.node, await sampleCounters(n.executor, discoveries.get(n.node)!.guests.map((g) => g.pid))] as const)));
    const guests: GuestSnapshot[] = [];
    let intervalMs = 0;
    for (const [node, sample] of samples) {
      const before = previous.get(node) ?? { ...sample, byPid: new Map() };
      intervalMs = Math.max(intervalMs, sample.at - before.at);
      const rates = ratesBetween(before, sample);
      for (const g of discoveries.get(node)!.guests) {
        const r = rates.get(g.pid) ?? { pid: g.pid, cpuPct: 0, readBps: 0, writeBps: 0, ioBps: 0, ctxSwitchesPerSec: 0 };
        guests.push({ ...r, node, guest: g.name, threads: g.threads.length });
      }
    }
    previous = samples;
    const snapshot: Snapshot = { at: Date.now(), intervalMs, tick, guests, discoveries };
    tick++;
    const actions = await options.policy(snapshot);
    const applied: ActionResult[] = [];
    for (const action of actions ?? []) {
      for (const n of options.nodes) {
        if (action.node !== undefined && action.node !== n.node) continue;
        const discovery = discoveries.get(n.node)!;
        if (!discovery.guests.some((g) => g.name === action.guest)) continue;
        const spec: PolicySpec = { name: options.name, identify: { vms: [action.guest] }, ...(action.pin ? { pin: action.pin } : {}), ...(action.nice === undefined ? {} : { nice: action.nice }), ...(action.ionice ? { ionice: action.ionice } : {}), ...(action.chrt ? { chrt: action.chrt } : {}), ...(action.cputune ? { cputune: action.cputune } : {}) };
        const plan = planPolicy(discovery, spec);
        applied.push(...(await applyThreadPlans(plan.threads, { executor: n.executor, node: n.node, target: n.target, policy: options.name, store: options.store, batchId: options.batchId, run: options.run, journal: options.journal, domains: plan.domains })));
      }
    }
    results.push(...applied);
    options.onTick?.(snapshot, applied);
  };

  const step = () => {
    if (stopped || running) return;
    running = once()
      .catch((error) => options.onError?.(error))
      .finally(() => (running = undefined));
  };
  step();
  const timer = setInterval(step, options.intervalMs);

  return {
    get ticks() {
      return tick;
    },
    results,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      if (options.restoreAtStop === false) return [];
      const mine = (await options.journal.entries()).filter((e) => e.policy === options.name && e.owner.pid === process.pid && (options.batchId === undefined || e.batchId === (options.batchId ?? null)));
      const byNode = new Map(options.nodes.map((n) => [n.node, n.executor]));
      return restoreEntries(mine, { executorFor: async (t) => byNode.get(t.node)!, journal: options.journal, storeFor: () => options.store });
    },
  };
}

export { Journal };

/**
 * Pure policy planning: (what discovery saw on a node, a policy) → which
 * threads get which actions. No effects here; apply.ts runs the plan.
 */
import type { PolicySpec } from '../batch/config/types.js';
import { UserError } from '../errors.js';
import { formatCpuList, parseCpuList } from './cpu-list.js';
import type { DomainPlan, IoniceClass, SchedPolicyName, ThreadAction, ThreadPlan } from './actions.js';
import { refuseOutsideCpusets } from './cpuset-check.js';
import { checkCputuneTargets, routeThroughLibvirt } from './libvirt-plan.js';
import { SCHED_PARAMS } from './libvirt-view.js';
import type { GuestInfo, NodeDiscovery, ThreadInfo, ThreadKind } from './types.js';

export interface NodePlan {
  node: string;
  policy: string;
  /** Guests the policy's `identify` selected on this node. */
  guests: string[];
  threads: ThreadPlan[];
  /** libvirt domains whose pinning / schedinfo changes through libvirt (their threads are in `threads` too). */
  domains: DomainPlan[];
  /** Named guests that are not on this node (they may be on another one). */
  missing: string[];
}

export interface PlanInputs {
  /** I/O bytes per second per guest PID, for `identify: {top: ...}`. */
  ioRates?: ReadonlyMap<number, number>;
}

/** A policy that changes nothing (a baseline). */
export function isNoOpPolicy(policy: PolicySpec): boolean {
  return policy.pin === undefined && policy.nice === undefined && policy.ionice === undefined && policy.chrt === undefined && (policy.cputune === undefined || Object.keys(policy.cputune).length === 0);
}

export function needsIoRates(policy: PolicySpec): boolean {
  return policy.identify?.top !== undefined && !isNoOpPolicy(policy);
}

export function selectGuests(discovery: NodeDiscovery, policy: PolicySpec, inputs: PlanInputs = {}): { guests: GuestInfo[]; missing: string[] } {
  const identify = policy.identify;
  let candidates = discovery.guests;
  let missing: string[] = [];
  if (identify?.vms !== undefined && identify.vms !== 'all') {
    const wanted = new Set(identify.vms);
    candidates = discovery.guests.filter((g) => wanted.has(g.name));
    missing = identify.vms.filter((name) => !discovery.guests.some((g) => g.name === name));
  }
  if (identify?.top) {
    const { k } = identify.top;
    if (!Number.isInteger(k) || k < 1) throw new UserError(`policy ${policy.name}: identify.top.k must be a whole number >= 1, got ${k}`);
    const rates = inputs.ioRates;
    if (!rates) throw new UserError(`policy ${policy.name}: identify.top needs I/O rates (internal: none were sampled)`);
    candidates = [...candidates]
      .sort((a, b) => (rates.get(b.pid) ?? 0) - (rates.get(a.pid) ?? 0) || a.name.localeCompare(b.name))
      .slice(0, k);
  }
  return { guests: candidates, missing };
}

function pinKinds(policy: PolicySpec): 'all' | Set<ThreadKind> {
  const threads = policy.pin?.threads ?? 'all';
  if (threads === 'all') return 'all';
  const list = Array.isArray(threads) ? threads : [threads];
  for (const kind of list) {
    if (!['vcpu', 'iothread', 'emulator', 'worker', 'vhost'].includes(kind)) {
      throw new UserError(`policy ${policy.name}: pin.threads: expected all, vcpu, iothread, emulator (or a list of them), got '${String(kind)}'`);
    }
  }
  return new Set(list as ThreadKind[]);
}

const IONICE_CLASSES: Record<string, IoniceClass> = { realtime: 'realtime', 'best-effort': 'best-effort', idle: 'idle', '1': 'realtime', '2': 'best-effort', '3': 'idle' };
const SCHED_POLICIES: readonly SchedPolicyName[] = ['other', 'fifo', 'rr', 'batch', 'idle'];

/** `5 not online on node1 (it has CPUs 0-1)` when some of `cpus` are not among the node's online CPUs (apply and search refuse them). */
export function cpusNotOnline(cpus: readonly number[], cpusOnNode: readonly number[], node: string): string | undefined {
  const absent = cpus.filter((c) => !cpusOnNode.includes(c));
  return absent.length ? `${absent.join(',')} not online on ${node} (it has CPUs ${formatCpuList(cpusOnNode)})` : undefined;
}

/** The CPUs discovery saw online on a node (undefined when it read none: nothing to check against). */
export function onlineCpus(discovery: NodeDiscovery): number[] | undefined {
  return discovery.topology.cpus.length ? discovery.topology.cpus.map((c) => c.cpu) : undefined;
}

/** Checks the policy's values once, so a bad policy fails before any node is touched. */
export function validatePolicy(policy: PolicySpec, cpusOnNode?: readonly number[], node?: string): void {
  const where = `policy ${policy.name}`;
  if (policy.pin) {
    const cpus = policy.pin.cpus as unknown;
    if (!Array.isArray(cpus) || cpus.length === 0 || !cpus.every((c) => Number.isInteger(c) && c >= 0)) {
      throw new UserError(`${where}: pin.cpus must be a non-empty list of CPU numbers, got ${JSON.stringify(cpus)}`);
    }
    const offline = cpusOnNode ? cpusNotOnline(cpus as number[], cpusOnNode, node ?? '?') : undefined;
    if (offline) throw new UserError(`${where}: pin.cpus ${offline}`);
    pinKinds(policy);
  }
  if (policy.nice !== undefined && (!Number.isInteger(policy.nice) || policy.nice < -20 || policy.nice > 19)) {
    throw new UserError(`${where}: nice must be a whole number from -20 to 19, got ${policy.nice}`);
  }
  if (policy.ionice) {
    if (IONICE_CLASSES[String(policy.ionice.class)] === undefined) throw new UserError(`${where}: ionice.class must be realtime, best-effort or idle (or 1, 2, 3), got '${policy.ionice.class}'`);
    const level = policy.ionice.level ?? 4;
    if (!Number.isInteger(level) || level < 0 || level > 7) throw new UserError(`${where}: ionice.level must be 0..7, got ${level}`);
  }
  if (policy.chrt) {
    if (!SCHED_POLICIES.includes(policy.chrt.policy)) throw new UserError(`${where}: chrt.policy must be one of ${SCHED_POLICIES.join(', ')}, got '${policy.chrt.policy}'`);
    const realtime = policy.chrt.policy === 'fifo' || policy.chrt.policy === 'rr';
    const priority = policy.chrt.priority ?? (realtime ? 1 : 0);
    if (!Number.isInteger(priority) || (realtime ? priority < 1 || priority > 99 : priority !== 0)) {
      throw new UserError(`${where}: chrt.priority must be 1..99 for fifo/rr and 0 otherwise, got ${priority}`);
    }
  }
  if (policy.cputune) {
    for (const [key, value] of Object.entries(policy.cputune)) {
      if (!(SCHED_PARAMS as readonly string[]).includes(key)) throw new UserError(`${where}: cputune.${key}: expected one of ${SCHED_PARAMS.join(', ')} (virsh schedinfo's names)`);
      if (!Number.isInteger(value) || (value as number) < (key.endsWith('_quota') ? -1 : 0)) throw new UserError(`${where}: cputune.${key} must be a whole number${key.endsWith('_quota') ? ' (-1 for no limit)' : ' >= 0'}, got ${value}`);
    }
  }
}

function actionsFor(thread: ThreadInfo, policy: PolicySpec, kinds: 'all' | Set<ThreadKind>): ThreadAction[] {
  const actions: ThreadAction[] = [];
  if (policy.pin && (kinds === 'all' || kinds.has(thread.kind))) actions.push({ kind: 'pin', cpus: formatCpuList(policy.pin.cpus) });
  // Niceness is per thread on Linux: every thread of the guest gets it.
  if (policy.nice !== undefined) actions.push({ kind: 'nice', nice: policy.nice });
  if (policy.ionice) actions.push({ kind: 'ionice', class: IONICE_CLASSES[String(policy.ionice.class)]!, level: policy.ionice.level ?? 4 });
  if (policy.chrt) {
    const realtime = policy.chrt.policy === 'fifo' || policy.chrt.policy === 'rr';
    actions.push({ kind: 'chrt', policy: policy.chrt.policy, priority: policy.chrt.priority ?? (realtime ? 1 : 0) });
  }
  return actions;
}

export function planPolicy(discovery: NodeDiscovery, policy: PolicySpec, inputs: PlanInputs = {}): NodePlan {
  validatePolicy(policy, onlineCpus(discovery), discovery.node);
  if (isNoOpPolicy(policy)) return { node: discovery.node, policy: policy.name, guests: [], threads: [], domains: [], missing: [] };
  const { guests, missing } = selectGuests(discovery, policy, inputs);
  const kinds = pinKinds(policy);
  const cputune = policy.cputune && Object.keys(policy.cputune).length ? (policy.cputune as Record<string, number>) : undefined;
  if (cputune) checkCputuneTargets(policy.name, discovery.node, guests);
  const threads: ThreadPlan[] = [];
  const domains: DomainPlan[] = [];
  for (const guest of guests) {
    const planned: ThreadPlan[] = [];
    for (const thread of guest.threads) {
      const actions = actionsFor(thread, policy, kinds);
      if (actions.length === 0) continue;
      planned.push({
        guest: guest.name, pid: thread.pid, tid: thread.tid, startTime: thread.startTime, threadKind: thread.kind, comm: thread.comm, actions, before: thread.state,
        ...(thread.cgroup === undefined ? {} : { cgroup: thread.cgroup }),
        ...(thread.allowedCpus === undefined ? {} : { allowedCpus: thread.allowedCpus }),
      });
    }
    const routed = routeThroughLibvirt(guest, planned, policy.pin ? formatCpuList(policy.pin.cpus) : undefined, cputune);
    threads.push(...routed.threads);
    if (routed.domain) domains.push(routed.domain);
  }
  refuseOutsideCpusets(policy.name, discovery.node, threads);
  return { node: discovery.node, policy: policy.name, guests: guests.map((g) => g.name), threads, domains, missing };
}

/** Parses a CPU list given as text (`0-3,6`) or numbers, for CLI and YAML input. */
export function cpusOf(value: string | number | number[]): number[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'number') return [value];
  return parseCpuList(value);
}

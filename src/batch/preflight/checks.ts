/**
 * Pre-flight checks: is a node quiet and fixed enough that its numbers mean
 * something? Pure: NodeFacts in, one verdict per check out. `ok: null` means
 * the node does not expose the setting (e.g. no cpufreq inside a guest): it is
 * recorded, and never refuses a strict batch.
 */
import type { NodeFacts } from './facts.js';

export interface CheckResult {
  check: 'governor' | 'turbo' | 'swap' | 'load' | 'smt' | 'cpus' | 'thp' | 'virtualization';
  ok: boolean | null;
  /** The batch cannot do what its config says (a policy pins to a CPU the node lacks): refused even without `strict`. */
  fatal?: boolean;
  /** What was found, in a few words. */
  value: string;
  /** Why it matters or what to do, when not ok. */
  detail?: string;
}

export interface CheckContext {
  /** CPUs some policy pins to (every node's). */
  pinnedCpus: readonly number[];
  /** The machine map gives this node guests. */
  hasGuests: boolean;
}

/** 1-minute load average above this share of the cores counts as other runnable load. */
export const LOAD_PER_CORE_LIMIT = 0.25;

export function judgeNode(facts: NodeFacts, context: CheckContext): CheckResult[] {
  const results: CheckResult[] = [governor(facts), turbo(facts), swap(facts), load(facts)];
  if (context.pinnedCpus.length > 0) results.push(cpusExist(facts, context.pinnedCpus), smt(facts, context.pinnedCpus));
  results.push(thp(facts), virtualization(facts, context.hasGuests));
  return results;
}

function governor(facts: NodeFacts): CheckResult {
  const entries = Object.entries(facts.governors);
  if (entries.length === 0) return { check: 'governor', ok: null, value: 'no cpufreq' };
  const other = entries.filter(([, g]) => g !== 'performance');
  if (other.length === 0) return { check: 'governor', ok: true, value: 'performance' };
  const names = [...new Set(other.map(([, g]) => g))].join(', ');
  return { check: 'governor', ok: false, value: names, detail: `CPU frequency governor ${names} on ${other.length} of ${entries.length} CPUs: the clock follows the load; set performance (cpupower frequency-set -g performance)` };
}

function turbo(facts: NodeFacts): CheckResult {
  if (facts.noTurbo !== undefined) {
    return facts.noTurbo === 1 ? { check: 'turbo', ok: true, value: 'off' } : { check: 'turbo', ok: false, value: 'on', detail: 'turbo boost is on (intel_pstate/no_turbo = 0): the clock depends on temperature and load; echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo' };
  }
  if (facts.boost !== undefined) {
    return facts.boost === 0 ? { check: 'turbo', ok: true, value: 'off' } : { check: 'turbo', ok: false, value: 'on', detail: 'CPU boost is on (cpufreq/boost = 1): the clock depends on temperature and load; echo 0 > /sys/devices/system/cpu/cpufreq/boost' };
  }
  return { check: 'turbo', ok: null, value: 'not exposed' };
}

function swap(facts: NodeFacts): CheckResult {
  if (facts.swapUsedKb === undefined) return { check: 'swap', ok: null, value: 'unknown' };
  if (facts.swapUsedKb <= 0) return { check: 'swap', ok: true, value: '0 kB' };
  return { check: 'swap', ok: false, value: `${facts.swapUsedKb} kB`, detail: `${facts.swapUsedKb} kB of swap in use: paging competes with the I/O being measured; free memory or swapoff -a && swapon -a` };
}

function load(facts: NodeFacts): CheckResult {
  if (facts.load1 === undefined || facts.cores === undefined) return { check: 'load', ok: null, value: 'unknown' };
  // The probe itself is one runnable task.
  const others = facts.procsRunning === undefined ? undefined : Math.max(0, facts.procsRunning - 1);
  const value = `loadavg ${facts.load1} on ${facts.cores} cores${others === undefined ? '' : `, ${others} other runnable now`}`;
  if (facts.load1 <= LOAD_PER_CORE_LIMIT * facts.cores) return { check: 'load', ok: true, value };
  return { check: 'load', ok: false, value, detail: `other runnable load (${value}, above ${LOAD_PER_CORE_LIMIT} per core): something else is running on this node` };
}

function cpusExist(facts: NodeFacts, pinned: readonly number[]): CheckResult {
  const online = Object.keys(facts.siblings).map(Number).sort((a, b) => a - b);
  const missing = [...new Set(pinned)].filter((cpu) => facts.siblings[cpu] === undefined).sort((a, b) => a - b);
  const value = `pinned CPUs ${[...new Set(pinned)].join(', ')}; online ${online.join(', ') || 'unknown'}`;
  if (online.length === 0) return { check: 'cpus', ok: null, value };
  if (missing.length === 0) return { check: 'cpus', ok: true, value };
  return { check: 'cpus', ok: false, fatal: true, value, detail: `a policy pins to CPU ${missing.join(', ')}, which this node does not have online (online: ${online.join(', ')}): fix the policy's pin: cpus` };
}

function smt(facts: NodeFacts, pinned: readonly number[]): CheckResult {
  const problems: string[] = [];
  for (const cpu of [...new Set(pinned)].sort((a, b) => a - b)) {
    const siblings = facts.siblings[cpu];
    if (siblings === undefined) continue; // cpusExist says so
    else if (siblings.some((s) => s !== cpu)) problems.push(`CPU ${cpu} shares its core with CPU ${siblings.filter((s) => s !== cpu).join(', ')} (SMT)`);
  }
  const value = `pinned CPUs ${[...new Set(pinned)].filter((cpu) => facts.siblings[cpu] !== undefined).join(', ')}`;
  if (problems.length === 0) return { check: 'smt', ok: true, value: `${value}: no SMT siblings` };
  return { check: 'smt', ok: false, value, detail: `${problems.join('; ')}: work on a sibling slows the pinned thread; pin to whole cores or switch SMT off (echo off > /sys/devices/system/cpu/smt/control)` };
}

function thp(facts: NodeFacts): CheckResult {
  if (facts.thp === undefined) return { check: 'thp', ok: null, value: 'not exposed' };
  if (facts.thp !== 'always') return { check: 'thp', ok: true, value: facts.thp };
  return { check: 'thp', ok: false, value: 'always', detail: 'transparent huge pages = always: khugepaged compaction adds pauses at random times; echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' };
}

function virtualization(facts: NodeFacts, hasGuests: boolean): CheckResult {
  const tcg = facts.qemu.filter((a) => a === 'tcg').length;
  const value = `/dev/kvm ${facts.kvm ?? 'unknown'}${facts.qemu.length ? `, ${facts.qemu.length} QEMU (${facts.qemu.length - tcg} KVM, ${tcg} TCG)` : ''}`;
  // QEMU processes on a node the machine map gives no guests are not the experiment's (the load check sees their work).
  if (tcg > 0 && hasGuests) return { check: 'virtualization', ok: false, value, detail: `${tcg} QEMU guest(s) run under TCG (emulation, no KVM): their figures are not those of a virtualized host` };
  if (hasGuests && facts.kvm !== 'usable') return { check: 'virtualization', ok: false, value, detail: 'the node has guests but /dev/kvm is not usable: they cannot run with KVM' };
  return { check: 'virtualization', ok: hasGuests || facts.qemu.length ? true : null, value };
}

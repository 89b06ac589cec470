/**
 * Pure check of a plan against the cgroup cpusets its threads live in: the
 * kernel refuses (EINVAL) an affinity with no CPU of the thread's cpuset and
 * silently clips one with some CPUs outside it. So a pin asking for a CPU
 * outside the allowed set is refused here, before anything changes, naming
 * the cgroup. Pins that go through libvirt are exempt: libvirt moves the
 * cgroup's cpuset with the affinity.
 */
import { UserError } from '../errors.js';
import { formatCpuList, parseCpuList } from './cpu-list.js';
import type { ThreadPlan } from './actions.js';

export interface CpusetViolation {
  plan: ThreadPlan;
  outside: number[];
}

export function cpusetViolations(plans: readonly ThreadPlan[]): CpusetViolation[] {
  const out: CpusetViolation[] = [];
  for (const plan of plans) {
    if (plan.libvirt || plan.allowedCpus === undefined) continue;
    const allowed = new Set(parseCpuList(plan.allowedCpus));
    for (const action of plan.actions) {
      if (action.kind !== 'pin') continue;
      const outside = parseCpuList(action.cpus).filter((c) => !allowed.has(c));
      if (outside.length) out.push({ plan, outside });
    }
  }
  return out;
}

export function refuseOutsideCpusets(policy: string, node: string, plans: readonly ThreadPlan[]): void {
  const violations = cpusetViolations(plans);
  if (violations.length === 0) return;
  // One line per cgroup: the threads in it and what it allows.
  const byCgroup = new Map<string, CpusetViolation[]>();
  for (const v of violations) byCgroup.set(v.plan.cgroup ?? '?', [...(byCgroup.get(v.plan.cgroup ?? '?') ?? []), v]);
  const lines = [...byCgroup].map(([cgroup, vs]) => {
    const first = vs[0]!.plan;
    const tids = vs.map((v) => `${v.plan.tid} (${v.plan.comm})`);
    return `  guest ${first.guest}: cgroup ${cgroup} allows CPUs ${first.allowedCpus}, not ${formatCpuList(vs.flatMap((v) => v.outside))}: thread${tids.length > 1 ? 's' : ''} ${tids.slice(0, 6).join(', ')}${tids.length > 6 ? `, ... (${tids.length} in all)` : ''}`;
  });
  throw new UserError(`policy ${policy} on ${node}: refused before any change: the pin asks for CPUs that the threads' cgroup cpuset does not allow (the kernel would refuse or silently clip it):\n${lines.join('\n')}\nPin within the allowed CPUs, or widen the cgroup's cpuset (cpuset.cpus) first.`);
}

/** Why a pin that did not verify came out as it did: a read-back that is the request clipped to the cpuset. */
export function clipExplanation(plan: Pick<ThreadPlan, 'cgroup' | 'allowedCpus'>, requested: string, got: string | undefined): string | undefined {
  if (got === undefined || plan.allowedCpus === undefined) return undefined;
  const allowed = new Set(parseCpuList(plan.allowedCpus));
  const clipped = formatCpuList(parseCpuList(requested).filter((c) => allowed.has(c)));
  if (clipped === '' || clipped === formatCpuList(parseCpuList(requested))) return undefined;
  return formatCpuList(parseCpuList(got)) === clipped ? `the kernel clipped the affinity to ${clipped}: cgroup ${plan.cgroup ?? '?'} allows only CPUs ${plan.allowedCpus}` : undefined;
}

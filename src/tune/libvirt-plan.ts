/**
 * Pure planning for guests libvirt manages: a pin goes through libvirt
 * (`virsh vcpupin|iothreadpin|emulatorpin --live`), one libvirt unit at a
 * time. libvirt pins a unit by setting its cgroup's cpuset, which moves EVERY
 * thread in that cgroup (the emulator cgroup holds the main thread, workers,
 * call_rcu, the monitor IOThread; an IOThread's cgroup its worker too), so
 * those threads are all planned (and journaled) with the pin.
 */
import { UserError } from '../errors.js';
import type { DomainPlan, ThreadAction, ThreadPlan } from './actions.js';
import type { GuestInfo, LibvirtUnit } from './types.js';

export function mainStartTime(guest: GuestInfo): number {
  return guest.threads.find((t) => t.tid === guest.pid)?.startTime ?? 0;
}

/**
 * Routes one libvirt guest's planned pins through libvirt: every thread of a
 * unit that has a selected thread gets the pin (marked `libvirt`), and the
 * domain plan lists the units. Threads with no libvirt unit keep taskset.
 */
export function routeThroughLibvirt(guest: GuestInfo, plans: ThreadPlan[], pinCpus: string | undefined, cputune: Record<string, number> | undefined): { threads: ThreadPlan[]; domain?: DomainPlan } {
  const lv = guest.libvirt;
  if (!lv || !lv.uuid) return { threads: plans };
  const units = new Set<LibvirtUnit>();
  if (pinCpus !== undefined) {
    for (const p of plans) {
      const unit = guest.threads.find((t) => t.tid === p.tid)?.libvirtUnit;
      if (unit && p.actions.some((a) => a.kind === 'pin')) units.add(unit);
    }
  }
  const byTid = new Map(plans.map((p) => [p.tid, p]));
  for (const thread of guest.threads) {
    if (!thread.libvirtUnit || !units.has(thread.libvirtUnit)) continue;
    let plan = byTid.get(thread.tid);
    if (!plan) {
      plan = { guest: guest.name, pid: thread.pid, tid: thread.tid, startTime: thread.startTime, threadKind: thread.kind, comm: thread.comm, actions: [], before: thread.state };
      byTid.set(thread.tid, plan);
    }
    if (!plan.actions.some((a) => a.kind === 'pin')) plan.actions = [{ kind: 'pin', cpus: pinCpus! } as ThreadAction, ...plan.actions];
    plan.libvirt = { domain: lv.domain, uuid: lv.uuid, unit: thread.libvirtUnit };
  }
  const threads = [...byTid.values()].sort((a, b) => a.tid - b.tid);
  const sched = cputune && Object.keys(cputune).length ? cputune : undefined;
  if (units.size === 0 && !sched) return { threads };
  const order = (u: LibvirtUnit) => (u === 'emulator' ? [2, 0] : [u.startsWith('vcpu') ? 0 : 1, Number(u.split(':')[1])]);
  const pins = [...units].sort((a, b) => order(a)[0]! - order(b)[0]! || order(a)[1]! - order(b)[1]!).map((unit) => ({ unit, cpus: pinCpus! }));
  return { threads, domain: { guest: guest.name, domain: lv.domain, uuid: lv.uuid, pid: guest.pid, startTime: mainStartTime(guest), pins, ...(sched ? { sched } : {}) } };
}

/** `cputune` is libvirt's: a plain QEMU guest among the selected ones is a mistake to report, not skip. */
export function checkCputuneTargets(policyName: string, node: string, guests: readonly GuestInfo[]): void {
  const plain = guests.filter((g) => !g.libvirt?.uuid);
  if (plain.length === 0) return;
  throw new UserError(`policy ${policyName}: cputune sets libvirt's schedinfo, and ${plain.map((g) => g.name).join(', ')} on ${node} ${plain.length > 1 ? 'are' : 'is'} not run by a libvirtd (manager qemu${plain.some((g) => g.libvirt) ? ', or its status XML is unreadable' : ''}); pick libvirt guests with identify.vms`);
}

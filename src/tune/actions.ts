/**
 * What Tune does to one thread, and the state it expects afterwards.
 * Shared by the planner (pure), the script builder and the restore path.
 */
import type { LibvirtUnit, ThreadKind, ThreadState } from './types.js';

export type ActionKind = 'pin' | 'nice' | 'ionice' | 'chrt';
/** What Tune changes on a libvirt domain as a whole: its live pinning (per unit) and its `schedinfo` parameters. */
export type DomainActionKind = 'libvirt-pin' | 'cputune';
export type IoniceClass = NonNullable<ThreadState['ionice']>['class'];
export type SchedPolicyName = 'other' | 'fifo' | 'rr' | 'batch' | 'idle';

export type ThreadAction =
  | { kind: 'pin'; cpus: string }
  | { kind: 'nice'; nice: number }
  | { kind: 'ionice'; class: IoniceClass; level: number }
  | { kind: 'chrt'; policy: SchedPolicyName; priority: number };

/** One thread and what to do to it. */
export interface ThreadPlan {
  guest: string;
  pid: number;
  tid: number;
  /** Guards against a reused TID: the thread must still have this start time. */
  startTime: number;
  threadKind: ThreadKind;
  comm: string;
  actions: ThreadAction[];
  /** The state discovery saw (the journal's write-ahead before-state). */
  before: ThreadState;
  /**
   * The state to restore to when it is not the thread's current one: a thread
   * created after tuning began inherited its creator's tuned affinity/nice, so
   * its true "before" is the untuned state of the guest's main thread.
   */
  restoreTo?: ThreadState;
  /** The thread's cpuset cgroup and the CPUs it allows (a pin outside them is refused before anything changes). */
  cgroup?: string;
  allowedCpus?: string;
  /** Set when the thread's pin goes through libvirt (`virsh vcpupin|iothreadpin|emulatorpin --live`). */
  libvirt?: { domain: string; uuid: string; unit: LibvirtUnit };
}

/** What to do to one libvirt domain: pin units live, set schedinfo parameters live. */
export interface DomainPlan {
  guest: string;
  domain: string;
  uuid: string;
  /** The QEMU process and its start time (a restarted domain is a different one). */
  pid: number;
  startTime: number;
  pins: Array<{ unit: LibvirtUnit; cpus: string }>;
  sched?: Record<string, number>;
}

export const SCHED_POLICY_NUMBER: Record<SchedPolicyName, number> = { other: 0, fifo: 1, rr: 2, batch: 3, idle: 5 };
export const SCHED_POLICY_NAME: Record<number, SchedPolicyName> = { 0: 'other', 1: 'fifo', 2: 'rr', 3: 'batch', 5: 'idle' };
export const IONICE_CLASS_NUMBER: Record<IoniceClass, number> = { none: 0, realtime: 1, 'best-effort': 2, idle: 3 };

/** The actions that put a thread back into `state`, for the kinds that were changed. */
export function restoreActions(state: ThreadState, kinds: readonly ActionKind[]): ThreadAction[] {
  const actions: ThreadAction[] = [];
  for (const kind of kinds) {
    if (kind === 'pin') actions.push({ kind, cpus: state.cpus });
    else if (kind === 'nice') actions.push({ kind, nice: state.nice });
    else if (kind === 'ionice') actions.push({ kind, class: state.ionice?.class ?? 'none', level: state.ionice?.level ?? 0 });
    else if (kind === 'chrt') actions.push({ kind, policy: SCHED_POLICY_NAME[state.schedPolicy] ?? 'other', priority: state.rtPriority });
  }
  return actions;
}

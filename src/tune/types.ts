/**
 * What Tune knows about a node: its QEMU guests, their host threads and the
 * node's CPU topology, plus the per-thread state Tune changes and restores.
 */

export type ThreadKind = 'vcpu' | 'iothread' | 'emulator' | 'worker' | 'vhost' | 'other';

/** The parts of a thread's scheduling state Tune may change (and must restore). */
export interface ThreadState {
  /** Exactly as /proc/PID/task/TID/status prints Cpus_allowed_list (e.g. `0-1`). */
  cpus: string;
  nice: number;
  /** Scheduling policy number from stat field 41 (0 other, 1 fifo, 2 rr, 3 batch, 5 idle). */
  schedPolicy: number;
  /** Real-time priority from stat field 40. */
  rtPriority: number;
  /** I/O class/level as `ionice -p` reports it; only read when a policy sets ionice. */
  ionice?: { class: 'none' | 'realtime' | 'best-effort' | 'idle'; level: number };
}

export interface ThreadInfo {
  pid: number;
  tid: number;
  comm: string;
  kind: ThreadKind;
  /** vCPU index for `CPU n/KVM` threads. */
  vcpu?: number;
  /** iothread id for `IO <id>` threads (as far as the 15-character comm keeps it). */
  iothread?: string;
  /** Thread start time (stat field 22, clock ticks since boot): tells a reused TID apart. */
  startTime: number;
  state: ThreadState;
  /** The thread's cpuset cgroup (the v1 cpuset hierarchy's path, else the v2 path), when the node shows it. */
  cgroup?: string;
  /** `v1` or `v2`: which hierarchy `cgroup` is in. */
  cgroupVersion?: 'v1' | 'v2';
  /** The CPUs that cgroup's cpuset lets the thread run on (its effective CPUs); absent when unknown. */
  allowedCpus?: string;
  /** For a libvirt guest: the libvirt knob that places this thread (`vcpu:N`, `iothread:N`, `emulator`), from its cgroup. */
  libvirtUnit?: LibvirtUnit;
}

/** Which of libvirt's pinning knobs governs a thread: `virsh vcpupin N`, `iothreadpin N` or `emulatorpin`. */
export type LibvirtUnit = `vcpu:${number}` | `iothread:${number}` | 'emulator';

export type Manager = 'qemu' | 'libvirt';

/**
 * libvirt's pinning and CPU bandwidth of a running domain, as libvirt reports
 * it (`virsh vcpupin|emulatorpin|iothreadinfo|schedinfo --live`), or as the
 * live `<cputune>` in its status XML says (where units without an entry are absent).
 */
export interface LibvirtTune {
  /** CPU list by vCPU index. */
  vcpupin: Record<string, string>;
  emulatorpin?: string;
  /** CPU list by IOThread id. */
  iothreadpin: Record<string, string>;
  /** `schedinfo` parameters (cpu_shares, vcpu_period, vcpu_quota, emulator_period, ...) by virsh's names. */
  sched: Record<string, number>;
}

export interface LibvirtDomain {
  domain: string;
  uuid: string;
  /** libvirt's live `<cputune>` (from /run/libvirt/qemu/<domain>.xml). */
  cputune: LibvirtTune;
  /** vCPU index → host thread id, as libvirt recorded it. */
  vcpuThreads: Record<string, number>;
}

export interface GuestInfo {
  /** Guest name from `-name guest=X,...` or `-name X`; `pid:<PID>` when QEMU was started without a name. */
  name: string;
  pid: number;
  argv: string[];
  threads: ThreadInfo[];
  /** `libvirt` when a libvirtd on the node runs this QEMU (its threads are pinned through libvirt). */
  manager: Manager;
  libvirt?: LibvirtDomain;
}

export interface CacheInfo {
  level: number;
  type: string;
  /** CPU list of the CPUs sharing this cache, as /sys prints it. */
  sharedCpus: string;
}

export interface CpuInfo {
  cpu: number;
  socket: number;
  core: number;
  caches: CacheInfo[];
}

export interface CpuTopology {
  cpus: CpuInfo[];
  sockets: number;
  /** Distinct (socket, core) pairs. */
  cores: number;
  /** Groups of CPUs that share an L2 / L3 cache (each group a CPU list string). */
  sharedL2: string[];
  sharedL3: string[];
}

export interface NodeDiscovery {
  node: string;
  guests: GuestInfo[];
  topology: CpuTopology;
  /** Host commands Tune may need, and whether the node has them. */
  tools: Record<string, boolean>;
  /** The kernel's version (vhost threads live inside QEMU since Linux 6.4). */
  kernel: string;
  /** libvirt's domain names by QEMU PID when `virsh` is present. */
  libvirtNames?: Record<number, string>;
}

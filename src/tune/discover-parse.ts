/**
 * Pure parsing of the discovery script's output (see discover-script.ts)
 * into guests, classified threads and the CPU topology.
 */
import { formatCpuList, parseCpuList } from './cpu-list.js';
import { guestNameFromArgv, hasDebugThreads, isQemuArgv } from './qemu-cmdline.js';
import { parseStatusExtract, unitFromCgroup } from './libvirt-view.js';
import type { CpuInfo, CpuTopology, GuestInfo, LibvirtDomain, NodeDiscovery, ThreadInfo, ThreadKind, ThreadState } from './types.js';

export interface ParsedDiscovery extends NodeDiscovery {
  /** Things a user should know (e.g. a guest without debug-threads=on). */
  warnings: string[];
}

export function classifyThread(pid: number, tid: number, comm: string): Pick<ThreadInfo, 'kind' | 'vcpu' | 'iothread'> {
  const vcpu = /^CPU (\d+)\/[A-Za-z]+$/.exec(comm);
  if (vcpu) return { kind: 'vcpu', vcpu: Number(vcpu[1]) };
  if (tid === pid) return { kind: 'emulator' };
  // QEMU's monitor runs its own iothread (`IO mon_iothread`, for out-of-band QMP): emulator work, not a disk's IOThread.
  if (comm === 'IO mon_iothread') return { kind: 'other' };
  const io = /^IO (.+)$/.exec(comm);
  if (io) return { kind: 'iothread', iothread: io[1] };
  if (/^vhost-\d+$/.test(comm)) return { kind: 'vhost' };
  if (/worker/.test(comm)) return { kind: 'worker' };
  return { kind: 'other' };
}

/** Fields of /proc/PID/stat after the last `) `: index 0 is field 3 (state). */
export function stateFromStat(statTail: string, cpus: string): { state: ThreadState; startTime: number } {
  const fields = statTail.trim().split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  return {
    state: { cpus, nice: field(19), rtPriority: field(40), schedPolicy: field(41) },
    startTime: field(22),
  };
}

function fromHex(hex: string): Buffer {
  return Buffer.from(hex.trim(), 'hex');
}

function argvFromHex(hex: string): string[] {
  const text = fromHex(hex).toString('utf8');
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export function parseDiscovery(node: string, output: string): ParsedDiscovery {
  const processes = new Map<number, string[]>();
  const threads = new Map<number, ThreadInfo[]>();
  const vhostThreads: Array<{ owner: number; thread: ThreadInfo }> = [];
  const cpus = new Map<number, CpuInfo>();
  const tools: Record<string, boolean> = {};
  const libvirtNames: Record<number, string> = {};
  const libvirtStatus = new Map<number, string>();
  const cgroups = new Map<string, { version: 'v1' | 'v2'; path: string; allowed: string }>();
  let kernel = '';
  const warnings: string[] = [];

  for (const line of output.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    switch (f[0]) {
      case 'K':
        kernel = f[1] ?? '';
        break;
      case 'X':
        tools[f[1]!] = f[2] === '1';
        break;
      case 'C': {
        const cpu = Number(f[1]);
        cpus.set(cpu, { cpu, socket: Number(f[2]), core: Number(f[3]), caches: [] });
        break;
      }
      case 'L': {
        const info = cpus.get(Number(f[1]));
        if (info) info.caches.push({ level: Number(f[2]), type: f[3] ?? '', sharedCpus: f[4] ?? '' });
        break;
      }
      case 'P':
        processes.set(Number(f[1]), argvFromHex(f[2] ?? ''));
        break;
      case 'T': {
        if (f.length < 6) break;
        const pid = Number(f[1]);
        const tid = Number(f[2]);
        const comm = f.slice(5).join('\t');
        const { state, startTime } = stateFromStat(f[4]!, f[3]!);
        const list = threads.get(pid) ?? [];
        list.push({ pid, tid, comm, ...classifyThread(pid, tid, comm), startTime, state });
        threads.set(pid, list);
        break;
      }
      case 'V': {
        if (f.length < 5) break;
        const pid = Number(f[1]);
        const comm = f.slice(4).join('\t');
        const { state, startTime } = stateFromStat(f[3]!, f[2]!);
        const owner = Number(/^vhost-(\d+)$/.exec(comm)?.[1]);
        vhostThreads.push({ owner, thread: { pid, tid: pid, comm, kind: 'vhost', startTime, state } });
        break;
      }
      case 'N':
        libvirtNames[Number(f[1])] = fromHex(f[2] ?? '').toString('utf8');
        break;
      case 'D':
        libvirtStatus.set(Number(f[1]), fromHex(f[2] ?? '').toString('utf8'));
        break;
      case 'G':
        if (f.length >= 5) cgroups.set(`${f[1]}/${f[2]}`, { version: f[3] === 'v2' ? 'v2' : 'v1', path: f[4]!, allowed: (f[5] ?? '').trim() });
        break;
      default:
        break;
    }
  }

  const guests: GuestInfo[] = [];
  for (const [pid, argv] of [...processes].sort((a, b) => a[0] - b[0])) {
    if (!isQemuArgv(argv)) continue;
    const guestThreads = (threads.get(pid) ?? []).sort((a, b) => a.tid - b.tid);
    if (guestThreads.length === 0) continue; // exited between listing and reading
    const name = guestNameFromArgv(argv) ?? libvirtNames[pid] ?? `pid:${pid}`;
    for (const v of vhostThreads) if (v.owner === pid) guestThreads.push(v.thread);
    if (!hasDebugThreads(argv)) {
      warnings.push(`guest ${name} (pid ${pid}) runs without -name ...,debug-threads=on: its vCPU and I/O threads cannot be told apart`);
    }
    const libvirt = libvirtNames[pid] === undefined ? undefined : libvirtDomain(libvirtNames[pid]!, libvirtStatus.get(pid));
    for (const thread of guestThreads) {
      const cg = cgroups.get(`${pid}/${thread.tid}`);
      if (cg) Object.assign(thread, { cgroup: cg.path, cgroupVersion: cg.version, ...(cg.allowed ? { allowedCpus: formatCpuList(parseCpuList(cg.allowed)) } : {}) });
      if (libvirt) {
        const vcpu = Object.entries(libvirt.vcpuThreads).find(([, tid]) => tid === thread.tid)?.[0];
        const unit = vcpu !== undefined ? (`vcpu:${Number(vcpu)}` as const) : unitFromCgroup(thread.cgroup);
        if (unit) thread.libvirtUnit = unit;
      }
    }
    if (libvirt && !libvirt.uuid) warnings.push(`guest ${name} (pid ${pid}) runs under libvirt, but its status XML is not readable here: it is pinned through taskset (run discovery as root)`);
    guests.push({ name, pid, argv, threads: guestThreads, manager: libvirt ? 'libvirt' : 'qemu', ...(libvirt ? { libvirt } : {}) });
  }

  return { node, guests, topology: topologyFrom([...cpus.values()]), tools, kernel, warnings, ...(Object.keys(libvirtNames).length ? { libvirtNames } : {}) };
}

function libvirtDomain(domain: string, statusExtract: string | undefined): LibvirtDomain {
  const parsed = parseStatusExtract(statusExtract ?? '');
  return { domain, uuid: parsed.uuid ?? '', cputune: parsed.cputune, vcpuThreads: parsed.vcpuThreads };
}

function topologyFrom(cpuList: CpuInfo[]): CpuTopology {
  cpuList.sort((a, b) => a.cpu - b.cpu);
  const shared = (level: number) =>
    [...new Set(cpuList.flatMap((c) => c.caches.filter((k) => k.level === level && k.type !== 'Instruction').map((k) => formatCpuList(parseCpuList(k.sharedCpus)))))].sort();
  return {
    cpus: cpuList,
    sockets: new Set(cpuList.map((c) => c.socket)).size,
    cores: new Set(cpuList.map((c) => `${c.socket}:${c.core}`)).size,
    sharedL2: shared(2),
    sharedL3: shared(3),
  };
}

/**
 * What libvirt says about a running domain, parsed (pure): the extract of its
 * status XML that discovery prints (uuid, vCPU threads, live `<cputune>`),
 * `virsh vcpupin|emulatorpin|iothreadinfo|schedinfo --live` output, and the
 * libvirt unit (vCPU, IOThread, emulator) a thread's cgroup stands for.
 */
import type { LibvirtTune, LibvirtUnit } from './types.js';

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}=(['"])(.*?)\\1`).exec(tag)?.[2];
}

/** `<uuid>`, `<vcpu id='0' pid='66'/>` and the `<cputune>` block, as discovery's sed kept them. */
export function parseStatusExtract(xml: string): { uuid?: string; vcpuThreads: Record<string, number>; cputune: LibvirtTune } {
  const uuid = /<uuid>\s*([0-9a-fA-F-]+)\s*<\/uuid>/.exec(xml)?.[1];
  const vcpuThreads: Record<string, number> = {};
  for (const m of xml.matchAll(/<vcpu\s[^>]*>/g)) {
    const id = attr(m[0], 'id');
    const pid = attr(m[0], 'pid');
    if (id !== undefined && pid !== undefined) vcpuThreads[id] = Number(pid);
  }
  const cputune: LibvirtTune = { vcpupin: {}, iothreadpin: {}, sched: {} };
  const block = /<cputune>([\s\S]*?)<\/cputune>/.exec(xml)?.[1] ?? '';
  for (const m of block.matchAll(/<(vcpupin|emulatorpin|iothreadpin)\s[^>]*>/g)) {
    const cpuset = attr(m[0], 'cpuset');
    if (cpuset === undefined) continue;
    if (m[1] === 'vcpupin') cputune.vcpupin[attr(m[0], 'vcpu') ?? '?'] = cpuset;
    else if (m[1] === 'iothreadpin') cputune.iothreadpin[attr(m[0], 'iothread') ?? '?'] = cpuset;
    else cputune.emulatorpin = cpuset;
  }
  // The XML's element names for what `virsh schedinfo` calls cpu_shares, vcpu_period, vcpu_quota, ...
  const schedNames: Record<string, string> = { shares: 'cpu_shares', period: 'vcpu_period', quota: 'vcpu_quota' };
  for (const m of block.matchAll(/<(\w+)>\s*(-?\d+)\s*<\/\1>/g)) cputune.sched[schedNames[m[1]!] ?? m[1]!] = Number(m[2]);
  return { ...(uuid ? { uuid } : {}), vcpuThreads, cputune };
}

/** The libvirt unit a thread's cgroup stands for: libvirt puts each in `.../vcpuN`, `.../iothreadN` or `.../emulator`. */
export function unitFromCgroup(path: string | undefined): LibvirtUnit | undefined {
  const last = path?.split('/').filter(Boolean).pop() ?? '';
  const m = /^(vcpu|iothread)(\d+)$/.exec(last);
  if (m) return `${m[1] as 'vcpu' | 'iothread'}:${Number(m[2])}`;
  return last === 'emulator' ? 'emulator' : undefined;
}

/**
 * The lines the apply script prints for `virsh <query> DOMAIN --live`, tagged
 * with the query: `vcpupin  0   1`, `emulatorpin  0-1`, `iothreadinfo  1   0-1`, `schedinfo cpu_shares : 1024`.
 */
export function parseVirshQueries(lines: ReadonlyArray<{ query: string; text: string }>): LibvirtTune {
  const tune: LibvirtTune = { vcpupin: {}, iothreadpin: {}, sched: {} };
  for (const { query, text } of lines) {
    if (query === 'vcpupin' || query === 'iothreadinfo') {
      const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(text);
      if (m) (query === 'vcpupin' ? tune.vcpupin : tune.iothreadpin)[m[1]!] = m[2]!;
    } else if (query === 'emulatorpin') {
      // `virsh -q emulatorpin` prints the bare list; without -q it is `*: 0-1` under a header.
      const m = /^\s*(?:\*:\s*)?(\d[\d,-]*)\s*$/.exec(text);
      if (m) tune.emulatorpin = m[1]!;
    } else if (query === 'schedinfo') {
      const m = /^\s*(\w+)\s*:\s*(-?\d+)\s*$/.exec(text);
      if (m) tune.sched[m[1]!] = Number(m[2]);
    }
  }
  return tune;
}

/** The CPU list libvirt reports for a unit (undefined when it reports none). */
export function unitPin(tune: LibvirtTune, unit: LibvirtUnit): string | undefined {
  if (unit === 'emulator') return tune.emulatorpin;
  const [kind, id] = unit.split(':') as ['vcpu' | 'iothread', string];
  return (kind === 'vcpu' ? tune.vcpupin : tune.iothreadpin)[id];
}

/** The virsh command (after `virsh -c URI`) that pins a unit live. */
export function pinCommand(domain: string, unit: LibvirtUnit, cpus: string): string[] {
  if (unit === 'emulator') return ['emulatorpin', domain, cpus, '--live'];
  const [kind, id] = unit.split(':') as ['vcpu' | 'iothread', string];
  return [kind === 'vcpu' ? 'vcpupin' : 'iothreadpin', domain, id, cpus, '--live'];
}

/** The `schedinfo` parameters a policy may set (virsh's names), each a whole number. */
export const SCHED_PARAMS = ['cpu_shares', 'vcpu_period', 'vcpu_quota', 'emulator_period', 'emulator_quota', 'iothread_period', 'iothread_quota', 'global_period', 'global_quota'] as const;
export type SchedParam = (typeof SCHED_PARAMS)[number];

export function schedCommand(domain: string, values: Partial<Record<string, number>>): string[] {
  return ['schedinfo', domain, '--live', ...Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
}

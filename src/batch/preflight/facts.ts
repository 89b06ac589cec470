/**
 * What a pre-flight check asks a node, as one short shell script (the same
 * over SSH and locally), and how to read its answer. Pure: builds text,
 * parses text. Judging the facts is checks.ts.
 */

export interface NodeFacts {
  /** scaling_governor per CPU that has cpufreq (none in most guests and containers). */
  governors: Record<number, string>;
  /** intel_pstate's no_turbo (1 = turbo off), when present. */
  noTurbo?: number;
  /** acpi-cpufreq's boost (0 = off), when present. */
  boost?: number;
  swapUsedKb?: number;
  load1?: number;
  /** Runnable tasks at the moment of the probe (/proc/stat procs_running), the probe itself included. */
  procsRunning?: number;
  cores?: number;
  /** CPU → its SMT siblings (itself included), for every online CPU. */
  siblings: Record<number, number[]>;
  /** The selected transparent huge pages mode: always, madvise or never. */
  thp?: string;
  /** /dev/kvm: usable (read+write), no-access, or absent. */
  kvm?: 'usable' | 'no-access' | 'absent';
  /** One entry per running qemu-system process: the accelerator it uses. */
  qemu: Array<'kvm' | 'tcg'>;
}

export function nodeFactsScript(): string {
  return [
    'for f in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do [ -r "$f" ] && c=${f#/sys/devices/system/cpu/cpu} && echo "governor.${c%%/*}=$(cat "$f")"; done',
    '[ -r /sys/devices/system/cpu/intel_pstate/no_turbo ] && echo "no_turbo=$(cat /sys/devices/system/cpu/intel_pstate/no_turbo)"',
    '[ -r /sys/devices/system/cpu/cpufreq/boost ] && echo "boost=$(cat /sys/devices/system/cpu/cpufreq/boost)"',
    "awk '/^SwapTotal:/{t=$2} /^SwapFree:/{f=$2} END{print \"swap_used_kb=\" t-f}' /proc/meminfo",
    'echo "loadavg=$(cat /proc/loadavg)"',
    "awk '/^procs_running/{print \"procs_running=\" $2}' /proc/stat",
    'echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
    'for d in /sys/devices/system/cpu/cpu[0-9]*; do [ -r "$d/topology/thread_siblings_list" ] && echo "siblings.${d##*/cpu}=$(cat "$d/topology/thread_siblings_list")"; done',
    '[ -r /sys/kernel/mm/transparent_hugepage/enabled ] && echo "thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled)"',
    'if [ -e /dev/kvm ]; then if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo kvm=usable; else echo kvm=no-access; fi; else echo kvm=absent; fi',
    // QEMU uses TCG unless told -enable-kvm, accel=kvm or -accel kvm.
    `ps -eo args= 2>/dev/null | grep -E '^[^ ]*qemu-system' | while read -r a; do case "$a" in *accel=kvm*|*"-accel kvm"*|*-enable-kvm*) echo qemu=kvm;; *) echo qemu=tcg;; esac; done`,
    'true',
  ].join('\n');
}

/** `0-3,8,10-11` → [0, 1, 2, 3, 8, 10, 11]. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

export function parseNodeFacts(output: string): NodeFacts {
  const facts: NodeFacts = { governors: {}, siblings: {}, qemu: [] };
  const number = (v: string) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined);
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    const dot = key.indexOf('.');
    if (dot > 0 && /^\d+$/.test(key.slice(dot + 1))) {
      const cpu = Number(key.slice(dot + 1));
      if (key.startsWith('governor.')) facts.governors[cpu] = value;
      else if (key.startsWith('siblings.')) facts.siblings[cpu] = parseCpuList(value);
      continue;
    }
    switch (key) {
      case 'no_turbo':
        facts.noTurbo = number(value);
        break;
      case 'boost':
        facts.boost = number(value);
        break;
      case 'swap_used_kb':
        facts.swapUsedKb = number(value);
        break;
      case 'loadavg':
        facts.load1 = number(value.split(/\s+/)[0] ?? '');
        break;
      case 'procs_running':
        facts.procsRunning = number(value);
        break;
      case 'cores':
        facts.cores = number(value);
        break;
      case 'thp':
        facts.thp = /\[(\w+)\]/.exec(value)?.[1] ?? value;
        break;
      case 'kvm':
        if (value === 'usable' || value === 'no-access' || value === 'absent') facts.kvm = value;
        break;
      case 'qemu':
        if (value === 'kvm' || value === 'tcg') facts.qemu.push(value);
        break;
    }
  }
  return facts;
}

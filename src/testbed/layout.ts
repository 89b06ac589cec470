/**
 * Pure planning: which guests each node owns, and the machine map that
 * `machines: testbed` reads (DESIGN.md's format plus a `testbed:` key the
 * runner copies into each batch's provenance).
 */
import { stringify } from 'yaml';
import { UserError } from '../errors.js';
import type { MachineMap } from '../batch/config/types.js';
import { lookupName } from '../batch/ssh/known-hosts.js';
import type { TestbedState } from './state.js';
import { testbedFiles } from './paths.js';

export interface NodeLayout { node: string; guests: string[] }

export const LIMITS = { vms: 64, nodes: 16, memoryMb: [64, 65536], cpus: [1, 64], diskMb: [16, 1 << 20] } as const;

/** `--vms` is per node: `--nodes 4 --vms 5` is Mach4. Guest names are unique across nodes (vm1..vm20) so `on: [vm7]` is unambiguous. */
export function planLayout(vmsPerNode: number, nodes: number): NodeLayout[] {
  checkInt('--vms', vmsPerNode, 1, LIMITS.vms);
  checkInt('--nodes', nodes, 1, LIMITS.nodes);
  return Array.from({ length: nodes }, (_, n) => ({
    node: `node${n + 1}`,
    guests: Array.from({ length: vmsPerNode }, (_, v) => `vm${n * vmsPerNode + v + 1}`),
  }));
}

export function checkInt(flag: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new UserError(`${flag}: expected a whole number from ${min} to ${max}, got ${value}`);
}

/** Commander gives strings: a whole number or a clear error. */
export function parseIntFlag(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value)) throw new UserError(`${flag}: expected a whole number, got '${text}'`);
  checkInt(flag, value, min, max);
  return value;
}

export interface TestbedMachineMap extends MachineMap {
  testbed: { accel: string; accelReason: string; qemu: string; image: string; kernel: string; memoryMb: number; cpus: number; iothread: boolean; manager: 'qemu' | 'libvirt'; startedAt: string };
}

export function machineMap(state: TestbedState): TestbedMachineMap {
  return {
    testbed: {
      accel: state.accel,
      accelReason: state.accelReason,
      qemu: state.qemuVersion,
      image: state.image.hash,
      kernel: state.image.kernelPackage,
      memoryMb: state.options.memoryMb,
      cpus: state.options.cpus,
      iothread: state.options.iothread,
      manager: state.options.manager ?? 'qemu',
      startedAt: state.startedAt,
    },
    ssh: { identityFile: state.identityFile, knownHosts: state.knownHosts },
    nodes: state.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      ...(n.host === 'local' ? {} : { port: n.port, user: n.user }),
      vms: n.guests.map((g) => ({ name: g.name, host: '127.0.0.1', port: g.sshPort, user: 'root' })),
    })),
  };
}

/**
 * How `slurm: {vms: discover}` logs into guests it finds that are this testbed's (their QEMU files lie in
 * its run folder): the same user and SSH files as the testbed's machine map gives them, and its facts.
 */
export function testbedGuestAccess(state: TestbedState): { run: string; user: string; ssh: NonNullable<MachineMap['ssh']>; facts: Record<string, unknown> } {
  const map = machineMap(state);
  const user = map.nodes.flatMap((n) => n.vms ?? []).find((vm) => vm.user)?.user ?? 'root';
  return { run: testbedFiles(state.dir).run, user, ssh: map.ssh!, facts: map.testbed };
}

export function machineMapYaml(state: TestbedState): string {
  return `# Written by \`expert testbed up\` (${state.startedAt}); \`machines: testbed\` reads this file.\n# \`expert testbed down\` removes it.\n` + stringify(machineMap(state));
}

/**
 * `--slurm`: the same guests as a `slurm:` machine map. The nodes come from the allocation (an
 * allocation of node1 and node2 gets their guests; nodes outside it are left out), node processes start
 * as job steps (srun), guests are reached over SSH as in machines.yaml.
 */
export function slurmMachineMap(state: TestbedState): Omit<TestbedMachineMap, 'nodes'> & { nodes: Array<{ name: string; host: string; vms: Array<{ name: string; host: string; port: number; user: string }> }> } {
  const map = machineMap(state);
  return {
    slurm: true,
    launcher: 'srun',
    testbed: map.testbed,
    ssh: map.ssh,
    // host: the node's NodeAddr in slurm.conf (the schema wants one; srun reaches the node by name).
    nodes: map.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', vms: n.vms!.map((vm) => ({ name: vm.name, host: vm.host!, port: vm.port!, user: vm.user! })) })),
  };
}

export function slurmMachineMapYaml(state: TestbedState): string {
  return `# Written by \`expert testbed up --slurm\` (${state.startedAt}): the testbed's guests for a batch run inside
# \`salloc\` on the testbed's Slurm (SLURM_CONF=${state.slurm?.conf ?? '?'}); \`machines: ./.expert/testbed/slurm-machines.yaml\`.
# \`machines: {slurm: {vms: discover}}\` finds the same guests through srun without this file.
# \`expert testbed down\` removes it.
` + stringify(slurmMachineMap(state));
}

/** known_hosts lines: every node sshd and every guest (they share the image's host key). */
export function knownHostsLines(state: TestbedState, guestHostKey: string, nodeHostKeys: Map<string, string>): string {
  const lines: string[] = [];
  for (const n of state.nodes) {
    const key = nodeHostKeys.get(n.name);
    if (key && n.port) lines.push(`${lookupName('127.0.0.1', n.port)} ${key}`);
    for (const g of n.guests) lines.push(`${lookupName('127.0.0.1', g.sshPort)} ${guestHostKey}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Where a test or monitor runs: `on: nodes` (every node), `on: vms` (every
 * guest), or names: a node, a guest name (every guest of that name, on any
 * node), or `node/guest`. A guest target carries its own host/port/user when
 * the machine map gives them (the guest is reached directly, e.g. through a
 * forwarded loopback port), else the node's host (`local` becomes 127.0.0.1:
 * a guest is never "this machine").
 */
import type { MachineMap, NodeSpec, Placement, Target, VmSpec } from '../config/types.js';

/** A placement that cannot be resolved; `item` is the index in an `on:` list. */
export class PlacementError extends Error {
  constructor(
    message: string,
    readonly item?: number,
  ) {
    super(message);
    this.name = 'PlacementError';
  }
}

export function nodeTarget(node: NodeSpec, machines: MachineMap): Target {
  const target = withSsh({ node: node.name, host: node.host, port: node.port, user: node.user }, machines);
  // A node whose processes start as Slurm job steps (guests on it are still reached over SSH).
  if (node.launcher === 'srun') {
    target.launcher = 'srun';
    if (machines.srun) target.srun = machines.srun;
  }
  return target;
}

export function vmTarget(node: NodeSpec, vm: VmSpec, machines: MachineMap): Target {
  if (vm.host === undefined && vm.port === undefined) {
    throw new PlacementError(`guest ${vm.name} of node ${node.name} has neither host nor port in the machine map, so it cannot be reached (add host: or port: to it)`);
  }
  const host = vm.host ?? (node.host === 'local' ? '127.0.0.1' : node.host);
  return withSsh({ node: node.name, vm: vm.name, host, port: vm.port, user: vm.user ?? node.user }, machines);
}

/** Every target of a placement, in machine map order, without duplicates. */
export function resolvePlacement(on: Placement, machines: MachineMap): Target[] {
  const nodes = machines.nodes;
  const everyVm = () => nodes.flatMap((n) => (n.vms ?? []).map((vm) => ({ n, vm })));
  if (on === 'nodes') return nodes.map((n) => nodeTarget(n, machines));
  if (on === 'vms') {
    const vms = everyVm();
    if (vms.length === 0) throw new PlacementError('`vms`, but the machine map lists no guests (vms:) under any node');
    return vms.map(({ n, vm }) => vmTarget(n, vm, machines));
  }
  const targets: Target[] = [];
  const seen = new Set<string>();
  const add = (t: Target) => {
    const key = `${t.node}/${t.vm ?? ''}`;
    if (!seen.has(key)) targets.push(t);
    seen.add(key);
  };
  on.forEach((name, item) => {
    try {
      const slash = name.indexOf('/');
      if (slash >= 0) {
        const node = nodes.find((n) => n.name === name.slice(0, slash));
        const vm = node?.vms?.find((v) => v.name === name.slice(slash + 1));
        if (!node || !vm) throw new PlacementError(`no guest \`${name}\` in the machine map${known(machines)}`);
        add(vmTarget(node, vm, machines));
        return;
      }
      const node = nodes.find((n) => n.name === name);
      if (node) {
        add(nodeTarget(node, machines));
        return;
      }
      const vms = everyVm().filter(({ vm }) => vm.name === name);
      if (vms.length === 0) throw new PlacementError(`no node or guest named \`${name}\` in the machine map${known(machines)}`);
      for (const { n, vm } of vms) add(vmTarget(n, vm, machines));
    } catch (e) {
      if (e instanceof PlacementError && e.item === undefined) throw new PlacementError(e.message, item);
      throw e;
    }
  });
  return targets;
}

/** Every name an `on:` list may use. */
export function placementNames(machines: MachineMap): string[] {
  const names = ['nodes', 'vms'];
  for (const n of machines.nodes) {
    names.push(n.name);
    for (const vm of n.vms ?? []) names.push(vm.name, `${n.name}/${vm.name}`);
  }
  return [...new Set(names)];
}

function known(machines: MachineMap): string {
  const names = placementNames(machines).filter((n) => !n.includes('/'));
  return ` (known: ${names.join(', ')})`;
}

function withSsh(target: Target, machines: MachineMap): Target {
  const out: Target = { node: target.node, host: target.host };
  if (target.vm !== undefined) out.vm = target.vm;
  if (target.port !== undefined) out.port = target.port;
  if (target.user !== undefined) out.user = target.user;
  if (machines.ssh) out.ssh = machines.ssh;
  return out;
}

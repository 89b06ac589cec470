/**
 * `machines: slurm` and `launcher: srun` in a machine map: the nodes of the
 * current allocation replace `nodes:` (whose entries only add details), and
 * a map with srun nodes is refused (exit 2) outside an allocation, before
 * anything runs. With `slurm: {vms: discover}` each node's guests are found
 * by Tune's discovery as a job step there.
 */
import { allocationEnv, currentAllocation, NotInAllocationError, type SlurmNode } from '../../slurm/allocation.js';
import { discoverGuestsOnNodes, localTestbedAccess, NodeDiscoveryError } from '../../slurm/discover-guests.js';
import { GuestAddressError, vmsFromDiscovery, type TestbedGuestAccess } from '../../slurm/discovered-guests.js';
import { allocationNodes, discoveryOptions, nodesToDiscover, VmTemplateError } from '../../slurm/machine-map.js';
import type { ConfigPath, ConfigSource } from './source.js';
import type { MachineMap, NodeSpec, SshSettings, VmSpec } from './types.js';

/** A machine map as written: under `slurm:` the `nodes:` list may be absent. */
export type MachineMapInput = Omit<MachineMap, 'nodes'> & { nodes?: NodeSpec[] };

/** The map with `slurm:` resolved into concrete nodes (srun by default); other maps unchanged. `cwd` locates the local testbed (its guests' SSH key). */
export async function expandSlurmMap(map: MachineMapInput, source: ConfigSource, base: ConfigPath, env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<MachineMap> {
  // No `slurm:`: checkMachineMap reports a missing `nodes:` where it belongs.
  if (map.slurm === undefined || map.slurm === false) return map as MachineMap;
  const vmsPath = [...base, 'slurm', 'vms'];
  const templateError = (e: unknown): never => {
    if (e instanceof VmTemplateError) throw source.error([...vmsPath, e.field], `${e.field} ${e.message}`);
    throw e;
  };
  let discover;
  try {
    discover = discoveryOptions(map.slurm);
  } catch (e) {
    templateError(e);
  }
  let allocation;
  try {
    allocation = await currentAllocation(env, '`slurm` in the machine map');
  } catch (e) {
    if (e instanceof NotInAllocationError) throw source.error(base.length ? base : ['slurm'], e.message);
    throw e;
  }
  const ssh: SshSettings = { ...(map.ssh ?? {}) };
  let testbed = map.testbed;
  let discovered: Map<string, VmSpec[]> | undefined;
  if (discover) {
    if (discover.identityFile !== undefined) {
      if (ssh.identityFile !== undefined && ssh.identityFile !== discover.identityFile) throw source.error([...vmsPath, 'identityFile'], `identityFile ${discover.identityFile} differs from ssh.identityFile ${ssh.identityFile}: give the key once`);
      ssh.identityFile = discover.identityFile;
    }
    const found = await discoverGuests(map, allocation.nodes, source, vmsPath, env, cwd, discover.user);
    discovered = found.vms;
    if (found.testbed) {
      // The testbed's guests take its key and known_hosts, as its machines.yaml says (a map's own ssh: wins).
      ssh.identityFile ??= found.testbed.ssh.identityFile;
      ssh.knownHosts ??= found.testbed.ssh.knownHosts;
      testbed ??= found.testbed.facts;
    }
  }
  let nodes: NodeSpec[] | undefined;
  try {
    nodes = allocationNodes(allocation.nodes, map.slurm, map.nodes ?? [], discovered);
  } catch (e) {
    templateError(e);
  }
  const { slurm: _resolved, ssh: _ssh, testbed: _testbed, ...rest } = map;
  return { ...rest, ...(Object.keys(ssh).length ? { ssh } : {}), ...(testbed ? { testbed } : {}), nodes: nodes!, launcher: map.launcher ?? 'srun' };
}

/** Discovery through srun on every allocated node without guests under `nodes:`; errors at `slurm.vms`, naming node and guest. */
async function discoverGuests(map: MachineMapInput, allocated: readonly SlurmNode[], source: ConfigSource, vmsPath: ConfigPath, env: NodeJS.ProcessEnv, cwd: string, user: string | undefined): Promise<{ vms: Map<string, VmSpec[]>; testbed?: TestbedGuestAccess }> {
  const targets = nodesToDiscover(allocated, map.nodes ?? []);
  let found;
  try {
    found = await discoverGuestsOnNodes(targets.map((n) => n.name), { env, srunArgs: map.srun?.args });
  } catch (e) {
    if (e instanceof NodeDiscoveryError) throw source.error(vmsPath, `discover: ${e.message}`);
    throw e;
  }
  const access = await localTestbedAccess(cwd, env);
  const vms = new Map<string, VmSpec[]>();
  let fromTestbed = false;
  for (const node of targets) {
    try {
      const result = vmsFromDiscovery(node, found.get(node.name) ?? [], user === undefined ? {} : { user }, access);
      vms.set(node.name, result.vms);
      fromTestbed ||= result.testbed;
    } catch (e) {
      if (e instanceof GuestAddressError) throw source.error(vmsPath, `discover: ${e.message}`);
      throw e;
    }
  }
  return { vms, ...(fromTestbed && access ? { testbed: access } : {}) };
}

/** `launcher: srun` anywhere needs an allocation to start steps in. */
export function requireAllocationForSrun(map: MachineMap, source: ConfigSource, base: ConfigPath, env: NodeJS.ProcessEnv): void {
  if (allocationEnv(env)) return;
  const index = map.nodes.findIndex((node) => node.launcher === 'srun');
  if (index === -1) return;
  // The position of the launcher key where the text has one, else its nearest ancestor (`machines: slurm`).
  const path = map.nodes[index]!.launcher === 'srun' && map.launcher !== 'srun' ? [...base, 'nodes', index, 'launcher'] : [...base, 'launcher'];
  throw source.error(path, new NotInAllocationError('`launcher: srun`').message);
}

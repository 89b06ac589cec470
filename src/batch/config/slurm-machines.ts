/**
 * `machines: slurm` and `launcher: srun` in a machine map: the nodes of the
 * current allocation replace `nodes:` (whose entries only add details), and
 * a map with srun nodes is refused (exit 2) outside an allocation, before
 * anything runs.
 */
import { allocationEnv, currentAllocation, NotInAllocationError } from '../../slurm/allocation.js';
import { allocationNodes, VmTemplateError } from '../../slurm/machine-map.js';
import type { ConfigPath, ConfigSource } from './source.js';
import type { MachineMap, NodeSpec } from './types.js';

/** A machine map as written: under `slurm:` the `nodes:` list may be absent. */
export type MachineMapInput = Omit<MachineMap, 'nodes'> & { nodes?: NodeSpec[] };

/** The map with `slurm:` resolved into concrete nodes (srun by default); other maps unchanged. */
export async function expandSlurmMap(map: MachineMapInput, source: ConfigSource, base: ConfigPath, env: NodeJS.ProcessEnv): Promise<MachineMap> {
  // No `slurm:`: checkMachineMap reports a missing `nodes:` where it belongs.
  if (map.slurm === undefined || map.slurm === false) return map as MachineMap;
  let allocation;
  try {
    allocation = await currentAllocation(env, '`slurm` in the machine map');
  } catch (e) {
    if (e instanceof NotInAllocationError) throw source.error(base.length ? base : ['slurm'], e.message);
    throw e;
  }
  let nodes;
  try {
    nodes = allocationNodes(allocation.nodes, map.slurm, map.nodes ?? []);
  } catch (e) {
    if (e instanceof VmTemplateError) throw source.error([...base, 'slurm', 'vms', e.field], `slurm.vms.${e.field} ${e.message}`);
    throw e;
  }
  const { slurm: _resolved, ...rest } = map;
  return { ...rest, nodes, launcher: map.launcher ?? 'srun' };
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

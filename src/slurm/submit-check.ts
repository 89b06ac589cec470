/**
 * What `expert slurm submit` checks before it queues a job, so a job that
 * can never start or would measure other machines is refused at once:
 *
 * - the partition (the one given, else Slurm's default) has at least the
 *   nodes asked for (`scontrol -o show partition`); Slurm itself accepts
 *   `-N 5` on a 2-node partition and lets the job pend forever with reason
 *   `PartitionConfig` (measured), blocking the jobs queued after it;
 * - then `sbatch --test-only` with the same options: whatever else Slurm
 *   would refuse (time limit, constraints) is said before anything queues;
 * - where the batch's `machines:` send its processes: the nodes of the job
 *   (`slurm`, `slurm:` in a map, `launcher: srun`), this node (none, or
 *   only `host: local` nodes), or elsewhere over SSH (a testbed, a file or
 *   inline map of SSH hosts), which would leave the allocation idle.
 *
 * The classification and the partition reading are pure; `checkSubmission`
 * runs Slurm's commands.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, UserError, type SourcePosition } from '../errors.js';
import { applySet, parseSet } from '../batch/config/overrides.js';
import { ConfigSource } from '../batch/config/source.js';
import { testbedMachinesFile } from '../batch/config/machines.js';
import { scontrolRecords, slurmCommand } from './commands.js';

export type MachinesPlace = 'allocation' | 'this-node' | 'elsewhere';

/** Where a machine map (as written, `slurm` or an object) runs its node processes (pure). */
export function machineMapPlace(map: unknown): MachinesPlace {
  if (map === 'slurm') return 'allocation';
  if (!map || typeof map !== 'object') return 'elsewhere';
  const m = map as { slurm?: unknown; launcher?: unknown; nodes?: unknown };
  if (m.slurm !== undefined && m.slurm !== false) return 'allocation';
  const nodes = Array.isArray(m.nodes) ? (m.nodes as Array<{ launcher?: unknown; host?: unknown }>) : [];
  if (m.launcher === 'srun' || nodes.some((n) => n?.launcher === 'srun')) return 'allocation';
  if (nodes.length > 0 && nodes.every((n) => n?.host === 'local')) return 'this-node';
  return 'elsewhere';
}

export interface BatchMachines {
  place: MachinesPlace;
  /** How the config names them, for messages: `machines: testbed`, `machines: ./lab.yaml`, an inline map. */
  said: string;
  /** Where the config says `machines:`, when it does. */
  at?: SourcePosition;
}

/**
 * The batch's `machines:` after --set, and where they run. A config that is not YAML, or a machine map
 * file that cannot be read, is bad input here already (the job would fail on it after queueing).
 */
export function batchMachines(text: string, file: string, set: readonly string[], cwd: string, env: NodeJS.ProcessEnv): BatchMachines {
  const source = ConfigSource.fromText(text, file);
  for (const expression of set) applySet(source, parseSet(expression), { stopAtString: 'machines' });
  const value = source.toJS() as { machines?: unknown } | null;
  const spec = value && typeof value === 'object' ? value.machines : undefined;
  const at = () => source.locate(['machines']);
  if (spec === undefined) return { place: 'this-node', said: 'no `machines:` (this machine only)' };
  if (typeof spec !== 'string' || spec === 'slurm') {
    return { place: machineMapPlace(spec), said: spec === 'slurm' ? '`machines: slurm`' : 'its inline `machines:` map', at: at() };
  }
  const mapFile = spec === 'testbed' ? testbedMachinesFile(cwd, env) : resolve(dirname(resolve(cwd, file)), spec.replace(/^~(?=$|\/)/, homedir()));
  let map: unknown;
  try {
    map = parseYaml(readFileSync(mapFile, 'utf8'));
  } catch (e) {
    // The job would fail on it (exit 2) after waiting in the queue: say it now.
    const why = spec === 'testbed' ? 'which does not exist: run `expert testbed up` first' : (e as Error).message.split('\n')[0];
    throw source.error(['machines'], `cannot read the machine map ${mapFile}, ${why}`);
  }
  return { place: machineMapPlace(map), said: `\`machines: ${spec}\` (${mapFile})`, at: at() };
}

export interface PartitionInfo {
  name: string;
  totalNodes: number;
  nodes: string;
  /** MaxNodes per job; undefined when UNLIMITED. */
  maxNodes?: number;
  isDefault: boolean;
}

/** `scontrol -o show partition` → partitions (pure). */
export function parsePartitions(text: string): PartitionInfo[] {
  const out: PartitionInfo[] = [];
  for (const fields of scontrolRecords(text)) {
    if (!fields.PartitionName) continue;
    const max = Number(fields.MaxNodes);
    out.push({ name: fields.PartitionName, totalNodes: Number(fields.TotalNodes ?? 0), nodes: fields.Nodes ?? '', maxNodes: Number.isInteger(max) ? max : undefined, isDefault: fields.Default === 'YES' });
  }
  return out;
}

/** Why `-N nodes` in `partition` (or the default one) can never start, or undefined (pure). */
export function partitionProblem(partitions: readonly PartitionInfo[], partition: string | undefined, nodes: number): string | undefined {
  const part = partition === undefined ? partitions.find((p) => p.isDefault) : partitions.find((p) => p.name === partition);
  if (!part) {
    if (partition === undefined) return undefined; // no default partition: sbatch --test-only says what it needs
    return `--partition ${partition}: Slurm has no partition of that name (it has ${partitions.map((p) => p.name).join(', ') || 'none'})`;
  }
  const which = partition === undefined ? `the default partition ${part.name}` : `partition ${part.name}`;
  if (part.totalNodes < nodes) {
    return `-N ${nodes}: ${which} has ${part.totalNodes} node${part.totalNodes === 1 ? '' : 's'} (${part.nodes || 'none'}); a job asking for more would pend forever (PartitionConfig): ask for at most ${part.totalNodes}${partition === undefined ? ' or pick a bigger one with --partition' : ''}`;
  }
  if (part.maxNodes !== undefined && part.maxNodes < nodes) {
    return `-N ${nodes}: ${which} takes at most ${part.maxNodes} node${part.maxNodes === 1 ? '' : 's'} per job (MaxNodes); a job asking for more would pend forever`;
  }
  return undefined;
}

/** Refuses (exit 2) a job Slurm could never start; `sbatchArgs` are the submission's options, `script` its job script. */
export async function checkSubmission(options: { partition?: string; nodes: number; sbatchArgs: readonly string[]; script: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { stdout } = await slurmCommand('scontrol', ['-o', 'show', 'partition'], { env });
  const problem = partitionProblem(parsePartitions(stdout), options.partition, options.nodes);
  if (problem) throw new UserError(problem);
  const args = options.sbatchArgs.filter((a) => a !== '--parsable' && a !== '--wait');
  try {
    await slurmCommand('sbatch', ['--test-only', ...args], { env, input: options.script });
  } catch (e) {
    const said = (e as { said?: string }).said ?? (e as Error).message;
    throw new UserError(`Slurm would not run this job (sbatch --test-only ${args.join(' ')}): ${said}`);
  }
}

/** The refusal for machines that are not the job's nodes (a ConfigError at `machines:` when it has a place). */
export function otherMachinesError(m: BatchMachines): UserError {
  const problem = `${m.said} runs the batch's node processes over SSH on machines outside the job's allocation, which would sit idle meanwhile: use \`machines: slurm\` (or \`launcher: srun\`) for the job's nodes, or pass --allow-other-machines to submit it anyway`;
  return m.at ? new ConfigError(m.at, problem) : new UserError(problem);
}

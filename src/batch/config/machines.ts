/**
 * The machine map a config points at: inline, a file (relative to the
 * config file; its errors name that file), or `testbed`, the map
 * `expert testbed up` writes (<cwd>/.expert/testbed/machines.yaml, or
 * $EXPERT_TESTBED_DIR/machines.yaml), or `slurm`, the nodes of the current
 * Slurm allocation (see slurm-machines.ts). No `machines:` means this machine only.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

import { ConfigError } from '../../errors.js';
import { applySet, type ParsedSet } from './overrides.js';
import { machineMapSchema } from './schema.js';
import { ConfigSource, type ConfigPath } from './source.js';
import type { MachineMap, NodeSpec, SshSettings, VmSpec } from './types.js';
import { validate } from './validate.js';
import { expandSlurmMap, requireAllocationForSrun } from './slurm-machines.js';
import { allocationEnv, NotInAllocationError } from '../../slurm/allocation.js';

export const LOCAL_MACHINES: MachineMap = { nodes: [{ name: 'local', host: 'local' }] };

export interface MachineContext {
  /** The config's source, for errors about the `machines:` value itself. */
  source: ConfigSource;
  /** Folder relative paths are resolved against (the config file's, else cwd). */
  dir: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** --set overrides whose path goes into a machine map file (path without `machines`). */
  sets: ParsedSet[];
}

/** Where `machines: testbed` looks. */
export function testbedMachinesFile(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.EXPERT_TESTBED_DIR ? join(resolve(cwd, env.EXPERT_TESTBED_DIR), 'machines.yaml') : join(cwd, '.expert', 'testbed', 'machines.yaml');
}

export async function resolveMachines(spec: unknown, context: MachineContext): Promise<MachineMap> {
  if (spec === undefined) return structuredClone(LOCAL_MACHINES);
  if (spec === 'slurm' || typeof spec !== 'string') {
    const given = spec === 'slurm' ? { slurm: true } : (spec as MachineMap);
    const map = checkMachineMap(await expandSlurmMap(given, context.source, ['machines'], context.env, context.cwd), context.source, ['machines'], context.dir);
    requireAllocationForSrun(map, context.source, ['machines'], context.env);
    return map;
  }
  let file: string;
  if (spec === 'testbed') {
    file = testbedMachinesFile(context.cwd, context.env);
    if (!existsSync(file)) throw context.source.error(['machines'], `\`testbed\` means the machine map ${file}, which does not exist: run \`expert testbed up\` first`);
  } else {
    file = resolve(context.dir, expandHome(spec));
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw context.source.error(['machines'], `cannot read the machine map ${file}: ${(e as Error).message}`);
  }
  return machineMapFromText(text, file, context.cwd, context.env, context.sets);
}

/**
 * A machine map on its own (for verbs that take one, e.g. Tune's): `testbed`,
 * `slurm` or a path relative to `cwd`. Errors are ConfigErrors in that file;
 * `slurm` outside an allocation says so naming `as` (default `--machines slurm`).
 */
export async function loadMachineMap(spec: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; as?: string } = {}): Promise<MachineMap> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (spec === 'slurm') {
    // Named as the user asked for it (`--machines slurm`, or the verb itself): there is no file or line to point at.
    if (!allocationEnv(env)) throw new NotInAllocationError(options.as ?? '`--machines slurm`');
    const source = ConfigSource.fromObject({ slurm: true }, '--machines slurm');
    return checkMachineMap(await expandSlurmMap({ slurm: true }, source, [], env, cwd), source, [], cwd);
  }
  const file = spec === 'testbed' ? testbedMachinesFile(cwd, env) : resolve(cwd, expandHome(spec));
  const shown = displayPath(file, cwd);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const hint = spec === 'testbed' ? ': run `expert testbed up` first' : `: ${(e as Error).message}`;
    throw new ConfigError({ file: shown, line: 1, column: 1 }, `cannot read the machine map${hint}`);
  }
  return machineMapFromText(text, file, cwd, env);
}

/** A machine map file's text → checked map; errors name the file as shown from `cwd`, --set overrides applied first. */
async function machineMapFromText(text: string, file: string, cwd: string, env: NodeJS.ProcessEnv, sets: readonly ParsedSet[] = []): Promise<MachineMap> {
  const source = ConfigSource.fromText(text, displayPath(file, cwd));
  for (const set of sets) applySet(source, set);
  const value = source.toJS();
  validate(value, machineMapSchema, source);
  const map = checkMachineMap(await expandSlurmMap(value as MachineMap, source, [], env, cwd), source, [], dirname(file));
  requireAllocationForSrun(map, source, [], env);
  return map;
}

/** Names unique and usable in `on:` lists; SSH file paths made absolute. Returns a clean copy. */
export function checkMachineMap(map: MachineMap, source: ConfigSource, base: ConfigPath, dir: string): MachineMap {
  const seen = new Map<string, string>();
  const nameCheck = (name: string, path: ConfigPath, what: string) => {
    if (name === 'nodes' || name === 'vms') throw source.error(path, `\`${name}\` is reserved in on: lists; pick another ${what} name`);
    if (name.includes('/')) throw source.error(path, `a ${what} name cannot contain '/' (on: lists use node/guest)`);
  };
  if (map.nodes === undefined) throw source.error(base, 'missing required key `nodes` in the machine map (or `slurm:` for the nodes of the current Slurm allocation)');
  const nodes: NodeSpec[] = map.nodes.map((node, n) => {
    const path = [...base, 'nodes', n, 'name'];
    nameCheck(node.name, path, 'node');
    if (seen.has(node.name)) throw source.error(path, `duplicate node name \`${node.name}\``);
    seen.set(node.name, 'node');
    const out: NodeSpec = { name: node.name, host: node.host };
    if (node.user !== undefined) out.user = node.user;
    if (node.port !== undefined) out.port = node.port;
    if (node.vms !== undefined) out.vms = node.vms.map((vm) => copyVm(vm));
    // Each node carries the launcher it will use, so a target alone says how to start its processes.
    const launcher = node.launcher ?? map.launcher;
    if (launcher === 'srun') out.launcher = 'srun';
    return out;
  });
  nodes.forEach((node, n) => {
    const vmNames = new Set<string>();
    (node.vms ?? []).forEach((vm, v) => {
      const path = [...base, 'nodes', n, 'vms', v, 'name'];
      nameCheck(vm.name, path, 'guest');
      if (vmNames.has(vm.name)) throw source.error(path, `duplicate guest name \`${vm.name}\` on node ${node.name}`);
      if (seen.get(vm.name) === 'node') throw source.error(path, `guest name \`${vm.name}\` is also a node name, so on: [${vm.name}] would be ambiguous`);
      vmNames.add(vm.name);
    });
  });
  const out: MachineMap = { nodes };
  if (map.ssh) out.ssh = sshPaths(map.ssh, dir);
  if (map.testbed) out.testbed = map.testbed;
  if (map.launcher) out.launcher = map.launcher;
  if (map.srun) out.srun = { ...map.srun };
  return out;
}

function copyVm(vm: VmSpec): VmSpec {
  const out: VmSpec = { name: vm.name };
  if (vm.host !== undefined) out.host = vm.host;
  if (vm.port !== undefined) out.port = vm.port;
  if (vm.user !== undefined) out.user = vm.user;
  return out;
}

function sshPaths(ssh: SshSettings, dir: string): SshSettings {
  const out: SshSettings = { ...ssh };
  if (ssh.config !== undefined) out.config = resolve(dir, expandHome(ssh.config));
  if (ssh.identityFile !== undefined) out.identityFile = resolve(dir, expandHome(ssh.identityFile));
  if (ssh.knownHosts !== undefined) out.knownHosts = resolve(dir, expandHome(ssh.knownHosts));
  return out;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** A path as short as is unambiguous: relative to cwd when inside it. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}


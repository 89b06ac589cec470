/**
 * A machine map from a Slurm allocation (pure): one node per allocated node,
 * named as Slurm names it (what `srun -w` takes), `host` its NodeAddr (for
 * SSH, and for guests on it). Guests come from the `slurm.vms` template,
 * filled per node, or from discovery on the node (discovered-guests.ts), or
 * from a `nodes:` entry of the same name, which wins and may also give the
 * node's host, user, port or launcher. Entries for nodes outside the
 * allocation are left out: the map describes the cluster, the allocation picks.
 */
import { parseTemplate, TemplateError } from '../batch/config/template.js';
import type { NodeSpec, SlurmMachines, SlurmVms, VmSpec } from '../batch/config/types.js';
import type { SlurmNode } from './allocation.js';

/** A template problem: `field` is the key under `slurm.vms`. */
export class VmTemplateError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'VmTemplateError';
  }
}

const TEMPLATE_PLACEHOLDERS = ['node', 'host', 'index', 'node_index'] as const;

/** `slurm.vms` asks for discovery: its options (`user`, `identityFile`), else undefined (a template, or no guests). */
export function discoveryOptions(slurm: SlurmMachines | true): { user?: string; identityFile?: string } | undefined {
  const vms = slurm === true ? undefined : slurm.vms;
  if (vms === 'discover') return {};
  if (vms === undefined || !vms.discover) {
    if (vms?.identityFile !== undefined) throw new VmTemplateError('applies with `discover: true` (for a template, give the key under `ssh: {identityFile}`)', 'identityFile');
    if (vms && vms.count === undefined) throw new VmTemplateError('is missing: give `count` (guests per node) for a template, or `discover: true` to find each node\'s guests', 'count');
    return undefined;
  }
  for (const field of ['count', 'name', 'host', 'port'] as const) {
    if (vms[field] !== undefined) throw new VmTemplateError(`does not apply with \`discover: true\`: discovery reads each guest's name and SSH address from its QEMU command line`, field);
  }
  return { ...(vms.user !== undefined ? { user: vms.user } : {}), ...(vms.identityFile !== undefined ? { identityFile: vms.identityFile } : {}) };
}

/** Nodes that need discovery: every allocated node without guests under `nodes:`. */
export function nodesToDiscover(nodes: readonly SlurmNode[], listed: readonly NodeSpec[] = []): SlurmNode[] {
  return nodes.filter((node) => !listed.find((given) => given.name === node.name)?.vms);
}

/** `discovered`: each node's guests found by discovery (with `slurm.vms: discover`), by node name. */
export function allocationNodes(nodes: readonly SlurmNode[], slurm: SlurmMachines | true, listed: readonly NodeSpec[] = [], discovered?: ReadonlyMap<string, VmSpec[]>): NodeSpec[] {
  const template = slurm === true || slurm.vms === 'discover' || slurm.vms?.discover ? undefined : slurm.vms;
  return nodes.map((slurmNode, n) => {
    const given = listed.find((node) => node.name === slurmNode.name);
    const out: NodeSpec = { ...(given ?? {}), name: slurmNode.name, host: given?.host ?? slurmNode.addr };
    const found = discovered?.get(slurmNode.name);
    if (!given?.vms && found) out.vms = found.map((vm) => ({ ...vm }));
    if (!given?.vms && template && template.count !== undefined && template.count > 0) {
      const values = (index: number): Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string> => ({
        node: slurmNode.name,
        host: slurmNode.addr,
        index: String(index),
        node_index: String(n + 1),
      });
      out.vms = Array.from({ length: template.count! }, (_, i) => guestFromTemplate(template, values(i + 1)));
    }
    return out;
  });
}

function guestFromTemplate(template: SlurmVms, values: Record<string, string>): VmSpec {
  const vm: VmSpec = { name: fill(template.name ?? 'vm{index}', values, 'name') };
  if (template.host !== undefined) vm.host = fill(template.host, values, 'host');
  if (template.port !== undefined) {
    const text = fill(String(template.port), values, 'port');
    const port = Number(text);
    if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new VmTemplateError(`gives port ${JSON.stringify(text)} for guest ${vm.name} of node ${values.node}: expected a number from 1 to 65535`, 'port');
    vm.port = port;
  }
  if (template.user !== undefined) vm.user = fill(template.user, values, 'user');
  return vm;
}

/** Fills `{node}`, `{host}`, `{index}`, `{node_index}` (unquoted: these are names and numbers, not shell words). */
function fill(template: string, values: Record<string, string>, field: string): string {
  let parts;
  try {
    parts = parseTemplate(template);
  } catch (e) {
    if (e instanceof TemplateError) throw new VmTemplateError(e.message, field);
    throw e;
  }
  return parts
    .map((part) => {
      if ('text' in part) return part.text;
      if (!Object.hasOwn(values, part.name)) throw new VmTemplateError(`unknown placeholder {${part.name}} (known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`, field);
      return values[part.name]!;
    })
    .join('');
}

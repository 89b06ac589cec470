/**
 * A testbed node managed by libvirt: a real libvirtd (and virtlogd) per node,
 * started by hand (no systemd) INSIDE the node's PID and mount namespace, so
 * a session on the node sees its own libvirtd and guests exactly as on a real
 * host. The node's private copies of libvirt's folders (/run/libvirt as a
 * tmpfs; /etc/libvirt/qemu, /var/lib/libvirt/qemu, /var/cache/libvirt/qemu,
 * /var/log/libvirt/qemu bound from the testbed's run folder) keep nodes apart
 * and leave the host's libvirt alone. When the node's sshd (the namespace's
 * PID 1) ends, the kernel ends its libvirtd too.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { descendants } from '../batch/process-tree.js';
import { quote } from '../shell.js';
import { domainXml, type DomainLaunch } from './libvirt-xml.js';
import { isOurs } from './procs.js';
import type { NodeState } from './state.js';

const run = promisify(execFile);
const URI = 'qemu:///system';
/** The host folders libvirt's QEMU driver needs; each node gets its own under them. */
const PRIVATE = ['/etc/libvirt/qemu', '/var/lib/libvirt/qemu', '/var/cache/libvirt/qemu', '/var/log/libvirt/qemu'];

/** Runs a sh script inside the node's namespaces (as a session on the node would run it). */
export async function inNode(node: Pick<NodeState, 'name' | 'nsInit'>, script: string, timeoutMs = 60_000): Promise<string> {
  if (!node.nsInit) throw new Error(`${node.name}: a libvirt node needs its own namespace`);
  try {
    const { stdout } = await run('nsenter', ['--target', String(node.nsInit), '--pid', '--mount', '--', 'sh', '-c', script], { timeout: timeoutMs, maxBuffer: 8 << 20 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${node.name}: ${stderr || (error as Error).message}`);
  }
}

/** Is this machine set up for libvirt guests (scripts/setup.d/40-libvirt.sh)? Says what is missing. */
export function libvirtSetupProblem(): string | undefined {
  if (!existsSync('/usr/sbin/libvirtd') || !existsSync('/usr/bin/virsh')) return 'libvirtd or virsh is not installed (Debian packages libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients)';
  const missing = PRIVATE.filter((d) => !existsSync(d));
  if (missing.length) return `${missing.join(', ')} missing`;
  return undefined;
}

export function nodeLibvirtDir(runDir: string, node: string): string {
  return join(runDir, `${node}-libvirt`);
}

/** Mounts the node's private libvirt folders and starts virtlogd and libvirtd in its namespace; returns when libvirtd answers. */
export async function startNodeLibvirt(node: NodeState, runDir: string): Promise<string> {
  const dir = nodeLibvirtDir(runDir, node.name);
  const parts = PRIVATE.map((p, i) => ({ target: p, source: join(dir, ['etc', 'lib', 'cache', 'log'][i]!) }));
  for (const p of parts) await mkdir(p.source, { recursive: true });
  await mkdir('/run/libvirt', { recursive: true });
  const script = [
    'set -e',
    'mount -t tmpfs -o mode=0755 tmpfs /run/libvirt',
    ...parts.map((p) => `mount --bind ${quote(p.source)} ${quote(p.target)}`),
    `virtlogd -d -p ${quote(join(dir, 'virtlogd.pid'))}`,
    `libvirtd -d -p ${quote(join(dir, 'libvirtd.pid'))}`,
  ].join('\n');
  await inNode(node, script);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await inNode(node, `virsh -c ${URI} version >/dev/null`, 10_000);
      return dir;
    } catch (error) {
      if (Date.now() > deadline) throw new UserError(`testbed up: libvirtd on ${node.name} did not answer in 30 s (${(error as Error).message.split('\n')[0]})`);
      await delay(100);
    }
  }
}

/** Defines and starts one domain; returns its UUID and the host PID of its QEMU. */
export async function startDomain(node: NodeState, launch: DomainLaunch, xmlFile: string): Promise<{ uuid: string; pid: number }> {
  await writeFile(xmlFile, domainXml(launch));
  await rm(launch.consoleLog, { force: true });
  let uuid: string;
  try {
    uuid = (await inNode(node, `virsh -q -c ${URI} define ${quote(xmlFile)} >/dev/null && virsh -q -c ${URI} start ${quote(launch.name)} >/dev/null && virsh -q -c ${URI} domuuid ${quote(launch.name)}`)).trim();
  } catch (error) {
    await inNode(node, `virsh -q -c ${URI} undefine ${quote(launch.name)} >/dev/null 2>&1; true`).catch(() => undefined);
    throw new UserError(`libvirt could not start ${launch.name} on ${node.name}: ${(error as Error).message}`);
  }
  for (const pid of descendants(node.nsInit!)) if (await isOurs(pid, [`guest=${launch.name},`, launch.dataDisk])) return { uuid, pid };
  throw new Error(`${launch.name} started under libvirt on ${node.name}, but its QEMU was not found`);
}

/** Destroys and undefines the node's domains, then stops its libvirtd and virtlogd (what `up` started). */
export async function stopNodeLibvirt(node: NodeState, runDir: string): Promise<void> {
  if (!node.nsInit) return;
  const dir = nodeLibvirtDir(runDir, node.name);
  const names = node.guests.map((g) => quote(g.name)).join(' ');
  const script = [
    `for d in ${names}; do virsh -q -c ${URI} destroy "$d" >/dev/null 2>&1; virsh -q -c ${URI} undefine "$d" >/dev/null 2>&1; done`,
    `for f in ${quote(join(dir, 'libvirtd.pid'))} ${quote(join(dir, 'virtlogd.pid'))}; do [ -r "$f" ] && kill "$(cat "$f")" 2>/dev/null; done`,
    'true',
  ].join('\n');
  await inNode(node, script).catch(() => undefined);
}

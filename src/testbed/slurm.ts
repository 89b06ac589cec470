/**
 * `expert testbed up --slurm`: every testbed node becomes a Slurm node. One
 * slurmctld (on the host) and one slurmd per node, each slurmd started INSIDE
 * its node's PID and mount namespace (nsenter into the node's sshd, PID 1
 * there), so a job step on node2 is a process of node2: it sees node2's QEMU
 * guests only, as a session over SSH does. The daemons are the local Slurm of
 * src/slurm/local-cluster.ts (MULTIPLE_SLURMD on loopback, munge), with node
 * names node1..nodeN (the testbed's) and ports free on this machine. When a
 * node's sshd ends, the kernel ends that node's slurmd and steps with it.
 */
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { slurmCommand } from '../slurm/commands.js';
import { clusterDaemons, clusterDown, clusterUp, type LocalCluster } from '../slurm/local-cluster.js';
import { canIsolateNodes } from './node.js';
import { testbedFiles } from './paths.js';
import { cmdline } from './procs.js';
import type { NodeState, TestbedState } from './state.js';

export interface TestbedSlurmState {
  /** The cluster's folder: slurm.conf, cgroup.conf, state, spool, log, pid files. */
  dir: string;
  conf: string;
  partition: string;
  controllerPort: number;
  /** slurmd of node k listens on slurmdPort + k - 1. */
  slurmdPort: number;
  nodes: string[];
}

export interface SlurmNodeStatus {
  name: string;
  /** Host PID of the node's slurmd. */
  slurmdPid?: number;
  running: boolean;
  /** The slurmd runs in its node's PID namespace (it sees that node's guests only). */
  inNodeNamespace: boolean;
  /** Slurm's own word for the node (`sinfo %t`: idle, alloc, mix, down...), when slurmctld answers. */
  state?: string;
}

export interface TestbedSlurmStatus {
  conf: string;
  partition: string;
  controllerPid?: number;
  controllerRunning: boolean;
  nodes: SlurmNodeStatus[];
}

const PARTITION = 'testbed';
/** Away from the project's test Slurm (16817, 17001...) and Slurm's defaults (6817, 6818). */
const FIRST_PORT = 17100;

export function slurmDir(testbedDir: string): string {
  return testbedFiles(testbedDir).slurm;
}

/** What keeps `--slurm` from working on this machine, or undefined. */
export function slurmSetupProblem(isolate: boolean): string | undefined {
  if (!isolate || !canIsolateNodes()) return 'each node\'s slurmd runs inside the node\'s PID namespace, which needs root and util-linux `unshare`';
  const missing = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/srun', '/usr/bin/sinfo', '/usr/sbin/munged'].filter((p) => !existsSync(p));
  if (missing.length) return `${missing.map((p) => basename(p)).join(', ')} not installed (Debian packages slurmctld, slurmd, slurm-client, munge; scripts/setup.sh installs them)`;
  if (!existsSync('/etc/munge/munge.key')) return 'munge has no key (/etc/munge/munge.key): run scripts/setup.sh (its step 45-slurm.sh makes one)';
  return undefined;
}

/** The argv that runs a program inside a node's namespaces (as QEMU is started there). */
export function inNodeArgv(node: Pick<NodeState, 'nsInit'>): string[] {
  return ['nsenter', '--target', String(node.nsInit), '--pid', '--mount', '--'];
}

/** Starts slurmctld and a slurmd in each node's namespace; returns when every node is idle. */
export async function startTestbedSlurm(state: TestbedState): Promise<TestbedSlurmState> {
  const byName = new Map(state.nodes.map((n) => [n.name, n]));
  for (const n of state.nodes) if (!n.nsInit) throw new Error(`${n.name} has no PID namespace of its own`);
  const dir = slurmDir(state.dir);
  const base = await freePortRun(state.nodes.length + 1);
  const cluster = await clusterUp({
    dir,
    nodes: state.nodes.length,
    namePrefix: 'node',
    controllerPort: base,
    slurmdPort: base + 1,
    partition: PARTITION,
    slurmdWrapper: (name) => inNodeArgv(byName.get(name)!),
  });
  return { dir, conf: cluster.conf, partition: cluster.partition, controllerPort: base, slurmdPort: base + 1, nodes: cluster.nodeNames };
}

/** Stops the testbed's slurmctld and slurmd's (also when state.json was lost: they are found by their slurm.conf). */
export async function stopTestbedSlurm(testbedDir: string): Promise<boolean> {
  const dir = slurmDir(testbedDir);
  if (!existsSync(dir)) return false;
  const had = (await clusterDaemons({ dir })).length > 0;
  await clusterDown({ dir });
  return had;
}

/** The environment Slurm's client commands (salloc, srun, sinfo) need for the testbed's cluster. */
export function slurmEnv(slurm: Pick<TestbedSlurmState, 'conf'>, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, SLURM_CONF: slurm.conf };
}

/** The LocalCluster view of the testbed's Slurm (for code written against src/slurm, e.g. the tests' harness). */
export function slurmCluster(slurm: TestbedSlurmState): LocalCluster {
  return { dir: slurm.dir, conf: slurm.conf, nodeNames: slurm.nodes, partition: slurm.partition, env: slurmEnv(slurm) };
}

export async function slurmStatus(slurm: TestbedSlurmState, nodes: NodeState[]): Promise<TestbedSlurmStatus> {
  const daemons = await Promise.all((await clusterDaemons({ dir: slurm.dir })).map(async (pid) => ({ pid, argv: await cmdline(pid) })));
  const controller = daemons.find((d) => basename(d.argv[0] ?? '') === 'slurmctld');
  const states = controller ? await sinfoStates(slurm) : new Map<string, string>();
  const out: SlurmNodeStatus[] = [];
  for (const name of slurm.nodes) {
    const daemon = daemons.find((d) => basename(d.argv[0] ?? '') === 'slurmd' && d.argv[d.argv.indexOf('-N') + 1] === name);
    const node = nodes.find((n) => n.name === name);
    const inNodeNamespace = daemon !== undefined && node?.nsInit !== undefined && (await pidNamespace(daemon.pid)) === (await pidNamespace(node.nsInit));
    out.push({ name, slurmdPid: daemon?.pid, running: daemon !== undefined, inNodeNamespace, state: states.get(name) });
  }
  return { conf: slurm.conf, partition: slurm.partition, controllerPid: controller?.pid, controllerRunning: controller !== undefined, nodes: out };
}

/** `sinfo -N %N %t`: node → state (`idle`, `alloc`, `down*`...); empty when slurmctld does not answer. */
async function sinfoStates(slurm: TestbedSlurmState): Promise<Map<string, string>> {
  try {
    const { stdout } = await slurmCommand('sinfo', ['-h', '-N', '-o', '%N %t'], { env: slurmEnv(slurm), timeoutMs: 5000 });
    return parseSinfoStates(stdout);
  } catch {
    return new Map();
  }
}

/** `node1 idle` lines → map (a node in several partitions is listed once per partition: the first wins). */
export function parseSinfoStates(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, state] = line.trim().split(/\s+/);
    if (name && state && !out.has(name)) out.set(name, state);
  }
  return out;
}

async function pidNamespace(pid: number): Promise<string | undefined> {
  try { return await readlink(`/proc/${pid}/ns/pid`); } catch { return undefined; }
}

/** The first of `count` consecutive loopback ports that are all free (slurm.conf gives the slurmd ports as a range). */
async function freePortRun(count: number): Promise<number> {
  for (let base = FIRST_PORT; base + count < 30_000; base += 32) {
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new UserError(`testbed up --slurm: found no ${count} consecutive free ports from ${FIRST_PORT} to 30000 on 127.0.0.1`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    // slurmctld and slurmd bind every address: probe the wildcard, not loopback only.
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

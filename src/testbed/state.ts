/**
 * What `up` started, as `down` and `status` (maybe in another process) need
 * it: `.expert/testbed/state.json`.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Accel } from './qemu-args.js';
import type { TestbedSlurmState } from './slurm.js';

export interface GuestState {
  name: string;
  pid: number;
  sshPort: number;
  qmpSocket: string;
  consoleLog: string;
  dataDisk: string;
  /** libvirt testbeds: the domain's UUID (its name is `name`). */
  uuid?: string;
}

export interface NodeState {
  name: string;
  /** `127.0.0.1` (a loopback sshd stands for the node) or `local`. */
  host: string;
  port?: number;
  user: string;
  sshdPid?: number;
  sshdDir?: string;
  /** Host PID of the node's PID-namespace init (its sshd) when the node is isolated; its guests run in that namespace. */
  nsInit?: number;
  /** libvirt testbeds: the folder holding the node's libvirt state and daemons' pid files. */
  libvirtDir?: string;
  guests: GuestState[];
}

export interface TestbedOptionsUsed {
  vmsPerNode: number;
  nodes: number;
  memoryMb: number;
  cpus: number;
  iothread: boolean;
  diskMb: number;
  /** Who runs the guests: QEMU started by hand (default), or a libvirtd per node. */
  manager?: 'qemu' | 'libvirt';
  /** libvirt only: each domain's XML pins its vCPUs (`<vcpupin>`). */
  vcpupin?: boolean;
  /** Every node is a Slurm node (its slurmd in the node's namespace), with a slurmctld of the testbed's. */
  slurm?: boolean;
}

export interface TestbedState {
  version: 1;
  dir: string;
  startedAt: string;
  accel: Accel;
  accelReason: string;
  qemuVersion: string;
  image: { hash: string; dir: string; kernelPackage: string };
  options: TestbedOptionsUsed;
  identityFile: string;
  knownHosts: string;
  nodes: NodeState[];
  /** `--slurm`: the testbed's Slurm cluster. */
  slurm?: TestbedSlurmState;
}

export async function readState(file: string): Promise<TestbedState | undefined> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch { return undefined; }
  try {
    const state = JSON.parse(text) as TestbedState;
    return state.version === 1 && Array.isArray(state.nodes) ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeState(file: string, state: TestbedState): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  await rename(`${file}.tmp`, file);
}

/**
 * `expert testbed status`: what state.json says, checked against /proc (is
 * each QEMU still ours and alive; its threads with their names).
 */
import { testbedDir, testbedFiles } from './paths.js';
import { isOurs, threads, type ThreadInfo } from './procs.js';
import { readState, type TestbedState } from './state.js';
import { slurmStatus, type TestbedSlurmStatus } from './slurm.js';

export interface GuestStatus {
  node: string;
  name: string;
  pid: number;
  running: boolean;
  sshHost: string;
  sshPort: number;
  threads: ThreadInfo[];
  consoleLog: string;
}

export interface NodeStatus {
  name: string;
  host: string;
  port?: number;
  user: string;
  sshdPid?: number;
  running: boolean;
}

export interface TestbedStatus {
  dir: string;
  machinesFile: string;
  accel: string;
  accelReason: string;
  qemuVersion: string;
  imageHash: string;
  startedAt: string;
  memoryMb: number;
  cpus: number;
  iothread: boolean;
  /** `qemu` (QEMU started by hand) or `libvirt` (a libvirtd per node runs the guests as domains). */
  manager: 'qemu' | 'libvirt';
  nodes: NodeStatus[];
  guests: GuestStatus[];
  /** `--slurm`: the controller and each node's slurmd (host PID, in the node's namespace, Slurm's state of the node). */
  slurm?: TestbedSlurmStatus;
  /** Every guest and node sshd is running (and with --slurm, slurmctld and every node's slurmd in its namespace). */
  complete: boolean;
  problems: string[];
}

/** Undefined when no testbed was started in this folder. */
export async function testbedStatus(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestbedStatus | undefined> {
  return liveStatus(testbedDir(options.cwd, options.env ?? process.env));
}

export async function liveStatus(dir: string): Promise<TestbedStatus | undefined> {
  const files = testbedFiles(dir);
  const state = await readState(files.state);
  if (!state) return undefined;
  return describe(state, files);
}

async function describe(state: TestbedState, files: ReturnType<typeof testbedFiles>): Promise<TestbedStatus> {
  const problems: string[] = [];
  const nodes: NodeStatus[] = [];
  const guests: GuestStatus[] = [];
  for (const n of state.nodes) {
    const running = n.sshdPid ? await isOurs(n.sshdPid, [`${n.sshdDir}/sshd_config`]) : n.host === 'local';
    if (!running) problems.push(`${n.name}'s sshd is not running`);
    nodes.push({ name: n.name, host: n.host, port: n.port, user: n.user, sshdPid: n.sshdPid, running });
    for (const g of n.guests) {
      const ok = await isOurs(g.pid, [`guest=${g.name},`, files.run]);
      if (!ok) problems.push(`${g.name} is not running`);
      guests.push({ node: n.name, name: g.name, pid: g.pid, running: ok, sshHost: '127.0.0.1', sshPort: g.sshPort, threads: ok ? await threads(g.pid) : [], consoleLog: g.consoleLog });
    }
  }
  const expected = state.options.vmsPerNode * state.options.nodes;
  if (guests.length < expected) problems.push(`${expected - guests.length} of ${expected} guests were never started`);
  let slurm: TestbedSlurmStatus | undefined;
  if (state.slurm) {
    slurm = await slurmStatus(state.slurm, state.nodes);
    if (!slurm.controllerRunning) problems.push('slurmctld is not running');
    for (const n of slurm.nodes) {
      if (!n.running) problems.push(`${n.name}'s slurmd is not running`);
      else if (!n.inNodeNamespace) problems.push(`${n.name}'s slurmd runs outside the node's PID namespace`);
    }
  } else if (state.options.slurm) {
    problems.push('Slurm was asked for (--slurm) but never started');
  }
  return {
    dir: state.dir,
    machinesFile: files.machines,
    accel: state.accel,
    accelReason: state.accelReason,
    qemuVersion: state.qemuVersion,
    imageHash: state.image.hash,
    startedAt: state.startedAt,
    memoryMb: state.options.memoryMb,
    cpus: state.options.cpus,
    iothread: state.options.iothread,
    manager: state.options.manager ?? 'qemu',
    nodes,
    guests,
    ...(slurm ? { slurm } : {}),
    complete: problems.length === 0,
    problems,
  };
}

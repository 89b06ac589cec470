/**
 * `expert testbed up`: image → accelerator → node sshds → guests booted in
 * parallel → wait for SSH → (--slurm: slurmctld, a slurmd in each node's
 * namespace) → machines.yaml + known_hosts. Whatever fails or is
 * interrupted half-way is torn down again (guests, sshds), logs are kept.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, freemem, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.js';
import { chooseAccel, type AccelRequest } from './accel.js';
import { ensureGuestImage } from './image.js';
import { BootFailure, consoleTail, makeDataDisk, PortInUse, QEMU, startQemu, waitForGuest } from './guest.js';
import { knownHostsLines, LIMITS, checkInt, machineMapYaml, planLayout, slurmMachineMapYaml } from './layout.js';
import { canIsolateNodes, startNodeSshd } from './node.js';
import { cacheDir, testbedDir, testbedFiles } from './paths.js';
import { parseQemuVersion } from './procs.js';
import type { GuestLaunch } from './qemu-args.js';
import { freePort, makeClientKey } from './sshd.js';
import { writeState, type GuestState, type NodeState, type TestbedState } from './state.js';
import { teardown, withLock } from './down.js';
import { libvirtSetupProblem, nodeLibvirtDir, startDomain, startNodeLibvirt } from './libvirt.js';
import { liveStatus, type TestbedStatus } from './status.js';
import { slurmSetupProblem, startTestbedSlurm } from './slurm.js';

const run = promisify(execFile);

export interface TestbedUpOptions {
  /** Guests per node (default 2). */
  vms?: number;
  /** Nodes, each a loopback sshd owning its guests (default 1). */
  nodes?: number;
  accel?: AccelRequest;
  memoryMb?: number;
  cpus?: number;
  iothread?: boolean;
  /** Size of each guest's data disk (default 512 MiB, sparse). */
  diskMb?: number;
  /** Give up on guests that do not answer SSH by then (default grows with the number of guests; TCG is slow). */
  bootTimeoutMs?: number;
  /** Project folder (default process.cwd()); the testbed lives in <cwd>/.expert/testbed or $EXPERT_TESTBED_DIR. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Progress lines for a human. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  /** Each node in its own PID namespace, so it sees only its own guests (default: when running as root). */
  isolateNodes?: boolean;
  /** `qemu` (default): QEMU started by hand; `libvirt`: a libvirtd per node defines and runs each guest as a domain. */
  manager?: 'qemu' | 'libvirt';
  /** libvirt only: write `<vcpupin>` into each domain's XML (vCPUs spread over the host CPUs round robin). */
  vcpupin?: boolean;
  /** Every node a Slurm node: a slurmctld of the testbed's and a slurmd inside each node's PID namespace (needs root). */
  slurm?: boolean;
}

export interface TestbedUpResult {
  /** True when the testbed was already up and nothing was started. */
  alreadyUp: boolean;
  status: TestbedStatus;
  /** Milliseconds from the first QEMU start until every guest answered SSH. */
  bootMs?: number;
  /** When already up: how the running testbed differs from what was asked (e.g. `--vms 2 (asked 5)`); `down` first to change it. */
  differences?: string[];
}

function differences(s: TestbedStatus, asked: { vmsPerNode: number; nodeCount: number; memoryMb: number; cpus: number; options: TestbedUpOptions }): string[] {
  const out: string[] = [];
  const nodes = s.nodes.length;
  const vms = Math.round(s.guests.length / Math.max(1, nodes));
  if (vms !== asked.vmsPerNode) out.push(`--vms ${vms} (asked ${asked.vmsPerNode})`);
  if (nodes !== asked.nodeCount) out.push(`--nodes ${nodes} (asked ${asked.nodeCount})`);
  if (s.memoryMb !== asked.memoryMb) out.push(`--memory ${s.memoryMb} (asked ${asked.memoryMb})`);
  if (s.cpus !== asked.cpus) out.push(`--cpus ${s.cpus} (asked ${asked.cpus})`);
  if (asked.options.iothread !== undefined && s.iothread !== asked.options.iothread) out.push(`--iothread ${s.iothread ? 'on' : 'off'} (asked ${asked.options.iothread ? 'on' : 'off'})`);
  if (asked.options.accel && asked.options.accel !== 'auto' && asked.options.accel !== s.accel) out.push(`--accel ${s.accel} (asked ${asked.options.accel})`);
  if ((asked.options.manager ?? 'qemu') !== s.manager) out.push(`--manager ${s.manager} (asked ${asked.options.manager ?? 'qemu'})`);
  if (asked.options.slurm !== undefined && (s.slurm !== undefined) !== asked.options.slurm) out.push(`--slurm ${s.slurm ? 'on' : 'off'} (asked ${asked.options.slurm ? 'on' : 'off'})`);
  return out;
}

export async function testbedUp(options: TestbedUpOptions = {}): Promise<TestbedUpResult> {
  const env = options.env ?? process.env;
  const dir = testbedDir(options.cwd, env);
  const files = testbedFiles(dir);
  const progress = options.onProgress ?? (() => undefined);
  const vmsPerNode = options.vms ?? 2;
  const nodeCount = options.nodes ?? 1;
  const memoryMb = options.memoryMb ?? 256;
  const cpus = options.cpus ?? 1;
  const diskMb = options.diskMb ?? 512;
  const layout = planLayout(vmsPerNode, nodeCount);
  checkInt('--memory', memoryMb, LIMITS.memoryMb[0], LIMITS.memoryMb[1]);
  checkInt('--cpus', cpus, LIMITS.cpus[0], LIMITS.cpus[1]);
  checkInt('--disk', diskMb, LIMITS.diskMb[0], LIMITS.diskMb[1]);
  const manager = options.manager ?? 'qemu';
  if (options.vcpupin && manager !== 'libvirt') throw new UserError('--vcpupin: only with --manager libvirt (it writes <vcpupin> into the domain XML)');
  if (manager === 'libvirt') {
    const problem = libvirtSetupProblem();
    if (problem) throw new UserError(`testbed up --manager libvirt: ${problem}; run scripts/setup.sh (its step setup.d/40-libvirt.sh prepares libvirt without systemd)`);
    if (!(options.isolateNodes ?? canIsolateNodes())) throw new UserError('testbed up --manager libvirt: needs root and util-linux unshare (each node runs its own libvirtd in its own PID and mount namespace)');
  }
  const guestCount = vmsPerNode * nodeCount;
  const needMb = guestCount * (memoryMb + 64);
  if (needMb * 1024 * 1024 > freemem()) throw new UserError(`${guestCount} guests × ${memoryMb} MiB need about ${needMb} MiB, and only ${Math.floor(freemem() / 2 ** 20)} MiB are free: use fewer --vms or less --memory`);
  const isolate = options.isolateNodes ?? canIsolateNodes();
  if (options.slurm) {
    const problem = slurmSetupProblem(isolate);
    if (problem) throw new UserError(`testbed up --slurm: ${problem}`);
  }
  await mkdir(dir, { recursive: true });

  return withLock(files.lock, async () => {
    const existing = await liveStatus(dir);
    if (existing && existing.complete) return { alreadyUp: true, status: existing, differences: differences(existing, { vmsPerNode, nodeCount, memoryMb, cpus, options }) };
    if (existing) {
      progress(`an earlier testbed in ${dir} is partly down (${existing.problems.join('; ')}): cleaning it up first`);
      await teardown(dir);
    }

    const image = await ensureGuestImage({ env, onLog: (l) => progress(l.replace(/^\[guest-image\] /, 'image: ')) });
    const qemuVersion = await installedQemuVersion();
    const accel = await chooseAccel(options.accel ?? 'auto', { kernel: image.kernel, qemuVersion, cacheDir: cacheDir(env) });
    progress(`accel: ${accel.accel} (${accel.reason})`);

    await mkdir(files.logs, { recursive: true });
    await mkdir(files.run, { recursive: true });
    const key = await makeClientKey(dir, { name: 'id_ed25519' });
    const [keyType, keyBlob] = key.publicKey.split(/\s+/);
    const state: TestbedState = {
      version: 1,
      dir,
      startedAt: new Date().toISOString(),
      accel: accel.accel,
      accelReason: accel.reason,
      qemuVersion,
      image: { hash: image.hash, dir: image.dir, kernelPackage: image.kernelPackage },
      options: { vmsPerNode, nodes: nodeCount, memoryMb, cpus, iothread: options.iothread ?? false, diskMb, manager, ...(options.vcpupin ? { vcpupin: true } : {}), ...(options.slurm ? { slurm: true } : {}) },
      identityFile: key.privateKeyPath,
      knownHosts: files.knownHosts,
      nodes: [],
    };
    const bootTimeoutMs = options.bootTimeoutMs ?? defaultBootTimeout(accel.accel, guestCount, cpus);
    let bootMs: number | undefined;
    try {
      const nodeHostKeys = new Map<string, string>();
      const user = userInfo().username;
      state.nodes = await Promise.all(layout.map(async (l): Promise<NodeState> => {
        const sshd = await startNodeSshd(files.run, l.node, key.publicKey, isolate);
        nodeHostKeys.set(l.node, sshd.hostKey);
        return { name: l.node, host: '127.0.0.1', port: sshd.port, user, sshdPid: sshd.pid, sshdDir: sshd.dir, nsInit: sshd.nsInit, guests: [] };
      }));
      await writeState(files.state, state);
      progress(`nodes: ${state.nodes.map((n) => `${n.name} (sshd on 127.0.0.1:${n.port})`).join(', ')}`);
      if (manager === 'libvirt') {
        await Promise.all(state.nodes.map(async (n) => { n.libvirtDir = await startNodeLibvirt(n, files.run); }));
        await writeState(files.state, state);
        progress(`libvirtd: running on ${state.nodes.map((n) => n.name).join(', ')} (each in its node's namespace)`);
      }

      const started = Date.now();
      // All guests start at once (disk formatting and QEMU's own set-up overlap);
      // each is recorded in state.json as soon as it runs, so `down` finds it
      // even if this process dies now.
      let saving = Promise.resolve();
      const save = () => (saving = saving.then(() => writeState(files.state, state)));
      const starts = layout.flatMap((l, n) => l.guests.map(async (name) => {
        if (options.signal?.aborted) throw new Error('interrupted');
        const guest = await startGuest(name, state, files, image, keyType!, keyBlob!, state.nodes[n]!);
        state.nodes[n]!.guests.push(guest);
        await save();
      }));
      const outcomes = await Promise.allSettled(starts);
      state.nodes.forEach((n, i) => n.guests.sort((a, b) => layout[i]!.guests.indexOf(a.name) - layout[i]!.guests.indexOf(b.name)));
      await save();
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      progress(`started ${guestCount} guest${guestCount > 1 ? 's' : ''} (${accel.accel}, ${memoryMb} MiB, ${cpus} vCPU${cpus > 1 ? 's' : ''} each); waiting for SSH (up to ${Math.round(bootTimeoutMs / 1000)} s)`);
      const deadline = Date.now() + bootTimeoutMs;
      await Promise.all(state.nodes.flatMap((n) => n.guests.map(async (g) => {
        const ms = await waitForGuest(g, { host: '127.0.0.1', port: g.sshPort, user: 'root', privateKeyPath: key.privateKeyPath, hostKey: image.hostKey }, deadline, options.signal);
        progress(`${g.name} answers SSH on 127.0.0.1:${g.sshPort} (${(ms / 1000).toFixed(1)} s)`);
      })));
      bootMs = Date.now() - started;

      if (options.slurm) {
        if (options.signal?.aborted) throw new Error('interrupted');
        state.slurm = await startTestbedSlurm(state);
        await writeState(files.state, state);
        // Which nodes are idle, and the SLURM_CONF to export, the CLI says once after `up:` (with what to type next).
        progress(`started Slurm: slurmctld on port ${state.slurm.controllerPort}, a slurmd in each node's namespace`);
        await writeFile(files.slurmMachines, slurmMachineMapYaml(state));
      }
      await writeFile(files.knownHosts, knownHostsLines(state, image.hostKey, nodeHostKeys));
      await writeFile(files.machines, machineMapYaml(state));
      await writeState(files.state, state);
    } catch (error) {
      progress(`tearing down what was started (${error instanceof BootFailure ? 'a guest did not boot' : (error as Error).message.split('\n')[0]})`);
      // libvirt keeps QEMU's own stderr (why it exited) in the domain log, which teardown removes with the node.
      const domainLog = error instanceof BootFailure && manager === 'libvirt' ? await libvirtDomainLogTail(state, error.guest, files.run) : '';
      await teardown(dir);
      const kvmHint = state.accel === 'kvm' ? '\nKVM fails or hangs like this under nested virtualisation: try --accel tcg (or auto, which probes first).' : '';
      if (error instanceof BootFailure) {
        const logged = domainLog ? `\nlast lines of libvirt's log for ${error.guest}:\n${domainLog}` : '';
        throw new UserError(`testbed up: ${error.message}${logged}\n(console logs are in ${files.logs})${error.consoleTail ? '' : kvmHint}`, { cause: error });
      }
      if (error instanceof UserError) throw new UserError(`testbed up: ${error.message}${kvmHint}`, { cause: error });
      throw error;
    }
    const status = await liveStatus(dir);
    return { alreadyUp: false, status: status!, bootMs };
  });
}

async function installedQemuVersion(): Promise<string> {
  try {
    return parseQemuVersion((await run(QEMU, ['--version'])).stdout);
  } catch (error) {
    throw new UserError(`testbed up: cannot run \`${QEMU} --version\` (${(error as Error).message}): install Debian's qemu-system-x86 (scripts/setup.sh does)`, { cause: error });
  }
}

/** TCG runs guests one host core per vCPU at most: allow for the crowd. */
function defaultBootTimeout(accel: 'kvm' | 'tcg', guests: number, cpus: number): number {
  const perGuestMs = accel === 'kvm' ? 3000 : 15_000;
  return 60_000 + Math.ceil((guests * cpus) / Math.max(1, availableParallelism())) * perGuestMs;
}

/** vCPU v of the g-th guest (from 0) on host CPU (g × vCPUs + v) mod CPUs: what a host with dedicated CPUs writes. */
function vcpupinFor(name: string, state: TestbedState): Record<number, string> | undefined {
  if (!state.options.vcpupin) return undefined;
  const index = Number(/\d+$/.exec(name)?.[0] ?? 1) - 1;
  const hostCpus = Math.max(1, availableParallelism());
  return Object.fromEntries(Array.from({ length: state.options.cpus }, (_, v) => [v, String((index * state.options.cpus + v) % hostCpus)]));
}

async function startGuest(name: string, state: TestbedState, files: ReturnType<typeof testbedFiles>, image: { kernel: string; initrd: string; rootDisk: string }, keyType: string, keyBlob: string, node: NodeState): Promise<GuestState> {
  const nsInit = node.nsInit;
  const dataDisk = join(files.run, `${name}.img`);
  await makeDataDisk(dataDisk, state.options.diskMb);
  for (let attempt = 0; ; attempt++) {
    const launch: GuestLaunch = {
      name,
      accel: state.accel,
      memoryMb: state.options.memoryMb,
      cpus: state.options.cpus,
      iothread: state.options.iothread,
      kernel: image.kernel,
      initrd: image.initrd,
      rootDisk: image.rootDisk,
      dataDisk,
      sshPort: await freePort(),
      authorizedKey: `${keyType}:${keyBlob}`,
      qmpSocket: join(files.run, `${name}.qmp`),
      consoleLog: join(files.logs, `${name}.console.log`),
      pidFile: join(files.run, `${name}.pid`),
    };
    await rm(launch.qmpSocket, { force: true });
    if (state.options.manager === 'libvirt') {
      // A port taken between the probe and QEMU's bind fails the domain's start: try another one.
      try {
        const { uuid, pid } = await startDomain(node, { ...launch, vcpupin: vcpupinFor(name, state) }, join(files.run, `${name}.xml`));
        return { name, pid, sshPort: launch.sshPort, qmpSocket: launch.qmpSocket, consoleLog: launch.consoleLog, dataDisk, uuid };
      } catch (error) {
        if (/host forwarding|Address already in use/i.test((error as Error).message) && attempt < 4) continue;
        throw error;
      }
    }
    try {
      const pid = await startQemu(launch, nsInit);
      return { name, pid, sshPort: launch.sshPort, qmpSocket: launch.qmpSocket, consoleLog: launch.consoleLog, dataDisk };
    } catch (error) {
      // Another program can take the free port between the probe and QEMU's bind.
      if (error instanceof PortInUse && attempt < 4) continue;
      throw error;
    }
  }
}

/** The end of libvirt's log of a guest's QEMU (the node's /var/log/libvirt/qemu/NAME.log, kept in its run folder). */
async function libvirtDomainLogTail(state: TestbedState, guest: string, runDir: string): Promise<string> {
  const node = state.nodes.find((n) => n.guests.some((g) => g.name === guest));
  return node ? consoleTail(join(nodeLibvirtDir(runDir, node.name), 'log', `${guest}.log`), 15) : '';
}

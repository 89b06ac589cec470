/**
 * `expert testbed down`: the testbed's Slurm (slurmctld, each node's slurmd),
 * every guest (QMP quit, SIGTERM, SIGKILL), every node sshd, then the state (state.json, machines.yaml, known_hosts, keys, disks).
 * Console logs stay in logs/ for a post-mortem.
 */
import { open, readFile, rm, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { stopGuest } from './guest.js';
import { stopNodeLibvirt } from './libvirt.js';
import { stopNodeSshd } from './node.js';
import { testbedDir, testbedFiles } from './paths.js';
import { alive, processesMentioning, signal, waitGone } from './procs.js';
import { readState } from './state.js';
import { stopTestbedSlurm } from './slurm.js';

export interface TestbedDownResult {
  /** False when there was no testbed to stop. */
  wasUp: boolean;
  stoppedGuests: string[];
  stoppedNodes: string[];
  /** A slurmctld or slurmd of the testbed was running and was stopped. */
  stoppedSlurm?: boolean;
}

export async function testbedDown(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestbedDownResult> {
  const dir = testbedDir(options.cwd, options.env ?? process.env);
  // No testbed folder: nothing was ever brought up here (and there is nowhere to put a lock).
  if (!existsSync(dir)) return { wasUp: false, stoppedGuests: [], stoppedNodes: [] };
  return withLock(testbedFiles(dir).lock, () => teardown(dir));
}

/** Stops whatever state.json names (in parallel) and removes the state; safe to call on a half-started testbed. */
export async function teardown(dir: string): Promise<TestbedDownResult> {
  const files = testbedFiles(dir);
  const state = await readState(files.state);
  // Slurm first, so no step starts while the nodes go; found by its slurm.conf, also without a state file.
  const stoppedSlurm = await stopTestbedSlurm(dir);
  if (!state) {
    await stopStrays(files.run);
    await removeState(files);
    return { wasUp: false, stoppedGuests: [], stoppedNodes: [], ...(stoppedSlurm ? { stoppedSlurm } : {}) };
  }
  const guests = state.nodes.flatMap((n) => n.guests);
  // libvirt's guests go through libvirt (destroy, undefine), then its daemons; anything left is stopped as usual.
  if (state.options.manager === 'libvirt') await Promise.all(state.nodes.map((n) => stopNodeLibvirt(n, files.run)));
  await Promise.all(guests.map((g) => stopGuest(g, files.run)));
  await Promise.all(state.nodes.map((n) => stopNodeSshd(n)));
  await stopStrays(files.run);
  await removeState(files);
  return { wasUp: true, stoppedGuests: guests.map((g) => g.name), stoppedNodes: state.nodes.map((n) => n.name), ...(stoppedSlurm ? { stoppedSlurm } : {}) };
}

/** Anything still running from this testbed's run folder (a state file lost or written before a crash): TERM, then KILL. */
async function stopStrays(runDir: string): Promise<void> {
  const mark = `${runDir}/`;
  const pids = await processesMentioning(mark);
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, 'SIGTERM');
  if (await waitGone(pids, 3000)) return;
  for (const pid of await processesMentioning(mark)) signal(pid, 'SIGKILL');
  await waitGone(pids, 2000);
}

async function removeState(files: ReturnType<typeof testbedFiles>): Promise<void> {
  for (const f of [files.machines, files.slurmMachines, files.knownHosts, files.identity, `${files.identity}.pub`]) await rm(f, { force: true });
  // Slurm's state, spool and pid files go; its logs stay beside the console logs (slurm/log/).
  for (const sub of ['state', 'spool', 'run', 'slurm.conf', 'cgroup.conf']) await rm(join(files.slurm, sub), { recursive: true, force: true });
  await rm(files.run, { recursive: true, force: true });
  await rm(files.state, { force: true });
}

/** One `up` or `down` at a time per testbed folder; a lock left by a dead process is taken over. */
export async function withLock<T>(lockFile: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (!holder || !alive(holder) || holder === process.pid) { await unlink(lockFile).catch(() => undefined); continue; }
      if (Date.now() > deadline) throw new UserError(`the testbed in ${lockFile.replace(/\/\.lock$/, '')} is busy: process ${holder} is bringing it up or down`);
      await delay(200);
    }
  }
  try {
    return await body();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

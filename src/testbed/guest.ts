/**
 * One guest's effects: its data disk, starting QEMU (daemonized, so guests
 * outlive the `up` command), waiting until it answers SSH, stopping it.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { descendants } from '../batch/process-tree.js';
import { qemuArgs, type GuestLaunch } from './qemu-args.js';
import { alive, isOurs, qmpQuit, signal, waitGone } from './procs.js';
import { sshRun, type SshTarget } from './guest-ssh.js';
import type { GuestState } from './state.js';

const run = promisify(execFile);
export const QEMU = 'qemu-system-x86_64';

/** A fresh ext4 file system in a sparse file, initialised fully on the host so the guest runs no lazy-init writes during experiments. */
export async function makeDataDisk(path: string, sizeMb: number): Promise<void> {
  await rm(path, { force: true });
  await run('truncate', ['-s', `${sizeMb}M`, path]);
  // mkfs lives in /usr/sbin, which a normal user's PATH lacks.
  const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
  await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'expert-data', '-E', 'lazy_itable_init=0,lazy_journal_init=0', path], { env });
}

export class PortInUse extends Error {}

/** Starts QEMU; it daemonizes once its devices are set up, so a bad option or a taken port fails here. Returns the PID. */
export async function startQemu(launch: GuestLaunch, nsInit?: number): Promise<number> {
  await rm(launch.pidFile, { force: true });
  await rm(launch.consoleLog, { force: true });
  // In an isolated node, QEMU starts inside the node's PID namespace (and its daemon is adopted by the node's sshd).
  const [program, args] = nsInit ? ['nsenter', ['--target', String(nsInit), '--pid', '--mount', '--', QEMU, ...qemuArgs(launch)]] : [QEMU, qemuArgs(launch)];
  try {
    await run(program, args, { timeout: 60_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    if (/host forwarding|Address already in use/i.test(stderr)) throw new PortInUse(`port ${launch.sshPort}: ${stderr}`);
    throw new UserError(`${QEMU} for ${launch.name} did not start: ${stderr || (error as Error).message}`);
  }
  const pid = Number((await readFile(launch.pidFile, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${QEMU} for ${launch.name} wrote no pid file`);
  if (!nsInit) return pid;
  // The pid file holds the PID inside the namespace; the host's PID is the namespace init's child that runs this guest.
  for (const child of descendants(nsInit)) if (await isOurs(child, [`guest=${launch.name},`, launch.pidFile])) return child;
  throw new Error(`${QEMU} for ${launch.name} started in the node's namespace, but its host PID was not found`);
}

export class BootFailure extends Error {
  constructor(readonly guest: string, readonly why: string, readonly consoleTail: string) {
    super(`guest ${guest} ${why}${consoleTail ? `; last lines of its console log:\n${consoleTail}` : ' (its console log is empty)'}`);
  }
}

export async function consoleTail(path: string, lines = 25): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines).map((l) => `  | ${l}`).join('\n').replace(/^ {2}\| $/, '');
}

/** Waits for the console's EXPERT-READY marker, then for `true` over SSH. Fails fast when QEMU dies or the guest's init reports a failure. */
export async function waitForGuest(guest: GuestState, target: SshTarget, deadline: number, abort?: AbortSignal): Promise<number> {
  const started = Date.now();
  let lastError = 'no SSH answer';
  let ready = false;
  while (Date.now() < deadline) {
    if (abort?.aborted) throw new Error('interrupted');
    if (!alive(guest.pid)) throw new BootFailure(guest.name, `: QEMU (pid ${guest.pid}) exited during boot`, await consoleTail(guest.consoleLog));
    if (!ready) {
      const text = await readFile(guest.consoleLog, 'utf8').catch(() => '');
      const failure = /EXPERT-BOOT-FAILED[^\n]*|Kernel panic[^\n]*/.exec(text);
      if (failure) throw new BootFailure(guest.name, `failed to boot (${failure[0].trim()})`, await consoleTail(guest.consoleLog));
      ready = text.includes('EXPERT-READY');
    }
    if (ready) {
      try {
        const result = await sshRun(target, 'true', Math.max(1000, Math.min(10_000, deadline - Date.now())));
        if (result.code === 0) return Date.now() - started;
        lastError = `\`true\` exited ${result.code}: ${result.stderr.trim()}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
    }
    await delay(ready ? 200 : 100);
  }
  throw new BootFailure(guest.name, `did not answer SSH on port ${guest.sshPort} in time (${ready ? lastError : 'no EXPERT-READY on its console'})`, await consoleTail(guest.consoleLog));
}

/** QMP quit, then SIGTERM, then SIGKILL; only signals a PID whose command line is still this guest's. */
export async function stopGuest(guest: GuestState, mark: string): Promise<void> {
  if (!(await isOurs(guest.pid, [`guest=${guest.name},`, mark]))) return;
  if (await qmpQuit(guest.qmpSocket, 1500)) { if (await waitGone([guest.pid], 3000)) return; }
  signal(guest.pid, 'SIGTERM');
  if (await waitGone([guest.pid], 3000)) return;
  signal(guest.pid, 'SIGKILL');
  await waitGone([guest.pid], 3000);
}

/**
 * Real paused QEMU guests for Tune's tests: `qemu-system-x86_64 -S` needs no
 * kernel or disk and starts in well under a second. Each test stops what it
 * started (by PID), also when it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { OrphanGuard } from '../../src/batch/orphan-guard.js';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';

/** Kills our guests even when the test process is killed (-9, timeout). */
const guard = new OrphanGuard();

export interface PausedGuest {
  name: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface GuestOptions {
  smp?: number;
  iothreads?: number;
  /** The raw `-name` value; defaults to `guest=<name>,debug-threads=on` with commas doubled. */
  nameArg?: string;
  /** A QMP unix socket (for adding an iothread while the guest runs). */
  qmpSocket?: string;
  /** A raw image file attached as virtio disk `d0` with aio=threads (its I/O runs in QEMU's `worker` threads). */
  disk?: string;
}

export function threadComms(pid: number): Map<number, string> {
  const comms = new Map<number, string>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      comms.set(Number(tid), readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').replace(/\n$/, ''));
    } catch {
      /* thread ended */
    }
  }
  return comms;
}

export async function startPausedGuest(name: string, options: GuestOptions = {}): Promise<PausedGuest> {
  const smp = options.smp ?? 2;
  const iothreads = options.iothreads ?? 1;
  const args = ['-S', '-name', options.nameArg ?? `guest=${name.replace(/,/g, ',,')},debug-threads=on`, '-smp', String(smp), '-m', '64', '-accel', 'tcg', '-display', 'none', '-nodefaults', '-monitor', 'none', '-serial', 'none'];
  for (let i = 1; i <= iothreads; i++) args.push('-object', `iothread,id=io${i}`);
  if (options.qmpSocket) args.push('-qmp', `unix:${options.qmpSocket},server=on,wait=off`);
  if (options.disk) args.push('-drive', `file=${options.disk},format=raw,if=none,id=d0,aio=threads`, '-device', 'virtio-blk-pci,drive=d0');
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('qemu-system-x86_64 did not start');
  guard.track(pid);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const ended = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await ended;
    }
    guard.untrack(pid);
  };
  // Ready once every vCPU thread exists.
  for (let waited = 0; ; waited += 20) {
    if (child.exitCode !== null) throw new Error(`qemu exited early: ${stderr}`);
    try {
      const vcpus = [...threadComms(pid).values()].filter((c) => /^CPU \d+\//.test(c)).length;
      if (vcpus >= smp || (options.nameArg !== undefined && !options.nameArg.includes('debug-threads') && threadComms(pid).size >= smp + 1)) break;
    } catch {
      /* not yet */
    }
    if (waited > 10_000) {
      await stop();
      throw new Error(`qemu guest ${name} did not create its vCPU threads within 10 s: ${stderr}`);
    }
    await delay(20);
  }
  return { name, pid, child, stop };
}

/**
 * A paused guest named `<name>`, a temporary folder and a store in it, for `body`; afterwards the store is closed,
 * the guest stopped and the folder removed, whatever `body` did.
 */
export async function withGuestAndStore<T>(name: string, options: GuestOptions, body: (c: { dir: string; guest: PausedGuest; store: ExpertStore }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `expert-${name.replace(/-\d+$/, '')}-`));
  const guest = await startPausedGuest(name, options);
  const store = await openStore(join(dir, 'store.duckdb'));
  try {
    return await body({ dir, guest, store });
  } finally {
    await store.close();
    await guest.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function procState(pid: number, tid: number): { cpus: string; nice: number } {
  const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const cpus = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)![1]!;
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).trim().split(/\s+/);
  return { cpus, nice: Number(fields[16]) };
}

/** One QMP command on a running guest's socket (after the capabilities handshake); its `return`. */
export async function qmpCommand(qmpSocket: string, execute: string, args?: Record<string, unknown>): Promise<unknown> {
  const { createConnection } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = createConnection(qmpSocket);
    let buffer = '';
    let step = 0;
    socket.on('error', reject);
    socket.on('data', (data) => {
      buffer += data.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, nl)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        buffer = buffer.slice(nl + 1);
        if (message.error) {
          socket.destroy();
          reject(new Error(message.error.desc));
          return;
        }
        if (message.QMP !== undefined && step === 0) {
          step = 1;
          socket.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
        } else if (message.return !== undefined && step === 1) {
          step = 2;
          socket.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
        } else if (message.return !== undefined && step === 2) {
          socket.end();
          resolve(message.return);
        }
      }
    });
  });
}

/** Adds an iothread to a running guest over QMP: a new host thread `IO <id>` appears. */
export async function addIothread(qmpSocket: string, id: string): Promise<void> {
  await qmpCommand(qmpSocket, 'object-add', { 'qom-type': 'iothread', id });
}

/** A write to the guest's disk `d0` through QEMU's own qemu-io (runs while the guest is paused): a pool `worker` does it. */
export async function diskWrite(qmpSocket: string): Promise<void> {
  await qmpCommand(qmpSocket, 'human-monitor-command', { 'command-line': 'qemu-io d0 "write 0 64k"' });
}

export interface ClimbPolicyOptions {
  objective?: string;
  interval?: string;
  settle?: string;
  moves?: string[];
  /** Omitted when undefined; default [any, 0]. */
  cpus?: Array<string | number> | null;
  nice?: number[];
}

/**
 * The YAML lines of a `policies:` list holding one hill-climb policy `climb` on one guest:
 * by default cpu_pct over 300 ms windows, pin and nice moves between [any, 0] and [0, 7].
 */
export function climbPolicyLines(guest: string, o: ClimbPolicyOptions = {}): string[] {
  const cpus = o.cpus === undefined ? ['any', 0] : o.cpus;
  return [
    '  - name: climb',
    '    dynamic:',
    '      optimizer: hill-climb',
    `      objective: ${o.objective ?? 'cpu_pct'}`,
    `      interval: ${o.interval ?? '300ms'}`,
    `      settle: ${o.settle ?? '100ms'}`,
    `      moves: [${(o.moves ?? ['pin', 'nice']).join(', ')}]`,
    ...(cpus ? [`      cpus: [${cpus.join(', ')}]`] : []),
    `      nice: [${(o.nice ?? [0, 7]).join(', ')}]`,
    `      guests: [${guest}]`,
  ];
}

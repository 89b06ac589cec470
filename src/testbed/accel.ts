/**
 * Which accelerator the guests get. `auto` takes KVM only when /dev/kvm opens
 * and a probe guest's kernel prints its banner within a few seconds: on some
 * hosts (nested virtualisation) /dev/kvm exists but guests hang before the
 * kernel prints anything. The probe's verdict is cached per host boot and QEMU
 * build, so only the first `up` after a reboot pays for it.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../errors.js';
import type { Accel } from './qemu-args.js';

export type AccelRequest = 'auto' | Accel;

export interface AccelChoice {
  accel: Accel;
  /** Why: `requested`, `kvm probe booted in 0.4 s`, `/dev/kvm not usable: ...`, `kvm probe printed nothing in 4 s`, `cached: ...`. */
  reason: string;
}

export interface ProbeContext {
  kernel: string;
  qemuVersion: string;
  cacheDir: string;
  /** How long the KVM probe may take to print the kernel banner. */
  timeoutMs?: number;
}

export function parseAccelRequest(value: string | undefined): AccelRequest {
  if (value === undefined || value === 'auto' || value === 'kvm' || value === 'tcg') return value ?? 'auto';
  throw new UserError(`--accel: expected auto, kvm or tcg, got '${value}'`);
}

export async function chooseAccel(request: AccelRequest, context: ProbeContext): Promise<AccelChoice> {
  if (request === 'tcg') return { accel: 'tcg', reason: 'requested' };
  const device = await kvmDeviceProblem();
  if (request === 'kvm') {
    if (device) throw new UserError(`--accel kvm: /dev/kvm is not usable (${device}); use --accel tcg or auto`);
    return { accel: 'kvm', reason: 'requested' };
  }
  if (device) return { accel: 'tcg', reason: `/dev/kvm not usable: ${device}` };
  const key = `${await bootId()} ${context.qemuVersion}`;
  const cacheFile = join(context.cacheDir, 'accel-probe.json');
  const cached = await readCache(cacheFile);
  if (cached[key]) return { accel: cached[key]!.accel, reason: `cached probe: ${cached[key]!.reason}` };
  const choice = await probeKvm(context.kernel, context.timeoutMs ?? 4000);
  cached[key] = choice;
  await mkdir(context.cacheDir, { recursive: true });
  await writeFile(cacheFile, JSON.stringify(cached, null, 1));
  return choice;
}

async function kvmDeviceProblem(): Promise<string | undefined> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no /dev/kvm' : `cannot open /dev/kvm (${(error as NodeJS.ErrnoException).code}); is this user in group kvm?`;
  }
}

async function bootId(): Promise<string> {
  try { return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim(); } catch { return 'unknown-boot'; }
}

async function readCache(file: string): Promise<Record<string, AccelChoice>> {
  try { return JSON.parse(await readFile(file, 'utf8')) as Record<string, AccelChoice>; } catch { return {}; }
}

/** Boots the image's kernel without a root file system: a working KVM prints `Linux version` at once. */
async function probeKvm(kernel: string, timeoutMs: number): Promise<AccelChoice> {
  const dir = await mkdtemp('/tmp/expert-kvm-probe-');
  const log = join(dir, 'console.log');
  // Under coreutils `timeout`, so the probe dies on its own even if this process is killed meanwhile.
  const limit = String(Math.ceil(timeoutMs / 1000) + 5);
  const child = spawn('timeout', ['--kill-after=2', limit, 'qemu-system-x86_64', 
    '-name', 'guest=expert-kvm-probe', '-machine', 'q35,accel=kvm', '-cpu', 'host', '-m', '128', '-nodefaults',
    '-kernel', kernel, '-append', 'console=ttyS0 panic=-1', '-serial', `file:${log}`, '-display', 'none', '-no-reboot',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', () => undefined);
  const started = Date.now();
  try {
    while (Date.now() - started < timeoutMs) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (text.includes('Linux version')) return { accel: 'kvm', reason: `kvm probe printed the kernel banner in ${((Date.now() - started) / 1000).toFixed(1)} s` };
      if (child.exitCode !== null) return { accel: 'tcg', reason: `kvm probe exited early: ${stderr.trim().split('\n').pop() ?? child.exitCode}` };
      await delay(50);
    }
    return { accel: 'tcg', reason: `kvm probe printed nothing in ${timeoutMs / 1000} s (nested virtualisation?)` };
  } finally {
    // `timeout` passes SIGTERM on to QEMU, and SIGKILLs it 2 s later if needed.
    child.kill('SIGTERM');
    await Promise.race([exited, delay(4000)]);
    await rm(dir, { recursive: true, force: true });
  }
}

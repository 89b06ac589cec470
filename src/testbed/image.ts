/**
 * The guest image: built from Debian packages by scripts/guest-image/build.sh
 * (also run at set-up), cached under ~/.cache/expert/guest/<hash>. This module
 * only asks the script for the folder (instant when cached) and reads what it wrote.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.js';
import { packageRoot } from '../package-root.js';

const run = promisify(execFile);

export interface GuestImage {
  dir: string;
  hash: string;
  /** e.g. `linux-image-6.1.0-56-amd64 6.1.192-2` */
  kernelPackage: string;
  kernel: string;
  initrd: string;
  rootDisk: string;
  /** The guests' SSH host key, `ssh-ed25519 AAAA...`. */
  hostKey: string;
}

export async function ensureGuestImage(options: { env?: NodeJS.ProcessEnv; onLog?: (line: string) => void } = {}): Promise<GuestImage> {
  const script = join(packageRoot(), 'scripts', 'guest-image', 'build.sh');
  let dir: string;
  try {
    const child = run('bash', [script], { env: options.env ?? process.env, maxBuffer: 16 << 20, timeout: 15 * 60_000 });
    child.child.stderr?.on('data', (chunk: Buffer) => { for (const line of chunk.toString().split('\n')) if (line) options.onLog?.(line); });
    const { stdout } = await child;
    dir = stdout.trim().split('\n').pop() ?? '';
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    const why = stderr.split('\n').filter((l) => /error/i.test(l)).pop() ?? stderr.split('\n').slice(-3).join(' | ');
    throw new UserError(`cannot build the testbed's guest image (${script}): ${why || (error as Error).message}`, { cause: error });
  }
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { hash: string; kernel: string };
  const hostKey = (await readFile(join(dir, 'dropbear_ed25519_host_key.pub'), 'utf8')).trim();
  return {
    dir,
    hash: manifest.hash,
    kernelPackage: manifest.kernel,
    // The uncompressed ELF (PVH boot) when the build could extract it: no decompression in every guest.
    kernel: existsSync(join(dir, 'vmlinux')) ? join(dir, 'vmlinux') : join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    rootDisk: join(dir, 'root.img'),
    hostKey,
  };
}

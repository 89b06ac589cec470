/** Looking at processes from tests: what is still running, and waiting for a condition. */
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

/** PIDs whose command line matches `pattern` (pgrep -f); none when nothing matches. */
export function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Polls `check` every 50 ms until it holds or `ms` pass; returns its last answer. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await delay(50);
  }
  return check();
}

/** Looking at processes from tests: what is still running, and waiting for a condition. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** `pid: argv` of every live process (zombies left out) whose command line contains `text`, this one excepted. */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (argv.includes(text) && Number(pid) !== process.pid) found.push(`${pid}: ${argv.slice(0, 120)}`);
    } catch { /* gone */ }
  }
  return found;
}

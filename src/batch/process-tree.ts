/**
 * Finding and signalling a local process tree. Every local process is started
 * as a process-group leader, so signalling `-pgid` reaches the whole group; a
 * descendant that left the group (setsid, daemonising) is found by walking
 * parent links in /proc, which must be read BEFORE the leader dies (orphans
 * are re-parented and the link is lost). Zombies count as gone.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcEntry {
  ppid: number;
  pgid: number;
  /** One-letter state from /proc/<pid>/stat (`Z` = zombie). */
  state: string;
}

/** Every live process with its parent and group (from /proc/<pid>/stat). */
export function procTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const proc = readStat(pid);
    if (proc) table.set(pid, proc);
  }
  return table;
}

function readStat(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and ')': parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) };
  } catch {
    return undefined; // Exited while we were reading.
  }
}

/** All descendants of `root` (not including it), whatever their group. */
export function descendants(root: number, table: Map<number, ProcEntry> = procTable()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Non-zombie members of group `pgid` plus non-zombie pids of `extra`. */
export function survivors(pgid: number, extra: Iterable<number>, table: Map<number, ProcEntry> = procTable()): number[] {
  const alive = new Set<number>();
  for (const [pid, entry] of table) if (entry.pgid === pgid && entry.state !== 'Z') alive.add(pid);
  for (const pid of extra) {
    const entry = table.get(pid);
    if (entry && entry.state !== 'Z') alive.add(pid);
  }
  return [...alive];
}

/** Sends `signal` to the group `pgid` and to each listed pid (errors for gone processes ignored). */
export function signalTree(pgid: number, pids: Iterable<number>, signal: NodeJS.Signals): void {
  trySignal(-pgid, signal);
  for (const pid of pids) trySignal(pid, signal);
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone (ESRCH) or not ours (EPERM): nothing to do.
  }
}

/**
 * Processes the testbed owns, looked at through /proc: a PID from the state
 * file is only signalled when its command line still is the one we started
 * (PIDs get reused), and threads are read with their names for `status`.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Running and not a zombie: a process whose parent died is reaped by PID 1, which in some containers never does it. */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function cmdline(pid: number): Promise<string[]> {
  try { return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean); } catch { return []; }
}

/** True when `pid` runs and its argv contains every one of `marks` (e.g. `guest=vm1,debug-threads=on` and a path of this testbed). */
export async function isOurs(pid: number | undefined, marks: string[]): Promise<boolean> {
  if (!pid || !alive(pid)) return false;
  const argv = (await cmdline(pid)).join('\n');
  return marks.every((m) => argv.includes(m));
}

export interface ThreadInfo { tid: number; name: string }

export async function threads(pid: number): Promise<ThreadInfo[]> {
  let tids: string[];
  try { tids = await readdir(`/proc/${pid}/task`); } catch { return []; }
  const out: ThreadInfo[] = [];
  for (const t of tids) {
    try { out.push({ tid: Number(t), name: (await readFile(`/proc/${pid}/task/${t}/comm`, 'utf8')).trim() }); } catch { /* exited */ }
  }
  return out.sort((a, b) => a.tid - b.tid);
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false;
    await delay(25);
  }
  return true;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/** Asks QEMU to quit over its QMP socket; resolves false when the socket does not answer. */
export async function qmpQuit(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let buffer = '';
    let step = 0;
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    socket.on('error', () => finish(step >= 2));
    socket.on('close', () => finish(step >= 2));
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (step === 0 && line.includes('"QMP"')) { step = 1; socket.write('{"execute":"qmp_capabilities"}\n'); }
        else if (step === 1 && line.includes('"return"')) { step = 2; socket.write('{"execute":"quit"}\n'); }
        else if (step === 2 && line.includes('"return"')) finish(true);
      }
    });
  });
}

/** QEMU's version line, e.g. `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`. */
export function parseQemuVersion(text: string): string {
  const m = /version\s+(\S+(?:\s+\([^)]*\))?)/i.exec(text);
  return m ? m[1]! : text.trim().split('\n')[0] ?? 'unknown';
}

/** Live processes whose command line mentions `text` (a testbed's run folder): QEMU, sshd, unshare left behind by a lost state file. */
export async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    if ((await cmdline(pid)).join(' ').includes(text) && alive(pid)) found.push(pid);
  }
  return found;
}

/**
 * A tiny watcher that kills our local process groups if this Node process
 * dies without doing it (kill -9, crash). Started processes are detached into
 * their own groups, so nothing else would stop them. The watcher is an awk
 * reading a pipe from us: we write `+ pgid` when a group starts and `- pgid`
 * when it is gone; when the pipe closes (we exited, however), it signals what
 * is still listed: SIGTERM, then SIGKILL two seconds later.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const WATCHER = [
  '{ if ($1 == "+") live[$2] = 1; else delete live[$2] }',
  'END { n = 0',
  '  for (p in live) { system("kill -15 -" p " 2>/dev/null"); n++ }',
  '  if (n > 0) { system("sleep 2"); for (p in live) system("kill -9 -" p " 2>/dev/null") } }',
].join('\n');

export class OrphanGuard {
  private watcher: ChildProcess | undefined;
  private broken = false;

  track(pgid: number): void {
    this.send(`+ ${pgid}\n`);
  }

  untrack(pgid: number): void {
    this.send(`- ${pgid}\n`);
  }

  /** Ends the watcher; it signals whatever is still tracked. */
  close(): void {
    this.watcher?.stdin?.end();
    this.watcher = undefined;
  }

  private send(text: string): void {
    if (this.broken) return;
    const watcher = this.ensure();
    watcher?.stdin?.write(text);
  }

  private ensure(): ChildProcess | undefined {
    if (this.watcher) return this.watcher;
    try {
      // Detached: Ctrl-C on the terminal must not kill the watcher before it can act.
      const watcher = spawn('awk', [WATCHER], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      watcher.on('error', () => {
        this.broken = true; // No awk: we lose the kill -9 safety net, nothing else.
      });
      watcher.stdin!.on('error', () => {
        this.broken = true;
      });
      // Neither the watcher nor its pipe keeps Node alive; when Node exits the pipe closes and the watcher acts.
      watcher.unref();
      (watcher.stdin as unknown as { unref?: () => void }).unref?.();
      this.watcher = watcher;
      return watcher;
    } catch {
      this.broken = true;
      return undefined;
    }
  }
}

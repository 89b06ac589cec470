/**
 * Cancels our Slurm steps if this Node process dies without doing it
 * (kill -9, crash): the orphan guard (../orphan-guard.ts) stops the local
 * `srun` clients, but a step whose srun was killed stays in the allocation
 * (measured: `squeue -s` still lists it). Same design: an awk reading a
 * pipe from us, `+ JOB.STEP` when a step starts and `- JOB.STEP` when it
 * ended; when the pipe closes it sends SIGTERM to every step still listed,
 * and SIGKILL two seconds later, through `scancel`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const WATCHER = [
  '{ if ($1 == "+") live[$2] = 1; else delete live[$2] }',
  'END { n = 0',
  '  for (s in live) { system("scancel -Q -s TERM " s " 2>/dev/null"); n++ }',
  '  if (n > 0) { system("sleep 2"); for (s in live) system("scancel -Q -s KILL " s " 2>/dev/null") } }',
].join('\n');

const STEP_ID = /^\d+\.\d+$/;

export class StepGuard {
  private watcher: ChildProcess | undefined;
  private broken = false;

  track(step: string): void {
    if (STEP_ID.test(step)) this.send(`+ ${step}\n`);
  }

  untrack(step: string): void {
    if (STEP_ID.test(step)) this.send(`- ${step}\n`);
  }

  close(): void {
    this.watcher?.stdin?.end();
    this.watcher = undefined;
  }

  private send(text: string): void {
    if (this.broken) return;
    this.ensure()?.stdin?.write(text);
  }

  private ensure(): ChildProcess | undefined {
    if (this.watcher) return this.watcher;
    try {
      // Detached: Ctrl-C on the terminal must not end the watcher before it can act.
      const watcher = spawn('awk', [WATCHER], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      const lost = () => { this.broken = true; };
      watcher.on('error', lost);
      watcher.stdin!.on('error', lost);
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

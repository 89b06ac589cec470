/**
 * Runs programs on this machine: the `host: local` side of the Executor
 * interface. Each command runs as `/bin/sh -c <command>` in a new process
 * group (pid = pgid), so stopping it stops everything it started. Output is
 * cut into lines byte for byte; `wait()` resolves only once both streams have
 * ended and the last partial line was handed over, so nothing is dropped.
 */
import { waitAtMost } from './wait-at-most.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import type { CommandResult, ExitInfo, Executor, LineSink, RemoteProcess, StartOptions } from './executor.js';
import { LineSplitter, nowMs } from './line-splitter.js';
import { descendants, procTable, signalTree, survivors } from './process-tree.js';
import { OrphanGuard } from './orphan-guard.js';

export const DEFAULT_GRACE_MS = 3000;
const SHELL = '/bin/sh';

export interface LocalExecutorOptions {
  name?: string;
  /** How long a killed tree gets between SIGTERM and SIGKILL. */
  graceMs?: number;
}

export class LocalExecutor implements Executor {
  readonly name: string;
  private readonly graceMs: number;
  private readonly guard = new OrphanGuard();
  private readonly running = new Set<LocalProcess>();

  constructor(options: LocalExecutorOptions = {}) {
    this.name = options.name ?? 'local';
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  }

  async start(options: StartOptions, sink: LineSink): Promise<RemoteProcess> {
    const child = spawn(SHELL, ['-c', options.command], {
      detached: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    await spawned(child, options.command);
    const proc = new LocalProcess(child, sink, this.guard, this.graceMs);
    this.running.add(proc);
    void proc.wait().finally(() => this.running.delete(proc));
    return proc;
  }

  async exec(command: string, options: { timeoutMs?: number; stdin?: string | Buffer } = {}): Promise<CommandResult> {
    const child = spawn(SHELL, ['-c', command], {
      detached: true,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    await spawned(child, command);
    const proc = new LocalProcess(child, undefined, this.guard, this.graceMs);
    if (options.stdin !== undefined) {
      await proc.write(options.stdin);
      await proc.closeStdin();
    }
    let info = await proc.wait(options.timeoutMs);
    if (!info) {
      await proc.kill({ graceMs: 1000 });
      info = (await proc.wait())!;
    }
    return {
      exitCode: info.exitCode,
      signal: info.signal,
      stdout: proc.collected('stdout'),
      stderr: proc.collected('stderr') + (info.status === 'killed' ? `\n[expert: timed out after ${options.timeoutMs} ms]` : ''),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((proc) => proc.kill({ graceMs: this.graceMs })));
    this.guard.close();
  }
}

/** Resolves once the shell runs; rejects with a readable reason when it cannot start. */
function spawned(child: ChildProcess, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`could not start '${command}': ${error.message}`, { cause: error })));
  });
}

class LocalProcess implements RemoteProcess {
  readonly pid: number | undefined;
  readonly startedAt = nowMs();
  private exitedOnItsOwn = false;
  private killRequested = false;
  private readonly done: Promise<ExitInfo>;
  private result: ExitInfo | undefined;
  private readonly buffers: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };

  constructor(
    private readonly child: ChildProcess,
    sink: LineSink | undefined,
    private readonly guard: OrphanGuard,
    private readonly graceMs: number,
  ) {
    this.pid = child.pid;
    if (this.pid !== undefined) guard.track(this.pid);
    const streamsEnded = (['stdout', 'stderr'] as const).map((name) => {
      const stream = child[name]!;
      return new Promise<void>((resolve) => {
        if (sink) {
          const splitter = new LineSplitter(name, sink);
          stream.on('data', (chunk: Buffer) => splitter.push(chunk));
          stream.once('end', () => splitter.end());
        } else {
          stream.on('data', (chunk: Buffer) => this.buffers[name].push(chunk));
        }
        stream.once('close', () => resolve());
      });
    });
    child.stdin?.on('error', () => {
      // EPIPE when the program exits without reading its stdin: its exit status tells the story.
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.killRequested) this.exitedOnItsOwn = true;
        resolve({ code, signal });
      });
    });
    this.done = Promise.all([exited, ...streamsEnded]).then(([{ code, signal }]) => {
      if (this.pid !== undefined && survivors(this.pid, []).length === 0) guard.untrack(this.pid);
      this.result = {
        status: this.killRequested && !this.exitedOnItsOwn ? 'killed' : 'exited',
        exitCode: code,
        signal: signal ?? null,
        endedAt: nowMs(),
      };
      return this.result;
    });
  }

  collected(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.buffers[stream]).toString('utf8');
  }

  write(data: string | Buffer): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin) return Promise.reject(new Error('stdin was not opened: start with { stdin: true }'));
    return new Promise((resolve, reject) => stdin.write(data, (error) => (error ? reject(error) : resolve())));
  }

  closeStdin(): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin || stdin.writableEnded) return Promise.resolve();
    return new Promise((resolve) => stdin.end(resolve));
  }

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    const pid = this.pid;
    if (pid === undefined || this.result) return;
    const signal = options.signal ?? 'SIGTERM';
    const graceMs = options.graceMs ?? this.graceMs;
    this.killRequested = true;
    // Snapshot the tree first: children that left the group are only findable while their parent lives.
    const tree = new Set(descendants(pid));
    signalTree(pid, tree, signal);
    if (signal !== 'SIGKILL') {
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline) {
        const table = procTable(); // one /proc scan per poll, for both questions
        for (const extra of descendants(pid, table)) tree.add(extra);
        if (this.result && survivors(pid, tree, table).length === 0) break;
        await delay(Math.min(50, Math.max(1, deadline - Date.now())));
      }
    }
    const left = survivors(pid, tree);
    if (left.length > 0 || !this.result) signalTree(pid, left, 'SIGKILL');
    await this.done;
    this.guard.untrack(pid);
  }

  wait(timeoutMs?: number): Promise<ExitInfo | undefined> {
    return waitAtMost(this.done, timeoutMs);
  }
}

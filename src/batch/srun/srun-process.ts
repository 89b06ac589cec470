/**
 * One node process running as a Slurm job step through a local `srun`.
 * stdout goes through the marker filter (the step wrapper's `step` and
 * `exit` markers, see step-command.ts), then, like stderr, is cut into
 * lines byte for byte. Stopping it stops the whole step: `scancel -s TERM`
 * of the step (Slurm gives it to the task, whose reporter passes it to the
 * program's tree, see step-command.ts), after the grace `scancel -s KILL`
 * (Slurm kills every process in the step's cgroup, also children that left
 * the session), and only then the local srun.
 */
import { waitAtMost } from '../wait-at-most.js';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { ExitInfo, LineSink, OutputLine, RemoteProcess } from '../executor.js';
import { LineSplitter, nowMs } from '../line-splitter.js';
import type { OrphanGuard } from '../orphan-guard.js';
import { signalTree } from '../process-tree.js';
import { MarkerFilter } from './marker-filter.js';
import { MARKER_PREFIX, parseMarker } from './step-command.js';
import type { StepGuard } from './step-guard.js';

export interface SrunProcessContext {
  node: string;
  nonce: string;
  graceMs: number;
  guard: OrphanGuard;
  steps: StepGuard;
  /** Runs `scancel` with these arguments (bounded in time; errors ignored). */
  scancel(args: string[]): Promise<void>;
  /** Why srun could not start the step (it prints nothing itself under -QQ). */
  diagnose(code: number | null): Promise<string>;
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export function signalName(n: number): string {
  return SIGNAL_NAMES.get(n) ?? `SIG${n}`;
}

export class SrunProcess implements RemoteProcess {
  /** The task's PID on the node (from the step marker). */
  pid: number | undefined;
  /** `JOB.STEP` once the task reported it. */
  step: string | undefined;
  readonly startedAt = nowMs();
  /** Resolves with the step id once the task runs, or undefined if srun ended first. */
  readonly started: Promise<string | undefined>;
  private stepKnown!: (step: string | undefined) => void;
  private reported: { code: number } | { signal: number } | undefined;
  private reportedBeforeKill = false;
  private killRequested = false;
  private result: ExitInfo | undefined;
  private readonly done: Promise<ExitInfo>;

  constructor(
    private readonly child: ChildProcess,
    sink: LineSink,
    private readonly context: SrunProcessContext,
  ) {
    this.started = new Promise((resolve) => { this.stepKnown = resolve; });
    if (child.pid !== undefined) context.guard.track(child.pid);
    const stdout = new LineSplitter('stdout', sink);
    const stderr = new LineSplitter('stderr', (line) => this.onStderr(line, sink));
    const markers = new MarkerFilter(`${MARKER_PREFIX}${context.nonce} `, (text) => this.onMarker(text), (bytes) => stdout.push(bytes));
    const ended = (stream: NodeJS.ReadableStream, onData: (chunk: Buffer) => void, onEnd: () => void) =>
      new Promise<void>((resolve) => {
        stream.on('data', onData);
        stream.once('end', onEnd);
        stream.once('close', () => resolve());
      });
    const streams = [
      ended(child.stdout!, (chunk) => markers.push(chunk), () => { markers.end(); stdout.end(); }),
      ended(child.stderr!, (chunk) => stderr.push(chunk), () => stderr.end()),
    ];
    child.stdin?.on('error', () => undefined); // EPIPE when the step ended without reading stdin
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.done = Promise.all([exited, ...streams]).then(async ([{ code, signal }]) => {
      if (child.pid !== undefined) context.guard.untrack(child.pid);
      if (this.step) context.steps.untrack(this.step);
      this.stepKnown(undefined);
      const error = !this.step && !this.killRequested ? await context.diagnose(code) : undefined;
      this.result = this.exitInfo(code, signal, error);
      return this.result;
    });
  }

  private onMarker(text: string): void {
    const marker = parseMarker(text);
    if (!marker) return;
    if (marker.kind === 'step') {
      this.step = marker.step;
      this.pid = marker.pid;
      this.context.steps.track(marker.step);
      this.stepKnown(marker.step);
    } else {
      this.reported = marker.kind === 'exit' ? { code: marker.code } : { signal: marker.signal };
      if (!this.killRequested) this.reportedBeforeKill = true;
    }
  }

  /** slurmstepd's own line when we cancel the step is not the program's output. */
  private onStderr(line: OutputLine, sink: LineSink): void {
    if (this.killRequested && this.step) {
      const text = line.bytes.toString('latin1');
      const notice = new RegExp(`slurmstepd(-\\S+)?: error: \\*\\*\\* STEP ${this.step.replace('.', '\\.')} ON \\S+ CANCELLED AT \\S+ \\*\\*\\*$`).exec(text);
      if (notice) {
        if (notice.index > 0) sink({ ...line, bytes: line.bytes.subarray(0, notice.index) });
        return;
      }
    }
    sink(line);
  }

  private exitInfo(code: number | null, signal: NodeJS.Signals | null, error: string | undefined): ExitInfo {
    const endedAt = nowMs();
    const killed = this.killRequested && !this.reportedBeforeKill;
    if (this.reported) {
      const r = this.reported;
      return 'code' in r
        ? { status: killed ? 'killed' : 'exited', exitCode: r.code, signal: null, endedAt }
        : { status: killed ? 'killed' : 'exited', exitCode: null, signal: signalName(r.signal), endedAt };
    }
    if (killed) {
      // Killed before the reporter could speak (SIGKILL reaches it too): srun says 128+N.
      const bySignal = signal ?? (code !== null && code > 128 ? signalName(code - 128) : null);
      return { status: 'killed', exitCode: bySignal ? null : code, signal: bySignal, endedAt };
    }
    if (!this.step) {
      return { status: 'failed', exitCode: code, signal, endedAt, error: error ?? `srun ended before the step started on ${this.context.node}` };
    }
    if (signal) return { status: 'lost', exitCode: null, signal, endedAt, error: `srun for the step on ${this.context.node} was killed by ${signal}` };
    // No reporter on the node (no perl): srun's exit status, where a signal reads as 128+N.
    return { status: 'exited', exitCode: code, signal: null, endedAt };
  }

  write(data: string | Buffer): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin) return Promise.reject(new Error('stdin was not opened: start with { stdin: true }'));
    if (this.result) return Promise.reject(new Error('the process has ended'));
    return new Promise((resolve, reject) => stdin.write(data, (error) => (error ? reject(error) : resolve())));
  }

  closeStdin(): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin || stdin.writableEnded) return Promise.resolve();
    return new Promise((resolve) => stdin.end(resolve));
  }

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    if (this.result) return;
    const graceMs = options.graceMs ?? this.context.graceMs;
    this.killRequested = true;
    const step = this.step ?? (await Promise.race([this.started, this.wait(graceMs).then(() => undefined)]));
    if (this.result) return;
    if (step) {
      const signal = (options.signal ?? 'SIGTERM').replace(/^SIG/, '');
      await this.context.scancel(['-Q', '-s', signal, step]);
      if (signal !== 'KILL' && (await this.wait(graceMs))) return;
      await this.context.scancel(['-Q', '-s', 'KILL', step]);
      if (await this.wait(graceMs)) return;
    }
    // No step (yet), or Slurm did not end it: stop the local srun (on SIGTERM it cancels its step).
    const pid = this.child.pid;
    if (pid !== undefined) {
      signalTree(pid, [], 'SIGTERM');
      if (await this.wait(graceMs)) return;
      signalTree(pid, [], 'SIGKILL');
    }
    await this.done;
  }

  wait(timeoutMs?: number): Promise<ExitInfo | undefined> {
    return waitAtMost(this.done, timeoutMs);
  }
}

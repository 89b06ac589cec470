/**
 * The remote-program interface: what ExPerT's RemoteServer/RemoteProgram gave.
 * The local executor (child processes) and the SSH executor (ssh2 channels)
 * both implement it, so the batch runner and Tune never know which one runs.
 */

export type Stream = 'stdout' | 'stderr';

/** One output line, exactly as printed, without its trailing '\n'. */
export interface OutputLine {
  stream: Stream;
  /** Arrival time, epoch milliseconds (fractional part = sub-ms precision). */
  ts: number;
  /** The line's exact bytes ('\r' and invalid UTF-8 kept). */
  bytes: Buffer;
}

/** Receives lines in the order the process printed them, per stream. */
export type LineSink = (line: OutputLine) => void;

/** `not_started`: the batch ended (interrupted, or failed) before this process's run began. */
export type ProcessStatus = 'pending' | 'running' | 'exited' | 'killed' | 'lost' | 'failed' | 'not_started';

export interface ExitInfo {
  /** `exited` (ran to its end, any code), `killed` (we stopped it), `lost` (connection dropped), `failed` (could not start / timed out). */
  status: Exclude<ProcessStatus, 'pending' | 'running' | 'not_started'>;
  exitCode: number | null;
  /** Signal name without the SIG prefix handling: e.g. 'SIGTERM'. */
  signal: string | null;
  /** Why it failed or was lost, in words a user can act on. */
  error?: string;
  endedAt: number;
}

export interface StartOptions {
  /** A POSIX shell command line, already built from quoted arguments. */
  command: string;
  /** Extra environment (monitors get LC_ALL=C). */
  env?: Record<string, string>;
  cwd?: string;
  /** Keep stdin open for `write`; otherwise stdin is closed at once. */
  stdin?: boolean;
}

export interface RemoteProcess {
  /** PID (which is also the PGID: every process is started as a group leader) where known. */
  readonly pid: number | undefined;
  readonly startedAt: number;
  write(data: string | Buffer): Promise<void>;
  closeStdin(): Promise<void>;
  /** Stops the whole process tree: SIGTERM, then SIGKILL after `graceMs`. */
  kill(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
  /** Resolves when the process ended and all its output was delivered to the sink. With a timeout, resolves `undefined` if still running. */
  wait(timeoutMs?: number): Promise<ExitInfo | undefined>;
}

/** Result of a short command run to completion (discovery, taskset, renice...). */
export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** One host (a node or a guest) that can run processes. */
export interface Executor {
  /** A name for messages: `node1`, `node1/vm3`, `local`. */
  readonly name: string;
  start(options: StartOptions, sink: LineSink): Promise<RemoteProcess>;
  /** Runs a short command and collects its output (bounded by `timeoutMs`). */
  exec(command: string, options?: { timeoutMs?: number; stdin?: string | Buffer }): Promise<CommandResult>;
  /** Kills what is still running and releases connections. */
  close(): Promise<void>;
}

/**
 * One remote program on one SSH channel. The first stdout line is the
 * wrapper's PID marker (see remote-command.ts) and is never handed to the
 * sink; everything after it is cut into lines byte for byte. The channel's
 * `exit` request gives the exit code or signal; a channel that closes without
 * one lost its connection: the process is `lost` and keeps every line received.
 */
import { waitAtMost } from '../wait-at-most.js';
import type { ClientChannel } from 'ssh2';
import type { ExitInfo, LineSink, RemoteProcess } from '../executor.js';
import { LineSplitter, nowMs } from '../line-splitter.js';
import { parsePidMarker } from './remote-command.js';
import type { OpenedChannel } from './host-channels.js';

/** What a process needs from its executor: a way to signal its group on another channel. */
export interface GroupSignaller {
  signalGroup(pgid: number, signal: string): Promise<void>;
  readonly name: string;
}

/** Stops looking for the marker after this many bytes (a login shell that prints a novel). */
const MARKER_SEARCH_LIMIT = 1 << 16;

export class SshProcess implements RemoteProcess {
  pid: number | undefined;
  readonly startedAt = nowMs();
  private readonly channel: ClientChannel;
  private readonly done: Promise<ExitInfo>;
  private result: ExitInfo | undefined;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;
  private sawExit = false;
  private killRequested = false;
  private exitedOnItsOwn = false;
  private markerBuffer: Buffer | undefined = Buffer.alloc(0);
  private pidKnown!: (pid: number | undefined) => void;
  /** Resolves with the PID once the marker arrived, or undefined if the channel ended first. */
  readonly started: Promise<number | undefined>;

  constructor(
    opened: OpenedChannel,
    sink: LineSink,
    private readonly signaller: GroupSignaller,
    private readonly graceMs: number,
    keepStdin: boolean,
  ) {
    this.channel = opened.channel;
    this.started = new Promise((resolve) => { this.pidKnown = resolve; });
    const stdout = new LineSplitter('stdout', sink);
    const stderr = new LineSplitter('stderr', sink);
    this.channel.on('data', (chunk: Buffer) => this.onStdout(chunk, stdout));
    this.channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const onExit = (code: number | null, signal: string | null) => {
      if (this.sawExit) return;
      this.sawExit = true;
      this.exitCode = code;
      this.exitSignal = signal;
      if (!this.killRequested) this.exitedOnItsOwn = true;
    };
    if (opened.early.exit) onExit(opened.early.exit.code, opened.early.exit.signal);
    else this.channel.once('exit', (code: number | null, signal?: string) => onExit(typeof code === 'number' ? code : null, signal ?? null));
    // Writes after the remote end closed its stdin are not errors of ours: the exit status tells the story.
    this.channel.on('error', () => undefined);
    this.done = new Promise<ExitInfo>((resolve) => {
      const onClose = () => {
        // Let buffered data flow and the connection report why it closed before we read the reason.
        setImmediate(() => {
          if (this.markerBuffer && this.markerBuffer.length > 0) stdout.push(this.markerBuffer);
          this.markerBuffer = undefined;
          stdout.end();
          stderr.end();
          opened.release();
          this.pidKnown(this.pid);
          this.result = this.exitInfo(opened.connection.closed ? opened.connection.closeReason : undefined);
          resolve(this.result);
        });
      };
      if (opened.early.closed) onClose();
      else this.channel.once('close', onClose);
    });
    if (!keepStdin) this.channel.end();
  }

  private abandoned: string | undefined;

  /** Gives up on a command whose wrapper never reported its PID: closes the channel, the process `failed`. */
  abandon(reason: string): void {
    if (this.result || this.pid !== undefined) return;
    this.abandoned = reason;
    this.channel.close();
  }

  private exitInfo(connectionLost: string | undefined): ExitInfo {
    const endedAt = nowMs();
    if (this.abandoned) return { status: 'failed', exitCode: null, signal: null, endedAt, error: this.abandoned };
    if (this.sawExit) {
      const killed = this.killRequested && !this.exitedOnItsOwn;
      return { status: killed ? 'killed' : 'exited', exitCode: this.exitCode, signal: this.exitSignal, endedAt };
    }
    if (this.killRequested) return { status: 'killed', exitCode: null, signal: null, endedAt, error: 'channel closed after kill' };
    if (this.pid === undefined && !connectionLost) {
      return { status: 'failed', exitCode: null, signal: null, endedAt, error: `the remote shell on ${this.signaller.name} ended before starting the command` };
    }
    return {
      status: 'lost',
      exitCode: null,
      signal: null,
      endedAt,
      error: connectionLost ?? `the channel to ${this.signaller.name} closed without an exit status`,
    };
  }

  private onStdout(chunk: Buffer, stdout: LineSplitter): void {
    if (this.markerBuffer === undefined) {
      stdout.push(chunk);
      return;
    }
    let buffered = Buffer.concat([this.markerBuffer, chunk]);
    for (;;) {
      const newline = buffered.indexOf(0x0a);
      if (newline === -1) break;
      const line = buffered.subarray(0, newline).toString('latin1');
      const pid = parsePidMarker(line);
      if (pid !== undefined) {
        this.pid = pid;
        this.markerBuffer = undefined;
        this.pidKnown(pid);
        const rest = buffered.subarray(newline + 1);
        if (rest.length > 0) stdout.push(Buffer.from(rest));
        return;
      }
      // Printed before the marker (a login shell's startup file): output like any other.
      stdout.push(Buffer.from(buffered.subarray(0, newline + 1)));
      buffered = buffered.subarray(newline + 1);
    }
    if (buffered.length > MARKER_SEARCH_LIMIT) {
      stdout.push(Buffer.from(buffered));
      this.markerBuffer = undefined;
      this.pidKnown(undefined);
      return;
    }
    this.markerBuffer = Buffer.from(buffered);
  }

  write(data: string | Buffer): Promise<void> {
    if (this.result) return Promise.reject(new Error('the process has ended'));
    return new Promise((resolve, reject) => {
      const flushed = this.channel.write(data, (error?: Error | null) => (error ? reject(error) : undefined));
      if (flushed) resolve();
      else this.channel.once('drain', () => resolve());
    });
  }

  closeStdin(): Promise<void> {
    if (this.result || this.channel.writableEnded) return Promise.resolve();
    this.channel.end();
    return Promise.resolve();
  }

  async kill(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    if (this.result) return;
    const graceMs = options.graceMs ?? this.graceMs;
    this.killRequested = true;
    const pid = this.pid ?? (await Promise.race([this.started, this.wait(graceMs).then(() => undefined)]));
    if (this.result) return;
    if (pid === undefined) {
      // Never started its program: closing the channel is all there is to do.
      this.channel.close();
      await this.wait(graceMs);
      return;
    }
    const signal = options.signal ?? 'SIGTERM';
    await this.signal(pid, signal);
    if (signal !== 'SIGKILL' && (await this.wait(graceMs))) return;
    await this.signal(pid, 'SIGKILL');
    if (await this.wait(graceMs)) return;
    // The group is dead or unreachable; stop waiting for its channel.
    this.channel.close();
    await this.wait(graceMs);
  }

  private async signal(pid: number, signal: string): Promise<void> {
    try {
      await this.signaller.signalGroup(pid, signal);
    } catch {
      // Connection gone: the remote watchdog stops the group when the session's sshd goes away.
    }
  }

  wait(timeoutMs?: number): Promise<ExitInfo | undefined> {
    return waitAtMost(this.done, timeoutMs);
  }
}

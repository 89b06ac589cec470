/**
 * The Executor for a node or guest reached over SSH: plain OpenSSH (or
 * Dropbear) on the other side, no agent of ours. Connections open lazily on
 * the first command, so an unreachable host fails only its own processes.
 */
import { execCollecting } from '../exec-collect.js';
import type { CommandResult, Executor, LineSink, RemoteProcess, StartOptions } from '../executor.js';
import type { SshSettings, Target } from '../config/types.js';
import { SshConfigResolver, type ResolvedHost } from './ssh-config.js';
import { effectiveSettings, type EffectiveSshSettings } from './settings.js';
import { HostChannels } from './host-channels.js';
import { Semaphore } from './semaphore.js';
import { remoteCommand, signalGroupCommand } from './remote-command.js';
import { SshProcess, type GroupSignaller } from './ssh-process.js';

export interface SshExecutorOptions {
  /** A name for messages (`node1`, `node1/vm2`); the host alias by default. */
  name?: string;
  /** An alias from ssh_config or an address. */
  host: string;
  user?: string;
  port?: number;
  settings?: SshSettings;
  /** Shared between executors so the cap on handshakes holds over all hosts. */
  handshakes?: Semaphore;
  /** Shared ssh_config resolver (parsed once). */
  resolver?: SshConfigResolver;
}

let defaultHandshakes: Semaphore | undefined;

export class SshExecutor implements Executor, GroupSignaller {
  readonly name: string;
  readonly host: ResolvedHost;
  readonly settings: EffectiveSshSettings;
  private readonly channels: HostChannels;
  private readonly running = new Set<SshProcess>();
  private closed = false;

  constructor(options: SshExecutorOptions) {
    this.settings = effectiveSettings(options.settings);
    const resolver = options.resolver ?? SshConfigResolver.forSettings(this.settings.config);
    this.host = resolver.resolve(options.host, { user: options.user, port: options.port });
    this.name = options.name ?? options.host;
    const handshakes = options.handshakes ?? (defaultHandshakes ??= new Semaphore(this.settings.maxConcurrentHandshakes));
    this.channels = new HostChannels(this.host, this.settings, handshakes);
  }

  static forTarget(target: Target, shared: { handshakes?: Semaphore; resolver?: SshConfigResolver; acceptNewHostKeys?: boolean } = {}): SshExecutor {
    const settings = shared.acceptNewHostKeys ? { ...target.ssh, acceptNewHostKeys: true } : target.ssh;
    return new SshExecutor({
      name: target.vm ? `${target.node}/${target.vm}` : target.node,
      host: target.host,
      user: target.user,
      port: target.port,
      settings,
      handshakes: shared.handshakes,
      resolver: shared.resolver,
    });
  }

  async start(options: StartOptions, sink: LineSink): Promise<RemoteProcess> {
    if (this.closed) throw new Error(`executor for ${this.name} is closed`);
    const command = remoteCommand({ command: options.command, env: options.env, cwd: options.cwd });
    const opened = await this.channels.exec(command);
    const proc = new SshProcess(opened, sink, this, this.settings.killGraceMs, !!options.stdin);
    this.running.add(proc);
    void proc.wait().finally(() => this.running.delete(proc));
    // The PID marker is the wrapper's first act: wait for it so kill() works from here on.
    const timer = setTimeout(() => proc.abandon(`the command did not start on ${this.name} within ${this.settings.startTimeoutMs} ms`), this.settings.startTimeoutMs);
    await proc.started;
    clearTimeout(timer);
    return proc;
  }

  exec(command: string, options: { timeoutMs?: number; stdin?: string | Buffer } = {}): Promise<CommandResult> {
    return execCollecting(this, command, options);
  }

  /** Sends a signal to a remote process group over a channel of its own. */
  async signalGroup(pgid: number, signal: string): Promise<void> {
    const opened = await this.channels.exec(signalGroupCommand(pgid, signal), { urgent: true, queueTimeoutMs: this.settings.connectTimeoutMs });
    await new Promise<void>((resolve) => {
      opened.channel.on('data', () => undefined);
      opened.channel.stderr.on('data', () => undefined);
      const done = () => { opened.release(); resolve(); };
      if (opened.early.closed) done();
      else opened.channel.once('close', done);
      opened.channel.end();
    });
  }

  /** Live connections to the host (for tests and progress displays). */
  get connections(): number {
    return this.channels.liveConnections;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.running].map((proc) => proc.kill()));
    this.closed = true;
    this.channels.close();
  }
}

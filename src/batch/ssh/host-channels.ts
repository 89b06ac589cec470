/**
 * Channels to one host over a few reused connections. Each connection carries
 * at most `maxSessionsPerConnection` channels (sshd's MaxSessions); callers
 * beyond that wait in a FIFO queue, and more connections (up to
 * `maxConnectionsPerHost`) are opened while callers wait. A channel refused by
 * the server while others are open means its MaxSessions is lower than
 * configured: that connection's limit is lowered and the caller queues again,
 * so MaxSessions never fails a process. Signals (kill) are `urgent`: when every
 * slot is busy they get a control connection of their own, so a kill never
 * waits behind the processes it is meant to stop.
 */
import type { Client, ClientChannel } from 'ssh2';
import { setTimeout as delay } from 'node:timers/promises';
import { openConnection, describeHost, SshConnectError } from './connect.js';
import type { ResolvedHost } from './ssh-config.js';
import type { EffectiveSshSettings } from './settings.js';
import type { Semaphore } from './semaphore.js';

export class PooledConnection {
  active = 0;
  closed = false;
  /** Channels open when the server last refused one (MaxSessions detection). */
  refusedAt: number | undefined;
  closeReason: string | undefined;
  constructor(
    readonly client: Client,
    private readonly hops: Client[],
    public limit: number,
    readonly control: boolean,
    where: string,
    onClose: (connection: PooledConnection) => void,
  ) {
    let lastError: Error | undefined;
    client.on('error', (error: Error) => { lastError = error; });
    client.once('close', () => {
      this.closed = true;
      this.closeReason = `connection to ${where} lost${lastError ? `: ${lastError.message}` : ' (closed by the server or the network)'}`;
      for (const hop of hops) hop.end();
      onClose(this);
    });
    for (const hop of hops) {
      hop.on('error', () => undefined);
      hop.once('close', () => client.end());
    }
  }

  end(): void {
    this.client.end();
    for (const hop of this.hops) hop.end();
  }
}

/** What happened on a channel before its owner attached listeners (a fast command can exit in the same packet as the exec reply). */
export interface EarlyEvents {
  exit?: { code: number | null; signal: string | null };
  closed: boolean;
}

export interface OpenedChannel {
  channel: ClientChannel;
  early: EarlyEvents;
  connection: PooledConnection;
  /** Frees the slot; call once the channel has closed. */
  release(): void;
}

interface Waiter {
  urgent: boolean;
  resolve(connection: PooledConnection): void;
  reject(error: Error): void;
}

export class HostChannels {
  private readonly connections: PooledConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private openingNormal = 0;
  private openingControl = 0;
  private closing = false;
  readonly where: string;

  constructor(
    private readonly host: ResolvedHost,
    private readonly settings: EffectiveSshSettings,
    private readonly handshakes: Semaphore,
  ) {
    this.where = describeHost(host);
  }

  /**
   * Opens a session channel and runs `command` in it. Waiting for a free slot
   * is bounded only by `queueTimeoutMs` when given: a process queued behind
   * running ones waits for them (connecting has its own timeouts).
   */
  async exec(command: string, options: { urgent?: boolean; queueTimeoutMs?: number } = {}): Promise<OpenedChannel> {
    const queueDeadline = options.queueTimeoutMs === undefined ? undefined : Date.now() + options.queueTimeoutMs;
    let deadline = Number.POSITIVE_INFINITY;
    for (let attempt = 0; ; attempt++) {
      const connection = await this.acquire(!!options.urgent, queueDeadline === undefined ? undefined : queueDeadline - Date.now());
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        connection.active--;
        this.dispatch();
      };
      try {
        const { channel, early } = await execOn(connection.client, command);
        return { channel, early, connection, release };
      } catch (error) {
        const othersOpen = connection.active - 1;
        release();
        if (deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + this.settings.startTimeoutMs;
        if (attempt < 30 && Date.now() < deadline) {
          if (!connection.closed && othersOpen > 0) {
            // Refused twice with the same channels open: the server's MaxSessions is lower than our limit.
            if (connection.refusedAt === othersOpen) connection.limit = Math.max(1, Math.min(connection.limit, othersOpen));
            connection.refusedAt = othersOpen;
          }
          // A refusal can also be transient (sshd still freeing a session): back off a little and queue again.
          await delay(Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
          continue;
        }
        throw new SshConnectError(`cannot open a channel on ${this.where}: ${(error as Error).message}`, false, { cause: error });
      }
    }
  }

  private acquire(urgent: boolean, timeoutMs: number | undefined): Promise<PooledConnection> {
    if (this.closing) return Promise.reject(new SshConnectError(`connections to ${this.where} are closed`, true));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        urgent,
        resolve: (c) => { clearTimeout(timer); resolve(c); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new SshConnectError(`no channel to ${this.where} became free within ${Math.max(0, timeoutMs)} ms`, false));
        }, Math.max(0, timeoutMs));
      }
      this.waiters.push(waiter);
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const free = this.connections.find((c) => !c.closed && c.active < c.limit && (waiter.urgent || !c.control));
      if (!free) { i++; continue; }
      this.waiters.splice(i, 1);
      free.active++;
      waiter.resolve(free);
    }
    if (this.closing) return;
    const normalWaiting = this.waiters.filter((w) => !w.urgent).length;
    const urgentWaiting = this.waiters.length - normalWaiting;
    const normalLive = this.connections.filter((c) => !c.control).length;
    const coming = this.openingNormal * this.settings.maxSessionsPerConnection;
    if (normalWaiting > coming && normalLive + this.openingNormal < this.settings.maxConnectionsPerHost) this.open(false);
    else if (urgentWaiting > 0 && this.openingControl === 0 && this.openingNormal === 0) this.open(true);
  }

  private open(control: boolean): void {
    if (control) this.openingControl++;
    else this.openingNormal++;
    openConnection(this.host, this.settings, this.handshakes).then(
      ({ client, hops }) => {
        if (control) this.openingControl--;
        else this.openingNormal--;
        const connection = new PooledConnection(client, hops, this.settings.maxSessionsPerConnection, control, this.where, (c) => {
          const index = this.connections.indexOf(c);
          if (index >= 0) this.connections.splice(index, 1);
          this.dispatch();
        });
        if (this.closing) { connection.end(); return; }
        this.connections.push(connection);
        this.dispatch();
      },
      (error: Error) => {
        if (control) this.openingControl--;
        else this.openingNormal--;
        // Waiters that no live or coming connection can serve get the reason.
        const live = this.connections.filter((c) => !c.closed);
        const canServe = (w: Waiter) => live.some((c) => w.urgent || !c.control) || (w.urgent ? this.openingControl + this.openingNormal : this.openingNormal) > 0;
        for (const waiter of [...this.waiters]) {
          if (canServe(waiter)) continue;
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.reject(error);
        }
        this.dispatch();
      },
    );
  }

  get liveConnections(): number {
    return this.connections.filter((c) => !c.closed).length;
  }

  close(): void {
    this.closing = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new SshConnectError(`connections to ${this.where} are closing`, true));
    for (const connection of this.connections.splice(0)) connection.end();
  }
}

function execOn(client: Client, command: string): Promise<{ channel: ClientChannel; early: EarlyEvents }> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (error, channel) => {
        if (error) return reject(error);
        // Synchronously, before any later packet of the same read is parsed.
        const early: EarlyEvents = { closed: false };
        channel.once('exit', (code: number | null, signal?: string) => { early.exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null }; });
        channel.once('close', () => { early.closed = true; });
        resolve({ channel, early });
      });
    } catch (error) {
      reject(error as Error);
    }
  });
}

/**
 * Opens one authenticated ssh2 connection to a resolved host, through its
 * ProxyJump hosts (each hop a `forwardOut` channel used as the next hop's
 * socket), with a timeout per attempt, retries with back-off, and a global cap
 * on handshakes in flight. Host keys are checked on every hop.
 */
import ssh2, { type Client, type ClientChannel } from 'ssh2';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../../errors.js';
import { planAuthentication } from './credentials.js';
import { HostKeyChecker, HostKeyError, hostKeyPolicy } from './host-keys.js';
import type { ResolvedHost } from './ssh-config.js';
import type { EffectiveSshSettings } from './settings.js';
import { Semaphore } from './semaphore.js';

/**
 * A connection that cannot be made, in words a user can act on (a UserError);
 * `permanent` ones (host key, authentication, bad config) are not retried.
 */
export class SshConnectError extends UserError {
  constructor(message: string, readonly permanent: boolean, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'SshConnectError';
  }
}

export interface OpenedConnection {
  client: Client;
  /** Jump host connections under it, closed with it. */
  hops: Client[];
}

export function describeHost(host: ResolvedHost): string {
  const address = `${host.user}@${host.hostName}:${host.port}`;
  return host.alias === host.hostName ? address : `${host.alias} (${address})`;
}

export async function openConnection(host: ResolvedHost, settings: EffectiveSshSettings, handshakes: Semaphore): Promise<OpenedConnection> {
  const hops: Client[] = [];
  try {
    let sock: Duplex | undefined;
    const chain = [...host.jumps, host];
    for (let i = 0; i < chain.length; i++) {
      const hop = chain[i]!;
      const client = await connectWithRetries(hop, settings, handshakes, sock);
      if (i === chain.length - 1) return { client, hops };
      hops.push(client);
      const next = chain[i + 1]!;
      sock = await forward(client, next, hop);
    }
    throw new Error('unreachable');
  } catch (error) {
    for (const hop of hops) hop.end();
    if (error instanceof SshConnectError && host.jumps.length > 0 && !error.message.includes(`${host.alias}`)) {
      throw new SshConnectError(`cannot reach ${describeHost(host)} through ProxyJump: ${error.message}`, error.permanent, { cause: error });
    }
    throw error;
  }
}

function forward(client: Client, next: ResolvedHost, via: ResolvedHost): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, next.hostName, next.port, (error, stream) => {
      if (error) reject(new SshConnectError(`jump host ${describeHost(via)} could not open a tunnel to ${next.hostName}:${next.port}: ${error.message}`, false, { cause: error }));
      else resolve(stream);
    });
  });
}

async function connectWithRetries(host: ResolvedHost, settings: EffectiveSshSettings, handshakes: Semaphore, sock?: Duplex): Promise<Client> {
  let lastError: SshConnectError | undefined;
  // A tunnel socket is single-use: no retries through a jump host's channel.
  const attempts = sock ? 1 : settings.connectRetries + 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await delay(settings.retryDelayMs * 2 ** (attempt - 1));
    const release = await handshakes.acquire();
    try {
      return await connectOnce(host, settings, sock);
    } catch (error) {
      lastError = error instanceof SshConnectError ? error : new SshConnectError(String(error), false, { cause: error });
      if (lastError.permanent) throw lastError;
    } finally {
      release();
    }
  }
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  throw new SshConnectError(`${lastError!.message}${tries}`, false, { cause: lastError });
}

function connectOnce(host: ResolvedHost, settings: EffectiveSshSettings, sock?: Duplex): Promise<Client> {
  const where = describeHost(host);
  let auth: ReturnType<typeof planAuthentication>;
  try {
    auth = planAuthentication(host.user, host.identityFiles, settings.identityFile);
  } catch (error) {
    const message = error instanceof UserError ? error.message : String(error);
    return Promise.reject(new SshConnectError(`cannot log in to ${where}: ${message}`, true, { cause: error }));
  }
  const policy = hostKeyPolicy(settings.knownHosts, host.knownHostsFiles, settings.acceptNewHostKeys);
  const checker = new HostKeyChecker(policy, host.hostName, host.port, host.hostKeyAlias);
  const timeoutMs = host.connectTimeoutMs ?? settings.connectTimeoutMs;
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyError: Error | undefined;
    let settled = false;
    const timer = setTimeout(() => fail(new SshConnectError(`cannot connect to ${where}: timed out after ${timeoutMs} ms`, false)), timeoutMs);
    const fail = (error: SshConnectError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.end();
      client.destroy();
      reject(error);
    };
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Many small packets (channel open, exec request, signals): Nagle's algorithm against delayed ACKs costs 40 ms each.
      if (!sock) client.setNoDelay(true);
      resolve(client);
    });
    client.on('error', (error: Error & { level?: string }) => {
      if (hostKeyError) return fail(new SshConnectError(`refused ${where}: ${hostKeyError.message}`, true, { cause: hostKeyError }));
      if (error.level === 'client-authentication') {
        const skipped = auth.skippedEncrypted.length > 0 ? `; skipped encrypted key(s) ${auth.skippedEncrypted.join(', ')} (no ssh-agent)` : '';
        return fail(new SshConnectError(
          `authentication as ${host.user} failed on ${where}: offered ${auth.offered.join(', ')}${skipped}; ` +
            `the matching public key must be in ~${host.user}/.ssh/authorized_keys there`,
          true,
          { cause: error },
        ));
      }
      fail(new SshConnectError(`cannot connect to ${where}: ${error.message}`, false, { cause: error }));
    });
    client.once('close', () => fail(new SshConnectError(`cannot connect to ${where}: connection closed during the handshake`, false)));
    try {
      client.connect({
        host: host.hostName,
        port: host.port,
        sock,
        username: host.user,
        authHandler: auth.methods,
        readyTimeout: timeoutMs,
        keepaliveInterval: settings.keepaliveIntervalMs,
        keepaliveCountMax: settings.keepaliveCountMax,
        algorithms: { serverHostKey: checker.preferredAlgorithms() as never },
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          checker.check(key).then(
            () => verify(true),
            (error: unknown) => {
              hostKeyError = error instanceof HostKeyError ? error : new HostKeyError(String(error));
              verify(false);
            },
          );
        },
      });
    } catch (error) {
      fail(new SshConnectError(`cannot connect to ${where}: ${(error as Error).message}`, true, { cause: error }));
    }
  });
}

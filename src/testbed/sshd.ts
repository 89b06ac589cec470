/**
 * Starts and stops a real OpenSSH `sshd` on a loopback address and port, with
 * its own host keys, its own authorized key, its own pid file and log, running
 * as the current user. Used by the SSH tests, `npm run bench:ssh` and the
 * testbed's "nodes": no system sshd configuration is read or changed.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { descendants } from '../batch/process-tree.js';
import { lookupName } from '../batch/ssh/known-hosts.js';
import { alive } from './procs.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const PRIVSEP_DIR = '/run/sshd';

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface SshdOptions {
  /** Loopback address to listen on (any of 127.0.0.0/8). Default 127.0.0.1. */
  address?: string;
  /** Port; 0 or absent picks a free one. */
  port?: number;
  /** State folder (keys, config, log, pid file); a fresh temp folder by default, removed by stop(). */
  dir?: string;
  /** Public key lines allowed to log in (`ssh-ed25519 AAAA... comment`). */
  authorizedKeys: string[];
  /** sshd's MaxSessions (channels per connection). OpenSSH's default is 10. */
  maxSessions?: number;
  /** Host key types to generate (default ed25519). Existing keys in `dir` are kept. */
  hostKeyTypes?: KeyType[];
  /** Reuse host keys from this folder (files `ssh_host_<type>_key`) instead of generating. */
  hostKeyDir?: string;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  /** A program (and its arguments) that runs sshd, e.g. `['unshare', '--pid', '--fork', '--mount-proc']`: the testbed puts each node in its own PID namespace. */
  wrapper?: string[];
  /**
   * Keep bash from reading the user's ~/.bashrc in every session (default true).
   * Debian's bash reads it for commands run by sshd when SHLVL < 2, and this
   * machine's root .bashrc runs `pyenv init` (~250 ms per command): these
   * loopback "nodes" stand for clean hosts, so sessions get SHLVL=1.
   */
  skipShellRc?: boolean;
}

export interface HostKey {
  type: KeyType;
  path: string;
  /** `ssh-ed25519 AAAA...` (no comment). */
  publicKey: string;
}

export interface SshdInstance {
  readonly address: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  readonly hostKeys: HostKey[];
  /** A known_hosts line for this server (`[addr]:port type key`, or `addr type key` on port 22). */
  knownHostsLine(hostName?: string): string;
  /** Stops the listener, every connection it serves and the programs still running in them (SIGTERM, then SIGKILL); removes a temp state folder. */
  stop(): Promise<void>;
  /** Simulates a crashed server: SIGKILL to the listener and its per-connection sshd processes (not to the sessions' programs). */
  crash(): Promise<void>;
}

/** A client key pair for tests and the testbed. */
export interface ClientKey {
  privateKeyPath: string;
  publicKey: string;
}

export async function makeClientKey(dir: string, options: { passphrase?: string; type?: KeyType; name?: string } = {}): Promise<ClientKey> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, options.name ?? `id_${options.type ?? 'ed25519'}`);
  if (!existsSync(path)) {
    await run('ssh-keygen', ['-q', '-t', options.type ?? 'ed25519', '-N', options.passphrase ?? '', '-C', 'expert-test', '-f', path]);
  }
  const publicKey = (await readFile(`${path}.pub`, 'utf8')).trim();
  return { privateKeyPath: path, publicKey };
}

export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startSshd(options: SshdOptions): Promise<SshdInstance> {
  if (!existsSync(SSHD)) throw new UserError(`${SSHD} not found: install Debian's openssh-server (scripts/setup.sh does)`);
  // sshd refuses to start without its privilege separation folder.
  await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const address = options.address ?? '127.0.0.1';
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'expert-sshd-')));
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o700);
  const hostKeys = await hostKeysIn(options.hostKeyDir ?? dir, options.hostKeyTypes ?? ['ed25519']);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, options.authorizedKeys.map((k) => `${k.trim()}\n`).join(''), { mode: 0o600 });
  const pidFile = join(dir, 'sshd.pid');
  const logFile = join(dir, 'sshd.log');

  for (let attempt = 0; ; attempt++) {
    const port = options.port && options.port > 0 ? options.port : await freePort(address);
    const configFile = join(dir, 'sshd_config');
    await writeFile(configFile, sshdConfig({ address, port, hostKeys, authorizedKeys, pidFile, maxSessions: options.maxSessions, extra: [...(options.skipShellRc === false ? [] : ['SetEnv SHLVL=1']), ...(options.extraConfig ?? [])] }));
    await rm(pidFile, { force: true });
    const argv = [...(options.wrapper ?? []), SSHD, '-D', '-e', '-f', configFile, '-E', logFile];
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('error', () => undefined);
    const ready = await Promise.race([waitListening(address, port, 5000), exited.then(() => false)]);
    if (ready && child.pid !== undefined) {
      child.unref();
      return instance({ address, port, dir, ownDir, pid: child.pid, hostKeys, exited });
    }
    try { if (child.pid) process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    const log = existsSync(logFile) ? (await readFile(logFile, 'utf8')).trim().split('\n').slice(-3).join(' | ') : '';
    // A free port can be taken between the probe and sshd's bind: try another.
    if (attempt < 3 && !(options.port && options.port > 0) && /Address already in use/.test(log)) continue;
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw new Error(`sshd on ${address}:${port} did not start: ${log || 'no log'}`);
  }
}

function sshdConfig(c: { address: string; port: number; hostKeys: HostKey[]; authorizedKeys: string; pidFile: string; maxSessions?: number; extra?: string[] }): string {
  return [
    `ListenAddress ${c.address}:${c.port}`,
    ...c.hostKeys.map((k) => `HostKey ${k.path}`),
    `PidFile ${c.pidFile}`,
    `AuthorizedKeysFile ${c.authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    // The state folder lives under /tmp: skip the ownership checks of the user's home.
    'StrictModes no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AllowTcpForwarding yes',
    'LogLevel INFO',
    `MaxSessions ${c.maxSessions ?? 10}`,
    // The bench opens many connections at once; OpenSSH drops some beyond 10 unauthenticated ones by default.
    'MaxStartups 200',
    'AcceptEnv LANG LC_*',
    ...(c.extra ?? []),
    '',
  ].join('\n');
}

async function hostKeysIn(dir: string, types: KeyType[]): Promise<HostKey[]> {
  await mkdir(dir, { recursive: true });
  const keys: HostKey[] = [];
  for (const type of types) {
    const path = join(dir, `ssh_host_${type}_key`);
    if (!existsSync(path)) await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', path]);
    const [kind, blob] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
    keys.push({ type, path, publicKey: `${kind} ${blob}` });
  }
  return keys;
}

async function waitListening(address: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await delay(20);
  }
  return false;
}

async function commandName(pid: number): Promise<string> {
  try { return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim(); } catch { return ''; }
}

function instance(s: { address: string; port: number; dir: string; ownDir: boolean; pid: number; hostKeys: HostKey[]; exited: Promise<number | null> }): SshdInstance {
  let stopped = false;
  const sshdProcesses = async (): Promise<number[]> => {
    const all = [s.pid, ...descendants(s.pid)];
    const names = await Promise.all(all.map(commandName));
    return all.filter((_, i) => names[i] === 'sshd');
  };
  const signalAll = (pids: number[], signal: NodeJS.Signals) => {
    for (const pid of pids) try { process.kill(pid, signal); } catch { /* gone */ }
  };
  return {
    address: s.address,
    port: s.port,
    dir: s.dir,
    pid: s.pid,
    hostKeys: s.hostKeys,
    knownHostsLine(hostName = s.address) {
      return `${lookupName(hostName, s.port)} ${s.hostKeys[0]!.publicKey}`;
    },
    async crash() {
      signalAll(await sshdProcesses(), 'SIGKILL');
      await Promise.race([s.exited, delay(2000)]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Connections' sshd processes and the sessions' programs are their own sessions (setsid):
      // snapshot the whole tree while it is still connected, then signal every process in it.
      const pids = [s.pid, ...descendants(s.pid)];
      signalAll(pids, 'SIGTERM');
      const deadline = Date.now() + 2000;
      while (pids.some(alive) && Date.now() < deadline) await delay(20);
      signalAll(pids.filter(alive), 'SIGKILL');
      await Promise.race([s.exited, delay(1000)]);
      if (s.ownDir) await rm(s.dir, { recursive: true, force: true });
    },
  };
}

/**
 * Test harness: real OpenSSH sshd instances on loopback addresses, a client key
 * made for the tests, an ssh_config with one alias per server and a known_hosts
 * file with their keys. HOME points to a temp folder so the user's own ~/.ssh
 * (config, keys, known_hosts, agent) never takes part.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { makeClientKey, startSshd, type ClientKey, type SshdInstance, type SshdOptions } from '../../src/testbed/sshd.js';
import type { SshSettings } from '../../src/batch/config/types.js';

export interface TestNodes {
  dir: string;
  key: ClientKey;
  servers: SshdInstance[];
  /** Aliases in the ssh config: node1, node2, ... */
  aliases: string[];
  settings: SshSettings;
  knownHostsFile: string;
  configFile: string;
  /** Stops every server and removes the folder. */
  cleanup(): Promise<void>;
}

let homeIsolated = false;

export async function isolateHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'expert-home-'));
  process.env.HOME = home;
  delete process.env.SSH_AUTH_SOCK;
  homeIsolated = true;
  return home;
}

export async function startNodes(count: number, options: Partial<SshdOptions> & { firstAddress?: number; clientConfig?: string[]; knownHosts?: boolean } = {}): Promise<TestNodes> {
  if (!homeIsolated) await isolateHome();
  const dir = await mkdtemp(join(tmpdir(), 'expert-ssh-test-'));
  const key = await makeClientKey(join(dir, 'client'));
  const servers: SshdInstance[] = [];
  try {
    const first = options.firstAddress ?? 10;
    const started = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        startSshd({ ...options, address: `127.0.0.${first + i}`, authorizedKeys: [key.publicKey], dir: join(dir, `sshd${i + 1}`), hostKeyDir: options.hostKeyDir }),
      ),
    );
    servers.push(...started);
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const aliases = servers.map((_, i) => `node${i + 1}`);
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, options.knownHosts === false ? '' : servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const configFile = join(dir, 'ssh_config');
  await writeFile(configFile, servers.map((s, i) => [
    `Host ${aliases[i]}`,
    `  HostName ${s.address}`,
    `  Port ${s.port}`,
    '  User root',
    `  IdentityFile ${key.privateKeyPath}`,
    ...(options.clientConfig ?? []),
    '',
  ].join('\n')).join('\n'));
  return {
    dir, key, servers, aliases, knownHostsFile, configFile,
    settings: { config: configFile, knownHosts: knownHostsFile, connectRetries: 0, connectTimeoutMs: 5000 },
    async cleanup() {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** PIDs of processes (other than this one) whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) found.push(Number(entry));
    } catch { /* gone */ }
  }
  return found;
}

/** Waits until no process carries `marker`; returns the survivors at the deadline. */
export async function waitGone(marker: string, timeoutMs = 8000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesWith(marker);
    if (left.length === 0 || Date.now() > deadline) return left;
    await delay(100);
  }
}

/** Waits for a condition, polling. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 8000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

export function uniqueMarker(label: string): string {
  return `expert-${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

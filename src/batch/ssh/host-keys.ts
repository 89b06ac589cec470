/**
 * Host key checking against known_hosts files: the machine map's
 * `ssh.knownHosts`, the config's UserKnownHostsFile, ~/.ssh/known_hosts and
 * /etc/ssh/ssh_known_hosts. Unknown keys are refused with their fingerprint
 * unless `acceptNewHostKeys` (ssh's `accept-new`) is on, which appends them to
 * the first user file; a changed key is refused always.
 */
import { readFileSync, existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  fingerprint, keyTypeLabel, keyTypeOf, knownHostsLine, knownKeyTypes, lookupName, parseKnownHosts, verifyHostKey,
  type KnownHostEntry,
} from './known-hosts.js';
import { expandHome } from './ssh-config.js';

export const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

/** Why a connection was refused; never retried. */
export class HostKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyError';
  }
}

export interface HostKeyPolicy {
  /** Files in lookup order; new keys go to the first one. */
  files: string[];
  acceptNew: boolean;
}

export function hostKeyPolicy(settingsFile: string | undefined, configFiles: string[], acceptNew: boolean): HostKeyPolicy {
  const files = [
    ...(settingsFile ? [expandHome(settingsFile)] : []),
    ...configFiles,
    join(homedir(), '.ssh', 'known_hosts'),
  ];
  return { files: [...new Set(files)], acceptNew };
}

/**
 * Serialises appends per file, and remembers a key accepted in this process
 * only until its line is in the file (parallel connections to a new host);
 * from then on the file is the truth, also when someone rewrites it.
 */
const appendQueue = new Map<string, Promise<void>>();
const acceptedHere = new Map<string, string>();

function readEntries(files: string[]): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const file of [...files, GLOBAL_KNOWN_HOSTS]) {
    if (!existsSync(file)) continue;
    try { entries.push(...parseKnownHosts(readFileSync(file, 'utf8'), file)); } catch { /* unreadable: as absent */ }
  }
  return entries;
}

/** ssh2 host key algorithm names for a known_hosts key type. */
function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

const DEFAULT_HOST_KEY_ORDER = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

export class HostKeyChecker {
  private readonly names: string[];
  private readonly display: string;

  constructor(private readonly policy: HostKeyPolicy, host: string, port: number, hostKeyAlias?: string) {
    const lookupHost = hostKeyAlias ?? host;
    this.names = [lookupName(lookupHost, hostKeyAlias ? 22 : port)];
    this.display = this.names[0]!;
  }

  /** Host key algorithms to ask for: the types known for this host first, as ssh does. */
  preferredAlgorithms(): string[] {
    const known = knownKeyTypes(readEntries(this.policy.files), this.names).flatMap(algorithmsFor);
    return [...new Set([...known, ...DEFAULT_HOST_KEY_ORDER])];
  }

  /** Resolves when the key is acceptable (recording it when accepting a new one); rejects with a HostKeyError otherwise. */
  async check(keyBlob: Buffer): Promise<void> {
    const print = `${keyTypeLabel(keyTypeOf(keyBlob))} key fingerprint is ${fingerprint(keyBlob)}`;
    const accepted = acceptedHere.get(this.acceptKey());
    if (accepted !== undefined) {
      if (accepted === keyBlob.toString('base64')) return;
      throw this.changed(print, this.policy.files[0]!, this.policy.files[0]!);
    }
    const verdict = verifyHostKey(readEntries(this.policy.files), this.names, keyBlob);
    switch (verdict.kind) {
      case 'known':
        return;
      case 'revoked':
        throw new HostKeyError(`host key for ${this.display} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line} (${print}): refused`);
      case 'changed': {
        const where = verdict.entries.map((e) => `${e.file}:${e.line}`).join(', ');
        throw this.changed(print, where, verdict.entries[0]!.file);
      }
      case 'unknown': {
        if (!this.policy.acceptNew) {
          throw new HostKeyError(
            `host key for ${this.display} is not known (${print}). Check the fingerprint, then accept it: ` +
              'set `acceptNewHostKeys: true` under `ssh:` in the machine map, run `expert run --accept-new-host-keys ...`, ' +
              `or add it with \`ssh-keyscan\` to ${this.policy.files[0]}`,
          );
        }
        await this.record(keyBlob);
        return;
      }
    }
  }

  private changed(print: string, where: string, file: string): HostKeyError {
    return new HostKeyError(
      `REMOTE HOST IDENTIFICATION HAS CHANGED for ${this.display}: the server sent ${print}, ` +
        `but ${where} records a different key. Someone could be intercepting the connection, or the host was reinstalled. ` +
        `Refused (always). If the change is expected, remove the old key with \`ssh-keygen -R '${this.display}' -f ${file}\` and connect again.`,
    );
  }

  private acceptKey(): string {
    return `${this.policy.files[0]}\0${this.display}`;
  }

  private async record(keyBlob: Buffer): Promise<void> {
    const file = this.policy.files[0]!;
    acceptedHere.set(this.acceptKey(), keyBlob.toString('base64'));
    const previous = appendQueue.get(file) ?? Promise.resolve();
    const next = previous.then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await appendFile(file, `${knownHostsLine(this.display, keyBlob)}\n`, { mode: 0o600 });
      process.stderr.write(`expert: permanently added ${this.display} (${keyTypeLabel(keyTypeOf(keyBlob))}) to ${file}\n`);
    });
    appendQueue.set(file, next.catch(() => undefined));
    try {
      await next;
    } finally {
      acceptedHere.delete(this.acceptKey());
    }
  }
}

/**
 * Which keys to offer, in ssh's order: the agent (SSH_AUTH_SOCK) first, then
 * the machine map's identity file, the config's IdentityFile entries, and the
 * default ~/.ssh/id_* files that exist. A key file is read every time (it is
 * small) and parsed once per content: a key rewritten at the same path (as
 * `testbed up` does) is the new key, never the one parsed before.
 * An encrypted key is usable only through the agent: with no agent and no
 * other key, the user gets one clear message saying what to do.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';
import { UserError } from '../../errors.js';
import { expandHome } from './ssh-config.js';

// ssh2 is CommonJS: its named exports are reached through the default export under ESM.
const { utils } = ssh2;
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

type LoadedKey = { path: string; key: ParsedKey } | { path: string; encrypted: true } | { path: string; unreadable: string };

/** The last parse of each path, with the hash of the bytes it came from: a changed file is parsed again. */
const parsed = new Map<string, { sha256: string; loaded: LoadedKey }>();

function loadKey(path: string): LoadedKey {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return { path, unreadable: (error as Error).message };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const cached = parsed.get(path);
  if (cached?.sha256 === sha256) return cached.loaded;
  let loaded: LoadedKey;
  try {
    const key = utils.parseKey(bytes);
    if (key instanceof Error) {
      loaded = /encrypted|passphrase/i.test(key.message) ? { path, encrypted: true } : { path, unreadable: key.message };
    } else {
      loaded = { path, key: Array.isArray(key) ? key[0] : key };
    }
  } catch (error) {
    loaded = { path, unreadable: (error as Error).message };
  }
  parsed.set(path, { sha256, loaded });
  return loaded;
}

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What is offered, for messages: `agent`, key paths. */
  offered: string[];
  /** Encrypted keys skipped for want of an agent. */
  skippedEncrypted: string[];
}

export function planAuthentication(user: string, identityFiles: string[], settingsIdentity?: string): AuthPlan {
  const methods: AnyAuthMethod[] = [];
  const offered: string[] = [];
  const skippedEncrypted: string[] = [];
  const unreadable: string[] = [];
  const agent = process.env.SSH_AUTH_SOCK;
  if (agent && existsSync(agent)) {
    methods.push({ type: 'agent', username: user, agent });
    offered.push(`ssh-agent (${agent})`);
  }
  const mapIdentity = settingsIdentity ? expandHome(settingsIdentity) : undefined;
  // A key named in the machine map must exist; the config's and the default ones are skipped when absent, as ssh does.
  if (mapIdentity && !existsSync(mapIdentity)) {
    throw new UserError(`identity file ${settingsIdentity} (machine map ssh.identityFile) does not exist`);
  }
  const defaults = DEFAULT_IDENTITIES.map((name) => join(homedir(), '.ssh', name));
  const paths = [...new Set([...(mapIdentity ? [mapIdentity] : []), ...identityFiles, ...defaults])];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const loaded = loadKey(path);
    if ('key' in loaded) {
      methods.push({ type: 'publickey', username: user, key: loaded.key });
      offered.push(path);
    } else if ('encrypted' in loaded) {
      skippedEncrypted.push(path);
    } else {
      unreadable.push(`${path} (${loaded.unreadable})`);
    }
  }
  if (methods.length === 0) {
    if (skippedEncrypted.length > 0) {
      throw new UserError(
        `the SSH key ${skippedEncrypted.join(', ')} is encrypted (has a passphrase) and no ssh-agent is reachable ` +
          `(SSH_AUTH_SOCK ${agent ? `points to a missing socket ${agent}` : 'is not set'}): ` +
          `run \`eval "$(ssh-agent)" && ssh-add ${skippedEncrypted[0]}\` in the shell that starts expert, or use a key without a passphrase`,
      );
    }
    const keys = unreadable.length > 0 ? `no usable key among ${paths.join(', ')}: cannot read ${unreadable.join(', ')}` : `none of ${paths.join(', ')} exists`;
    throw new UserError(
      `no SSH key to log in as ${user}: no ssh-agent (SSH_AUTH_SOCK) and ${keys}; ` +
        'set `identityFile` under `ssh:` in the machine map or IdentityFile in ~/.ssh/config',
    );
  }
  return { methods, offered, skippedEncrypted };
}

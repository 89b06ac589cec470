/**
 * known_hosts parsing and matching, as OpenSSH does it (sshd(8) "SSH_KNOWN_HOSTS
 * FILE FORMAT"): comma-separated host patterns with `*`/`?` wildcards and `!`
 * negation, `[host]:port` for ports other than 22, hashed `|1|salt|hash` names
 * (HMAC-SHA1 of the name keyed by the salt), `@revoked` markers.
 * Hand-written: no maintained npm library matches hashed entries and
 * `[host]:port` the way ssh does. Pure: files are read elsewhere.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (patterns or a `|1|` hash). */
  hosts: string;
  keyType: string;
  /** Base64 of the key blob. */
  key: string;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields.shift() === '@revoked' ? 'revoked' : 'cert-authority';
    }
    const [hosts, keyType, key] = fields;
    // Malformed lines are skipped, as ssh does.
    if (!hosts || !keyType || !key) continue;
    entries.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** The name ssh looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Does the entry's host field match this lookup name? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (wildcardMatch(body.toLowerCase(), name.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** ssh's pattern language: `*` any run, `?` one character. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(text);
}

/** `SHA256:...` exactly as ssh prints it (unpadded base64 of the key blob's SHA-256). */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name at the start of an SSH public key blob (`ssh-ed25519`, ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

/** How ssh names a key type in messages: `ED25519`, `ECDSA`, `RSA`. */
export function keyTypeLabel(keyType: string): string {
  if (keyType.includes('ed25519')) return 'ED25519';
  if (keyType.startsWith('ecdsa')) return 'ECDSA';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType.toUpperCase();
}

export type HostKeyVerdict =
  | { kind: 'known'; entry: KnownHostEntry }
  | { kind: 'unknown' }
  | { kind: 'changed'; entries: KnownHostEntry[] }
  | { kind: 'revoked'; entry: KnownHostEntry };

/**
 * Checks a presented key against every entry (in file order). A key equal to a
 * matching entry is known; a host with entries but none equal to this key has
 * changed its key (also when only other key types are recorded: ssh asks for
 * the recorded types first, so a different type means a different server).
 */
export function verifyHostKey(entries: readonly KnownHostEntry[], names: readonly string[], keyBlob: Buffer): HostKeyVerdict {
  const presented = keyBlob.toString('base64');
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && names.some((n) => hostFieldMatches(e.hosts, n)));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key === presented);
  if (revoked) return { kind: 'revoked', entry: revoked };
  const same = forHost.find((e) => e.marker === undefined && e.key === presented);
  if (same) return { kind: 'known', entry: same };
  const others = forHost.filter((e) => e.marker === undefined);
  return others.length > 0 ? { kind: 'changed', entries: others } : { kind: 'unknown' };
}

/** Key types recorded for a host, in file order: offered first during key exchange (like ssh). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], names: readonly string[]): string[] {
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker !== undefined || !names.some((n) => hostFieldMatches(e.hosts, n))) continue;
    if (!types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** A line to append for a newly accepted key. */
export function knownHostsLine(name: string, keyBlob: Buffer): string {
  return `${name} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

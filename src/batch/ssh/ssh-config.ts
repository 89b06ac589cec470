/**
 * Resolves a host name the way `ssh` does, from the machine map's
 * `ssh.config` file first and then ~/.ssh/config, with the `ssh-config`
 * library's `compute()` (first obtained value wins, Host patterns, Match).
 * Values given in the machine map (user, port) win over the files, like
 * `ssh -p PORT user@host` does.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, join, resolve, isAbsolute } from 'node:path';
import SSHConfig from 'ssh-config';
import { UserError } from '../../errors.js';
import { wildcardMatch } from './known-hosts.js';

export interface HostAddress {
  /** The name the user wrote (alias or address). */
  alias: string;
  hostName: string;
  port: number;
  user: string;
}

export interface ResolvedHost extends HostAddress {
  /** IdentityFile entries, `~` and `%` tokens expanded, in order. */
  identityFiles: string[];
  /** Jump hosts, outermost first (ProxyJump a,b: connect to a, from it to b, from it to the target). */
  jumps: ResolvedHost[];
  /** UserKnownHostsFile entries. */
  knownHostsFiles: string[];
  /** HostKeyAlias: the name looked up in known_hosts instead of the host name. */
  hostKeyAlias?: string;
  /** `ConnectTimeout` in ms, when set in the config. */
  connectTimeoutMs?: number;
}

export interface ResolveOptions {
  user?: string;
  port?: number;
}

/** Parses `[user@]host[:port]` (ProxyJump syntax; also `[v6addr]:port`). */
export function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
  let rest = spec.trim();
  if (rest.startsWith('ssh://')) rest = rest.slice('ssh://'.length);
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) { user = rest.slice(0, at); rest = rest.slice(at + 1); }
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) return { host: bracket[1]!, user, port: bracket[2] ? Number(bracket[2]) : undefined };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && rest.indexOf(':') === colon) { port = Number(rest.slice(colon + 1)); rest = rest.slice(0, colon); }
  if (!rest || (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))) {
    throw new UserError(`ProxyJump entry "${spec}" is not [user@]host[:port]`);
  }
  return { host: rest, user, port };
}

export class SshConfigResolver {
  private readonly config: SSHConfig;

  constructor(private readonly files: string[]) {
    this.config = new SSHConfig();
    for (const file of files) {
      const text = readWithIncludes(file, 0);
      try { this.config.push(...SSHConfig.parse(text)); } catch (error) {
        throw new UserError(`ssh config ${file}: ${(error as Error).message}`);
      }
    }
  }

  /** The machine map's config file (relative to the current folder), then ~/.ssh/config when it exists. */
  static forSettings(configFile?: string): SshConfigResolver {
    const files: string[] = [];
    if (configFile) {
      const path = expandHome(configFile);
      if (!existsSync(path)) throw new UserError(`ssh config file ${configFile} (machine map ssh.config) does not exist`);
      files.push(path);
    }
    const userConfig = join(homedir(), '.ssh', 'config');
    if (existsSync(userConfig)) files.push(userConfig);
    return new SshConfigResolver(files);
  }

  resolve(alias: string, options: ResolveOptions = {}, depth = 0): ResolvedHost {
    if (depth > 8) throw new UserError(`ProxyJump chain for ${alias} is longer than 8 hops (a loop?)`);
    // Match exec would run shell commands from config text: not evaluated (Host patterns and other Match criteria are).
    const computed = this.config.compute(alias, { ignoreCase: true, matchExec: false }) as Record<string, string | string[] | undefined>;
    const one = (key: string): string | undefined => {
      const v = computed[key];
      return Array.isArray(v) ? v[0] : v;
    };
    const many = (key: string): string[] => {
      const v = computed[key];
      return v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean);
    };
    const user = options.user ?? one('user') ?? userInfo().username;
    const portText = one('port');
    const port = options.port ?? (portText ? Number(portText) : 22);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UserError(`ssh config: Port "${portText}" for ${alias} is not a port number`);
    const hostName = expandTokens(one('hostname') ?? alias, { h: alias, p: String(port), r: user });
    const tokens = { h: hostName, p: String(port), r: user, n: alias };
    const identityFiles = many('identityfile').map((f) => expandPath(f, tokens));
    const knownHostsFiles = many('userknownhostsfile').filter((f) => f !== 'none').map((f) => expandPath(f, tokens));
    const timeout = one('connecttimeout');
    const jumpText = one('proxyjump');
    const jumps: ResolvedHost[] = [];
    if (jumpText && jumpText !== 'none') {
      for (const spec of jumpText.split(',')) {
        const j = parseJumpSpec(spec);
        const jumpHost = this.resolve(j.host, { user: j.user, port: j.port }, depth + 1);
        // A jump host's own ProxyJump comes before it.
        jumps.push(...jumpHost.jumps, { ...jumpHost, jumps: [] });
      }
    }
    return {
      alias,
      hostName,
      port,
      user,
      identityFiles,
      jumps,
      knownHostsFiles,
      hostKeyAlias: one('hostkeyalias'),
      connectTimeoutMs: timeout && Number(timeout) > 0 ? Number(timeout) * 1000 : undefined,
    };
  }
}

/**
 * The file's text with `Include` lines replaced by the included files (ssh's
 * relative paths are under ~/.ssh; `*` and `?` in the last path component).
 * Splicing the text is what ssh does for an Include at top level; inside a
 * Host block ssh applies the included lines to that block only, which the
 * splice approximates.
 */
function readWithIncludes(file: string, depth: number): string {
  if (depth > 16) throw new UserError(`ssh config ${file}: Include nested more than 16 deep (a loop?)`);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (error) {
    throw new UserError(`cannot read ssh config ${file}: ${(error as Error).message}`);
  }
  return text.split('\n').map((line) => {
    const include = /^\s*Include\s*[=\s]\s*(.+?)\s*$/i.exec(line);
    if (!include) return line;
    return include[1]!.split(/\s+/).flatMap((pattern) => includedFiles(pattern)).map((f) => readWithIncludes(f, depth + 1)).join('\n');
  }).join('\n');
}

function includedFiles(pattern: string): string[] {
  const unquoted = pattern.replace(/^"(.*)"$/, '$1');
  const path = unquoted.startsWith('~') ? expandHome(unquoted) : isAbsolute(unquoted) ? unquoted : join(homedir(), '.ssh', unquoted);
  const folder = dirname(path);
  const name = basename(path);
  if (!/[*?]/.test(name)) return existsSync(path) ? [path] : [];
  let entries: string[];
  try { entries = readdirSync(folder); } catch { return []; }
  return entries.filter((entry) => wildcardMatch(name, entry)).sort().map((entry) => join(folder, entry));
}

function expandTokens(value: string, tokens: Record<string, string>): string {
  return value.replace(/%(.)/g, (whole, letter: string) => {
    if (letter === '%') return '%';
    if (letter === 'd') return homedir();
    if (letter === 'u') return userInfo().username;
    return tokens[letter] ?? whole;
  });
}

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

function expandPath(path: string, tokens: Record<string, string>): string {
  const unquoted = path.replace(/^"(.*)"$/, '$1');
  const expanded = expandTokens(unquoted, tokens);
  // Relative IdentityFile/UserKnownHostsFile paths are relative to ~/.ssh in ssh, like ~ paths.
  if (expanded.startsWith('~')) return expandHome(expanded);
  return isAbsolute(expanded) ? expanded : join(homedir(), expanded);
}

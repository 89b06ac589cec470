/**
 * What a QEMU command line says about its guest: whether it is QEMU at all,
 * and the guest's name (`-name guest=X,debug-threads=on` as libvirt writes
 * it, or `-name X`), following QEMU's option syntax (`,,` is a literal comma).
 */

export function isQemuArgv(argv: readonly string[]): boolean {
  const program = (argv[0] ?? '').split('/').pop() ?? '';
  return program.startsWith('qemu-system') || program.startsWith('qemu-kvm');
}

/** Splits a QEMU option value at single commas; `,,` stands for one comma. */
export function splitQemuOpts(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === ',') {
      if (value[i + 1] === ',') {
        current += ',';
        i++;
      } else {
        parts.push(current);
        current = '';
      }
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** The guest name, or undefined when QEMU was started without `-name`. */
export function guestNameFromArgv(argv: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((arg === '-name' || arg === '--name') && i + 1 < argv.length) value = argv[++i];
    else if (arg.startsWith('-name=') || arg.startsWith('--name=')) value = arg.slice(arg.indexOf('=') + 1);
  }
  if (value === undefined) return undefined;
  const parts = splitQemuOpts(value);
  let name: string | undefined;
  parts.forEach((part, index) => {
    const eq = part.indexOf('=');
    // The first part may be the implied key (`-name X`); QEMU only knows a few keys here.
    const key = eq < 0 ? undefined : part.slice(0, eq);
    if (key === 'guest') name = part.slice(eq + 1);
    else if (index === 0 && (key === undefined || !['process', 'debug-threads'].includes(key))) name = part;
  });
  return name;
}

/** `debug-threads=on` names QEMU's threads (`CPU 0/KVM`, `IO io1`, `worker`); without it every thread is `qemu-system-*`. */
export function hasDebugThreads(argv: readonly string[]): boolean {
  return argv.some((arg) => /(^|,)debug-threads=(on|yes|true)(,|$)/.test(arg));
}

/**
 * One user-mode network forward, `hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`
 * (QEMU's syntax, net/slirp.c): connections to HOSTADDR:HOSTPORT on the node
 * reach GUESTPORT in the guest. An empty HOSTADDR binds every address.
 */
export interface HostForward {
  protocol: 'tcp' | 'udp';
  /** As written ('' when empty: every address); IPv6 without its brackets. */
  hostAddr: string;
  hostPort: number;
  guestAddr: string;
  guestPort: number;
  /** The option text, for messages. */
  text: string;
}

/** A `hostfwd=` value that is not QEMU's syntax (QEMU itself would refuse it). */
export class HostForwardError extends Error {
  constructor(readonly text: string, reason: string) {
    super(`hostfwd=${text} ${reason}`);
    this.name = 'HostForwardError';
  }
}

/** The user-net backends' `hostfwd=` values, in order: `-netdev user,...`, `-nic user,...`, `-net user,...`, and `-netdev` as JSON (`{"type":"user","hostfwd":[{"str":...}]}`, as libvirt writes it). */
export function hostForwardsFromArgv(argv: readonly string[]): HostForward[] {
  const out: HostForward[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    const option = /^--?(netdev|nic|net)(=(.*))?$/s.exec(arg);
    if (!option) continue;
    const value = option[3] ?? argv[++i];
    if (value === undefined) break;
    for (const text of userNetForwards(value)) out.push(parseHostForward(text));
  }
  return out;
}

function userNetForwards(value: string): string[] {
  if (value.trimStart().startsWith('{')) {
    let json: unknown;
    try { json = JSON.parse(value); } catch { return []; }
    const netdev = json as { type?: unknown; hostfwd?: unknown };
    if (netdev.type !== 'user' || !Array.isArray(netdev.hostfwd)) return [];
    return netdev.hostfwd.map((f: unknown) => (f as { str?: unknown }).str).filter((s): s is string => typeof s === 'string');
  }
  const parts = splitQemuOpts(value);
  // The backend is the implied first key (`user,...`) or `type=user`.
  const backend = parts[0]?.includes('=') ? parts.find((p) => p.startsWith('type='))?.slice(5) : parts[0];
  if (backend !== 'user') return [];
  return parts.filter((p) => p.startsWith('hostfwd=')).map((p) => p.slice('hostfwd='.length));
}

/** Parses one `hostfwd=` value as QEMU does: protocol (tcp when empty), host address (may be empty), `-`, guest address (may be empty), guest port. */
export function parseHostForward(text: string): HostForward {
  const m = /^(tcp|udp|)?:(\[[^\]]*\]|[^:\-[\]]*):(\d+)-(\[[^\]]*\]|[^:[\]]*):(\d+)$/.exec(text);
  if (!m) throw new HostForwardError(text, 'is not [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT');
  const unbracket = (s: string) => (s.startsWith('[') ? s.slice(1, -1) : s);
  const hostPort = Number(m[3]);
  const guestPort = Number(m[5]);
  for (const port of [hostPort, guestPort]) if (port < 1 || port > 65535) throw new HostForwardError(text, `has port ${port}, outside 1-65535`);
  return { protocol: m[1] === 'udp' ? 'udp' : 'tcp', hostAddr: unbracket(m[2]!), hostPort, guestAddr: unbracket(m[4]!), guestPort, text };
}

/** A forward's host address binds every address of the node (so it is reached at the node's own address). */
export function bindsAllAddresses(forward: Pick<HostForward, 'hostAddr'>): boolean {
  return forward.hostAddr === '' || forward.hostAddr === '0.0.0.0' || forward.hostAddr === '::';
}

/**
 * Where the guest's SSH server is reached, as seen on its node: the TCP
 * forward to guest port 22 (one binding every address first, since that is
 * reachable from other hosts), or undefined when there is none.
 */
export function sshForwardFromArgv(argv: readonly string[]): HostForward | undefined {
  const ssh = hostForwardsFromArgv(argv).filter((f) => f.protocol === 'tcp' && f.guestPort === 22);
  return ssh.find(bindsAllAddresses) ?? ssh[0];
}

/**
 * The command line sent to sshd for every remote process (pure).
 *
 * sshd runs it with the user's login shell, which execs /bin/sh; OpenSSH
 * starts every session with setsid(), and where a server did not, the
 * script re-execs itself through `setsid` (no fork), so `$$` is the PID,
 * process group and session of the program we then `exec`:
 *
 *   1. print `EXPERT-SSH-PID <pid>` as the very first stdout line (the client
 *      strips it before any output is stored);
 *   2. start a detached watchdog in the same process group: every second it
 *      checks that the program and the sshd process serving the session are
 *      alive; when sshd is gone (connection dropped, client died: without a
 *      pty sshd sends no SIGHUP) it sends TERM, then KILL, to the group;
 *   3. set the environment and folder, then `exec /bin/sh -c COMMAND`.
 *
 * Every user value reaches the shell through `quote()`: nothing is spliced.
 */
import { quote } from '../../shell.js';
import { UserError } from '../../errors.js';

export const PID_MARKER = 'EXPERT-SSH-PID ';

export interface RemoteCommandOptions {
  command: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Seconds between the watchdog's checks. */
  watchIntervalS?: number;
  /** Seconds between the watchdog's TERM and KILL. */
  watchGraceS?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function remoteCommand(options: RemoteCommandOptions): string {
  const interval = options.watchIntervalS ?? 1;
  const grace = options.watchGraceS ?? 2;
  const setup: string[] = [];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new UserError(`environment variable name ${JSON.stringify(name)} is not a valid shell name`);
    setup.push(`export ${name}=${quote(value)}`);
  }
  if (options.cwd !== undefined) setup.push(`cd -- ${quote(options.cwd)} || exit 126`);
  const script = [
    // Lead our own session and process group. OpenSSH already made us (setsid per session); a server that
    // did not gets `setsid`, which does not fork for a non-leader: the PID stays the one the server started.
    // Fields after the `)` of /proc/PID/stat: state ppid pgrp session. $1 is this script, $2 the command.
    'leader() { read -r st < "/proc/$$/stat" || return 0; st=${st##*) }; set -- $st; [ "$4" = "$$" ]; }',
    'if ! leader && command -v setsid >/dev/null 2>&1; then exec setsid /bin/sh -c "$1" expert-ssh "$1" "$2"; fi',
    'p=$$ s=$PPID',
    `printf '${PID_MARKER}%s\\n' "$p"`,
    // Double fork: the watchdog is nobody's child we exec into, so it never shows up in the program's wait().
    '( ( trap "" HUP INT TERM PIPE; exec </dev/null >/dev/null 2>&1',
    // /proc first: kill -0 fails with EPERM on a live sshd owned by another user.
    'alive() { [ -d "/proc/$1" ] || kill -0 "$1" 2>/dev/null; }',
    `while sleep ${interval}; do alive "$p" || exit 0; alive "$s" || break; done`,
    TREE_SIGNAL,
    `tree_signal TERM "$p"; sleep ${grace}; tree_signal KILL "$p" ) & )`,
    ...setup,
    'exec /bin/sh -c "$2"',
  ].join('\n');
  return `exec /bin/sh -c ${quote(script)} expert-ssh ${quote(script)} ${quote(options.command)}`;
}

/**
 * `tree_signal SIG P`: collects from /proc every process of session P and
 * every descendant of those (children that called setpgid or setsid) until no
 * new one turns up, then signals P, the others, and process group P
 * (`kill -SIG -P`: the one spelling dash, busybox ash and bash all take).
 * Shell builtins only: no fork per process. Without /proc only P and its group.
 */
const TREE_SIGNAL = [
  'tree_signal() {',
  '  ts_sig=$1 ts_p=$2 ts_set=" $2 "',
  '  if [ -d /proc/self ]; then',
  // Our own PID (not $$: in a subshell that is the parent's) is left out: the watchdog lives in session P.
  '    read -r ts_me < /proc/self/stat; ts_me=${ts_me%% *}; ts_new=1',
  // Snapshot the tree first: once P dies its children are reparented and no longer findable as descendants.
  '    while [ "$ts_new" = 1 ]; do ts_new=0',
  '      for ts_f in /proc/[0-9]*/stat; do',
  '        ts_q=${ts_f#/proc/}; ts_q=${ts_q%/stat}',
  '        case "$ts_set" in *" $ts_q "*) continue ;; esac',
  '        [ "$ts_q" = "$ts_me" ] && continue',
  '        read -r ts_st 2>/dev/null < "$ts_f" || continue',
  '        set -- ${ts_st##*) }',
  '        case "$ts_set" in *" $2 "*) ;; *) [ "$4" = "$ts_p" ] || continue ;; esac',
  '        ts_set="$ts_set$ts_q "; ts_new=1',
  '      done',
  '    done',
  '  fi',
  // P first, so its exit reports this signal (a shell that saw only its child die would exit 128+n).
  '  kill -"$ts_sig" "$ts_p" 2>/dev/null',
  '  for ts_q in $ts_set; do [ "$ts_q" = "$ts_p" ] || kill -"$ts_sig" "$ts_q" 2>/dev/null; done',
  // The group last: from the watchdog, KILL to the group ends the watchdog too.
  '  kill -"$ts_sig" -"$ts_p" 2>/dev/null',
  '  return 0',
  '}',
].join('\n');

/** The command that signals a remote process tree (sent on its own channel). */
export function signalGroupCommand(pgid: number, signal: string): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`refusing to signal process group ${pgid}`);
  const name = signal.replace(/^SIG/, '');
  if (!/^[A-Z0-9]+$/.test(name)) throw new Error(`not a signal name: ${signal}`);
  return `${TREE_SIGNAL}\ntree_signal ${name} ${pgid}`;
}

/** Parses the marker line (without its newline); undefined when it is not one. */
export function parsePidMarker(line: string): number | undefined {
  if (!line.startsWith(PID_MARKER)) return undefined;
  const pid = Number(line.slice(PID_MARKER.length).trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

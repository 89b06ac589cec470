/**
 * Builds the ONE sh script that applies (or undoes) actions on many threads
 * of a node, and parses what it prints. Pure: apply.ts runs it.
 *
 * Per thread the script prints
 *   B <tid> <cpus> <stat tail> [<ionice -p output>]   state before
 *   E <tid> <action> <error text>                       one per failed command
 *   A <tid> <cpus> <stat tail> [<ionice -p output>]   state after
 *   G <tid>                                            thread gone (or TID reused)
 * and per libvirt domain (pinned / tuned through virsh, live only)
 *   LB <uuid> <query> <line>     libvirt's view before (virsh vcpupin|emulatorpin|iothreadinfo|schedinfo --live)
 *   LE <uuid> <what> <error>     one per failed virsh command
 *   LA <uuid> <query> <line>     libvirt's view after
 *   LG <uuid>                    the domain's QEMU is gone (or is another process now)
 * Every thread's state is read first, then the domains are changed, then the
 * threads' own actions run and their state is read back.
 */
import { quote } from '../shell.js';
import { IONICE_CLASS_NUMBER, SCHED_POLICY_NUMBER, type ActionKind, type ThreadAction } from './actions.js';
import { stateFromStat } from './discover-parse.js';
import { parseVirshQueries } from './libvirt-view.js';
import type { LibvirtTune, ThreadState } from './types.js';

export interface ScriptThread {
  pid: number;
  tid: number;
  startTime: number;
  actions: ThreadAction[];
  /** Its pin is done by a domain's virsh command in the same script (no taskset). */
  pinnedByLibvirt?: boolean;
}

export interface ScriptDomain {
  uuid: string;
  /** The domain's QEMU process and its start time: a domain restarted since is left alone. */
  pid: number;
  startTime: number;
  /** virsh commands (after `virsh -c qemu:///system`), each with what it is for (e.g. `vcpu:0`, `cputune`). */
  commands: Array<{ what: string; argv: string[] }>;
}

export const VIRSH_URI = 'qemu:///system';

const PRELUDE = `LC_ALL=C; export LC_ALL
T=$(printf '\\t')
have() { command -v "$1" >/dev/null 2>&1; }
# state PID TID START: prints cpus<TAB>stat-tail[<TAB>ionice], fails when the thread is gone or its TID was reused
state() {
  d=/proc/$1/task/$2; id=$2; want=$3
  st=; read -r st 2>/dev/null < "$d/stat" || return 1
  tail=\${st##*) }
  set -- $tail
  # field 22 (start time) is the 20th after the comm
  [ "\${20}" = "$want" ] || return 1
  c=
  while IFS= read -r line; do
    case $line in Cpus_allowed_list:*) c=\${line#Cpus_allowed_list:};; esac
  done < "$d/status" || return 1
  set -- $c
  if [ -n "$IONICE" ]; then
    i=$(ionice -p "$id" 2>&1 | tr '\\t\\n' '  ')
    echo "$1$T$tail$T$i"
  else
    echo "$1$T$tail"
  fi
}
# run TID ACTION TOOL ARGS...: runs a tool, reports its failure on one line
run() {
  tid=$1; what=$2; tool=$3; shift 2
  if ! have "$tool"; then echo "E$T$tid$T$what$T$tool is not installed on this node"; return; fi
  e=$("$@" 2>&1 >/dev/null) || echo "E$T$tid$T$what$T$(printf %s "$e" | tr '\\t\\n' '  ')"
}
# snap PID TID START: the state before (remembered in ok_TID), act PID TID START FN: the actions, then the state after
snap() {
  if b=$(state "$1" "$2" "$3"); then echo "B$T$2$T$b"; eval "ok_$2=1"; else echo "G$T$2"; fi
}
act() {
  p=$1; tid=$2; start=$3; shift 3
  eval "[ -n \\"\\$ok_$tid\\" ]" || return 0
  "$@"
  if a=$(state "$p" "$tid" "$start"); then echo "A$T$tid$T$a"; else echo "G$T$tid"; fi
}
# lvq TAG UUID: libvirt's live view of the domain, one line per row virsh prints
lvq() {
  for q in vcpupin emulatorpin iothreadinfo schedinfo; do
    virsh -q -c ${VIRSH_URI} "$q" "$2" --live 2>&1 | while IFS= read -r l; do [ -n "$l" ] && echo "$1$T$2$T$q$T$l"; done
  done
}
# lvrun UUID WHAT ARGS...: one virsh command, its failure on one line
lvrun() {
  u=$1; what=$2; shift 2
  if ! have virsh; then echo "LE$T$u$T$what\${T}virsh is not installed on this node"; return; fi
  e=$(virsh -c ${VIRSH_URI} "$@" 2>&1 >/dev/null) || echo "LE$T$u$T$what$T$(printf %s "$e" | tr '\\t\\n' '  ')"
}
# dom PID START UUID FN: FN changes the domain, when its QEMU is still that process
dom() {
  if state "$1" "$1" "$2" >/dev/null; then lvq LB "$3"; "$4"; lvq LA "$3"; else echo "LG$T$3"; fi
}
`;

function commandFor(tid: number, action: ThreadAction): string {
  const t = String(tid);
  switch (action.kind) {
    case 'pin':
      return ['run', t, 'pin', 'taskset', '-p', '-c', action.cpus, t].map(quote).join(' ');
    case 'nice':
      // `renice N -p TID` sets N (absolute) with util-linux and busybox alike; `-n` is relative in busybox.
      return ['run', t, 'nice', 'renice', String(action.nice), '-p', t].map(quote).join(' ');
    case 'ionice': {
      const cls = IONICE_CLASS_NUMBER[action.class];
      const level = cls === 1 || cls === 2 ? ['-n', String(action.level)] : [];
      return ['run', t, 'ionice', 'ionice', '-c', String(cls), ...level, '-p', t].map(quote).join(' ');
    }
    case 'chrt': {
      const flag = { other: '-o', fifo: '-f', rr: '-r', batch: '-b', idle: '-i' }[action.policy];
      return ['run', t, 'chrt', 'chrt', flag, '-p', String(action.priority), t].map(quote).join(' ');
    }
  }
}

/** The script for a list of threads (and libvirt domains). Shell functions carry each thread's and domain's commands. */
export function buildApplyScript(threads: readonly ScriptThread[], domains: readonly ScriptDomain[] = []): string {
  const withIonice = threads.some((t) => t.actions.some((a) => a.kind === 'ionice'));
  const lines = [PRELUDE, withIonice ? 'IONICE=1' : 'IONICE='];
  for (const thread of threads) lines.push(`snap ${thread.pid} ${thread.tid} ${thread.startTime}`);
  domains.forEach((domain, index) => {
    const body = domain.commands.map((c) => `  ${['lvrun', domain.uuid, c.what, ...c.argv].map(quote).join(' ')}`).join('\n') || '  :';
    lines.push(`d${index}() {\n${body}\n}`, `dom ${domain.pid} ${domain.startTime} ${quote(domain.uuid)} d${index}`);
  });
  threads.forEach((thread, index) => {
    const own = thread.actions.filter((a) => !(a.kind === 'pin' && thread.pinnedByLibvirt));
    const body = own.map((a) => `  ${commandFor(thread.tid, a)}`).join('\n') || '  :';
    lines.push(`f${index}() {\n${body}\n}`, `act ${thread.pid} ${thread.tid} ${thread.startTime} f${index}`);
  });
  lines.push('exit 0', '');
  return lines.join('\n');
}

export interface DomainOutcome {
  uuid: string;
  gone: boolean;
  before?: LibvirtTune;
  after?: LibvirtTune;
  errors: Array<{ what: string; message: string }>;
}

export function parseDomainOutput(output: string): Map<string, DomainOutcome> {
  const rows = new Map<string, { gone: boolean; before: Array<{ query: string; text: string }>; after: Array<{ query: string; text: string }>; errors: DomainOutcome['errors']; seen: Set<string> }>();
  const get = (uuid: string) => {
    let r = rows.get(uuid);
    if (!r) rows.set(uuid, (r = { gone: false, before: [], after: [], errors: [], seen: new Set() }));
    return r;
  };
  for (const line of output.split('\n')) {
    const f = line.split('\t');
    if (!f[0]?.startsWith('L') || f[1] === undefined) continue;
    const r = get(f[1]);
    if (f[0] === 'LG') r.gone = true;
    else if (f[0] === 'LE') r.errors.push({ what: f[2] ?? '', message: f.slice(3).join(' ').trim() });
    else if (f[0] === 'LB' || f[0] === 'LA') {
      r.seen.add(f[0]);
      (f[0] === 'LB' ? r.before : r.after).push({ query: f[2] ?? '', text: f.slice(3).join('\t') });
    }
  }
  const outcomes = new Map<string, DomainOutcome>();
  for (const [uuid, r] of rows) {
    outcomes.set(uuid, {
      uuid,
      gone: r.gone,
      ...(r.seen.has('LB') ? { before: parseVirshQueries(r.before) } : {}),
      ...(r.seen.has('LA') ? { after: parseVirshQueries(r.after) } : {}),
      errors: r.errors,
    });
  }
  return outcomes;
}

export interface ThreadOutcome {
  tid: number;
  gone: boolean;
  before?: ThreadState;
  after?: ThreadState;
  errors: Array<{ action: ActionKind; message: string }>;
}

export function parseIonice(text: string): ThreadState['ionice'] | undefined {
  const m = /^\s*(none|realtime|best-effort|idle)(?::\s*prio\s+(\d+))?/.exec(text);
  if (!m) return undefined;
  return { class: m[1] as NonNullable<ThreadState['ionice']>['class'], level: m[2] === undefined ? 0 : Number(m[2]) };
}

function stateFromFields(fields: string[]): ThreadState {
  const { state } = stateFromStat(fields[1] ?? '', fields[0] ?? '');
  const ionice = fields[2] === undefined ? undefined : parseIonice(fields[2]);
  return ionice ? { ...state, ionice } : state;
}

export function parseApplyOutput(output: string): Map<number, ThreadOutcome> {
  const outcomes = new Map<number, ThreadOutcome>();
  const get = (tid: number) => {
    let o = outcomes.get(tid);
    if (!o) outcomes.set(tid, (o = { tid, gone: false, errors: [] }));
    return o;
  };
  for (const line of output.split('\n')) {
    const f = line.split('\t');
    const tid = Number(f[1]);
    if (!Number.isInteger(tid)) continue;
    switch (f[0]) {
      case 'B':
        get(tid).before = stateFromFields(f.slice(2));
        break;
      case 'A':
        get(tid).after = stateFromFields(f.slice(2));
        break;
      case 'E':
        get(tid).errors.push({ action: f[2] as ActionKind, message: f.slice(3).join(' ').trim() });
        break;
      case 'G':
        get(tid).gone = true;
        break;
    }
  }
  return outcomes;
}

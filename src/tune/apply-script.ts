/**
 * Builds the ONE sh script that applies (or undoes) actions on many threads
 * of a node, and parses what it prints. Pure: apply.ts runs it.
 *
 * Per thread the script prints
 *   B <tid> <cpus> <stat tail> [<ionice -p output>]   state before
 *   E <tid> <action> <error text>                       one per failed command
 *   A <tid> <cpus> <stat tail> [<ionice -p output>]   state after
 *   G <tid>                                            thread gone (or TID reused)
 */
import { quote } from '../shell.js';
import { IONICE_CLASS_NUMBER, SCHED_POLICY_NUMBER, type ActionKind, type ThreadAction } from './actions.js';
import { stateFromStat } from './discover-parse.js';
import type { ThreadState } from './types.js';

export interface ScriptThread {
  pid: number;
  tid: number;
  startTime: number;
  actions: ThreadAction[];
}

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
one() {
  p=$1; tid=$2; start=$3; shift 3
  if b=$(state "$p" "$tid" "$start"); then echo "B$T$tid$T$b"; else echo "G$T$tid"; return; fi
  "$@"
  if a=$(state "$p" "$tid" "$start"); then echo "A$T$tid$T$a"; else echo "G$T$tid"; fi
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

/** The script for a list of threads. `one` needs its actions as one command: a function per thread. */
export function buildApplyScript(threads: readonly ScriptThread[]): string {
  const withIonice = threads.some((t) => t.actions.some((a) => a.kind === 'ionice'));
  const lines = [PRELUDE, withIonice ? 'IONICE=1' : 'IONICE='];
  threads.forEach((thread, index) => {
    const body = thread.actions.map((a) => `  ${commandFor(thread.tid, a)}`).join('\n') || '  :';
    lines.push(`f${index}() {\n${body}\n}`, `one ${thread.pid} ${thread.tid} ${thread.startTime} f${index}`);
  });
  lines.push('exit 0', '');
  return lines.join('\n');
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

/**
 * `expert watch`'s frame: one block of text for a batch's live state. Pure.
 *
 *   batch 3 'pinning' running · runs 4/12 done, 1 running, 7 left · ETA 2m10s · policy pin-one · 12 345 lines
 *   node/guest  role      state    lines  process
 *   local       workload  running    812  iozone[size=16m] pin-one #2 @local
 *   ...
 *   latest      cs    bo    us  sy  wa   perf
 *   local      812  1040     3   2   0   cache_misses=1.2e+06 context_switches=812
 *
 *   moves: 6 so far, 1 kept (the latest 5)
 *   09:45:15  run 3  node1/vm2  undone  pin   write_bps 1.44e+07 → 1.17e+07 (-19%)  cpus *, nice 0 → cpus 1, nice 0
 */
import type { BatchStatus } from './batch-status.js';
import { formatEta } from './progress.js';

const VMSTAT = ['cs', 'bo', 'us', 'sy', 'wa'];

function where(host: string, guest: string | null): string {
  return guest ? `${host}/${guest}` : host;
}

function pad(text: string, width: number, right = false): string {
  const t = text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text;
  return right ? t.padStart(width) : t.padEnd(width);
}

function compact(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e7) return String(value);
  return value.toPrecision(3);
}

export function renderWatch(status: BatchStatus, width = 100): string {
  const p = status.progress;
  const head =
    `batch ${status.batchId} '${status.name}' ${status.status} · runs ${p.done}/${p.total} done, ${p.running} running, ${p.left} left` +
    ` · ETA ${formatEta(p.etaSeconds)} · policy ${p.policy ?? '-'} · ${status.lines} lines`;
  const lines = [head, ''];
  // The processes worth watching: those running, else those of the latest run that started.
  const running = status.processes.filter((x) => x.status === 'running');
  // Runs execute in their planned order (interleaved), not by number: the latest is the one that started last.
  const lastRun = [...status.runs].filter((r) => r.startedMs !== null).sort((a, b) => a.startedMs! - b.startedMs!).at(-1)?.run;
  const shown = running.length > 0 ? running : status.processes.filter((x) => x.run === lastRun);
  const whereWidth = Math.max(10, ...shown.map((x) => where(x.host, x.guest).length));
  lines.push(`${pad('node/guest', whereWidth)}  ${pad('role', 8)}  ${pad('state', 8)}  ${pad('lines', 7, true)}  process`);
  for (const x of shown) {
    const row = `${pad(where(x.host, x.guest), whereWidth)}  ${pad(x.role, 8)}  ${pad(x.status, 8)}  ${pad(String(x.lines), 7, true)}  ${x.label}`;
    lines.push(pad(row, width));
  }
  const places = [...new Set(status.latest.map((f) => where(f.host, f.guest)))];
  if (places.length > 0) {
    const w = Math.max(10, ...places.map((x) => x.length));
    lines.push('', `${pad('latest', w)}  ${VMSTAT.map((f) => pad(f, 7, true)).join(' ')}   perf`);
    for (const place of places) {
      const figures = status.latest.filter((f) => where(f.host, f.guest) === place);
      const vm = VMSTAT.map((f) => {
        const got = figures.find((x) => x.name === `vmstat_${f}`);
        return pad(got ? compact(got.value) : '-', 7, true);
      });
      const perf = figures.filter((x) => x.name.startsWith('perf_')).map((x) => `${x.name.slice(5)}=${compact(x.value)}`);
      lines.push(pad(`${pad(place, w)}  ${vm.join(' ')}   ${perf.join(' ') || '-'}`, width));
    }
  }
  lines.push(...movesLines(status.moves, width));
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** An online optimizer's latest moves, one line each: when, where, kept or undone, the knob, the objective before → after, the settings (cut first when the line is too wide). */
function movesLines(moves: BatchStatus['moves'] | undefined, width: number): string[] {
  if (!moves || moves.total === 0) return [];
  const shown = moves.latest;
  const head = `moves: ${moves.total} so far, ${moves.kept} kept${moves.total > shown.length ? ` (the latest ${shown.length})` : ''}`;
  const rows = shown.map((m) => {
    const change = m.objectiveBefore && m.objectiveAfter !== null ? ` (${signed((100 * (m.objectiveAfter - m.objectiveBefore)) / m.objectiveBefore)})` : '';
    return [
      new Date(m.atMs).toISOString().slice(11, 19),
      m.run === null ? '' : `run ${m.run}`,
      where(m.node, m.guest),
      m.kept ? 'kept' : m.objectiveAfter === null ? 'cut off' : 'undone',
      m.action,
      `${m.objective ?? 'objective'} ${figure(m.objectiveBefore)} → ${figure(m.objectiveAfter)}${change}`,
      `${m.before} → ${m.after}`,
    ];
  });
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return ['', head, ...rows.map((r) => pad(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '), width))];
}

function figure(value: number | null): string {
  return value === null ? '-' : compact(Math.round(value));
}

function signed(pct: number): string {
  const text = Math.abs(pct) >= 10 ? Math.abs(pct).toFixed(0) : Math.abs(pct).toFixed(1);
  return `${pct > 0 ? '+' : pct < 0 ? '-' : ''}${text}%`;
}

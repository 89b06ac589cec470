/**
 * A hill climb's objective when it is a column of the run's own monitors
 * (`vmstat_cs`, `perf_context_switches`, ...), named as the live views and the
 * run summary name them: the mean of the column's samples that fall in a
 * window, per node (or guest) monitor, averaged over them. Read from the
 * store the run is writing, through Mine's parsers, only new lines each time
 * (the live views' readFigures), so a run's raw lines stay the only record.
 */
import { parseMonitors, readFigures, type FigurePoint } from '../live/batch-status.js';
import { metricKind } from '../mine/metric-kind.js';
import type { ResolvedBatchConfig } from '../batch/config/types.js';
import { programOf } from '../mine/program.js';
import type { ExpertStore } from '../store/types.js';

/** What a monitor column needs: the program whose parser gives it. */
export function monitorProgramOf(column: string): 'vmstat' | 'perf' | undefined {
  const m = /^(vmstat|perf)_/.exec(column);
  return m ? (m[1] as 'vmstat' | 'perf') : undefined;
}

/** Lower is better for context switches, misses, waiting (as `compare` reads the name). */
export const monitorDirection = (column: string): 'max' | 'min' => (metricKind(column).lowerIsBetter ? 'min' : 'max');

/** Why a climb on this objective would never measure anything in this batch (no monitor of its program), or undefined. */
export function missingMonitor(objective: string, config: Pick<ResolvedBatchConfig, 'monitors'>): string | undefined {
  const program = monitorProgramOf(objective);
  if (!program) return undefined;
  const runs = (config.monitors ?? []).some((m) => (m.parser ?? programOf(m.command)).startsWith(program));
  return runs ? undefined : `dynamic.objective ${objective} is read from a ${program} monitor, and this batch has none (add one under monitors:, e.g. ${program === 'vmstat' ? 'vmstat -n 1' : 'perf stat -x, -I 1000 -e context-switches -p {guest_pids}'}): the climb will make no move`;
}

export interface MonitorWindow {
  /** The column's mean over [fromMs, toMs], averaged over the run's monitors that gave it; NaN when none did. */
  mean(fromMs: number, toMs: number): Promise<number>;
}

export function monitorWindow(store: ExpertStore, batchId: number, run: number, column: string): MonitorWindow {
  const read = new Map<number, number>();
  // Only the column climbed on (any the vmstat parser gives, not just the live views' five).
  const vmstatFields = column.startsWith('vmstat_') ? [column.slice('vmstat_'.length)] : [];
  let buffered: FigurePoint[] = [];
  return {
    async mean(fromMs, toMs) {
      await parseMonitors(store, batchId);
      const mine = await store.query(`SELECT process_id FROM process WHERE batch_id = $1 AND run = $2 AND role = 'monitor'`, [batchId, run]);
      const monitors = new Set(mine.rows.map((r) => Number(r[0])));
      for (const p of await readFigures(store, batchId, read, vmstatFields)) {
        read.set(p.processId, Math.max(read.get(p.processId) ?? -1, p.seq));
        if (p.name === column && monitors.has(p.processId)) buffered.push(p);
      }
      buffered = buffered.filter((p) => p.atMs >= fromMs);
      const bySeries = new Map<string, number[]>();
      for (const p of buffered) {
        if (p.atMs > toMs) continue;
        const key = `${p.host}\u0000${p.guest ?? ''}`;
        bySeries.set(key, [...(bySeries.get(key) ?? []), p.value]);
      }
      if (bySeries.size === 0) return Number.NaN;
      const means = [...bySeries.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
      return means.reduce((a, b) => a + b, 0) / means.length;
    },
  };
}

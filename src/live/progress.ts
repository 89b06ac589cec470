/**
 * Runs done / left and an ETA, from the workload processes' rows. Pure.
 * A run is done when every workload of it ended; the ETA is the mean
 * duration of the runs done so far times the runs left, minus the time the
 * current run has already taken (runs execute one after another).
 */
export interface RunRow {
  run: number;
  policy: string | null;
  /** Epoch ms, null while pending. */
  startedMs: number | null;
  endedMs: number | null;
  ended: boolean;
  running: boolean;
}

export interface Progress {
  total: number;
  done: number;
  running: number;
  /** Runs not started yet (done + running + left = total). */
  left: number;
  /** Seconds until the last run should end; null with no finished run to go by. */
  etaSeconds: number | null;
  /** The policy of the run in progress (or of the last run that started). */
  policy: string | null;
}

export function progressOf(runs: readonly RunRow[], nowMs: number): Progress {
  const done = runs.filter((r) => r.ended);
  const running = runs.filter((r) => r.running && !r.ended);
  const notDone = runs.length - done.length;
  const durations = done.filter((r) => r.startedMs !== null && r.endedMs !== null).map((r) => r.endedMs! - r.startedMs!);
  let etaSeconds: number | null = null;
  if (notDone === 0) etaSeconds = 0;
  else if (durations.length > 0) {
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    const current = running.reduce((a, r) => a + (r.startedMs === null ? 0 : Math.min(mean, nowMs - r.startedMs)), 0);
    etaSeconds = Math.max(0, (mean * notDone - current) / 1000);
  }
  const started = runs.filter((r) => r.startedMs !== null).sort((a, b) => a.startedMs! - b.startedMs!);
  const policy = running[0]?.policy ?? started.at(-1)?.policy ?? null;
  return { total: runs.length, done: done.length, running: running.length, left: notDone - running.length, etaSeconds, policy };
}

/** `95` → `1m35s`, `3700` → `1h01m`. */
export function formatEta(seconds: number | null): string {
  if (seconds === null) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

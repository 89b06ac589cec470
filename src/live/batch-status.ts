/**
 * What the live views show of one batch, read from any store (the writer's
 * own, or one read through its live socket): progress, the processes with
 * their line counts, and the latest monitor figures per node and guest
 * (vmstat cs, bo, us, sy, wa; perf counters). Monitor figures come from Mine's
 * parsers, parsed incrementally (only new lines) on every call.
 */
import { ReadOnlyStoreError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { progressOf, type Progress, type RunRow } from './progress.js';

export const VMSTAT_FIELDS = ['cs', 'bo', 'us', 'sy', 'wa'] as const;

export interface ProcessState {
  processId: number;
  host: string;
  guest: string | null;
  role: string;
  label: string;
  status: string;
  run: number | null;
  policy: string | null;
  lines: number;
}

export interface MonitorFigure {
  host: string;
  guest: string | null;
  /** The process that printed it, and its policy (the run's). */
  processId: number;
  policy: string | null;
  atMs: number;
  /** `vmstat_cs`, ..., `perf_<event>`. */
  name: string;
  value: number;
}

/** One move of an online optimizer (`dynamic_move`), as the live views show it. */
export interface LiveMove {
  atMs: number;
  run: number | null;
  node: string;
  guest: string;
  action: string;
  /** Settings as `cpus 0, nice 5` (`*`: not pinned). */
  before: string;
  after: string;
  objective: string | null;
  objectiveBefore: number | null;
  objectiveAfter: number | null;
  kept: boolean;
}

/** How many of the latest moves the live views carry. */
export const LIVE_MOVES = 5;

export interface BatchStatus {
  batchId: number;
  name: string;
  status: string;
  createdMs: number;
  progress: Progress;
  runs: RunRow[];
  processes: ProcessState[];
  lines: number;
  latest: MonitorFigure[];
  /** The online optimizer's moves so far (`dynamic_move`): how many, how many kept, and the latest few, newest last. */
  moves: { total: number; kept: number; latest: LiveMove[] };
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/** Parses what the live views need (vmstat, perf-stat), only new lines; quiet when it cannot (read-only store). */
export async function parseMonitors(store: ExpertStore, batchId: number): Promise<void> {
  const { ensureParsed } = await import('../mine/engine.js');
  for (const parser of ['vmstat', 'perf-stat']) {
    try {
      await ensureParsed(store, parser, { batchId });
    } catch (error) {
      // A store opened read-only that must be parsed first: the caller may reopen it writable (withExistingStore).
      if (error instanceof ReadOnlyStoreError) throw error;
    }
  }
}

export async function readRuns(store: ExpertStore, batchId: number): Promise<RunRow[]> {
  const result = await store.query(
    `SELECT run, min(policy) AS policy, epoch_ms(min(started_at)) AS started, epoch_ms(max(ended_at)) AS ended,
       bool_and(status NOT IN ('pending', 'running')) AS ended_all, bool_or(status = 'running') AS running
     FROM process WHERE batch_id = $1 AND role = 'workload' AND run IS NOT NULL GROUP BY run ORDER BY run`,
    [batchId],
  );
  return result.rows.map(([run, policy, started, ended, endedAll, running]) => ({
    run: num(run),
    policy: (policy as string | null) ?? null,
    startedMs: ms(started),
    endedMs: ms(ended),
    ended: Boolean(endedAll),
    running: Boolean(running),
  }));
}

export async function readBatchStatus(store: ExpertStore, batchId: number, nowMs = Date.now()): Promise<BatchStatus> {
  await parseMonitors(store, batchId);
  const batch = await store.query(`SELECT name, status, epoch_ms(created_at) FROM batch WHERE batch_id = $1`, [batchId]);
  const [name, status, created] = batch.rows[0] ?? ['?', 'unknown', 0];
  const runs = await readRuns(store, batchId);
  const processes = await store.query(
    `SELECT p.process_id, p.host, p.vm, p.role, p.label, p.status, p.run, p.policy, coalesce(c.n, 0) AS lines
     FROM process p LEFT JOIN (
       SELECT process_id, count(*) AS n FROM line WHERE process_id IN (SELECT process_id FROM process WHERE batch_id = $1) GROUP BY process_id
     ) c USING (process_id)
     WHERE p.batch_id = $1 ORDER BY p.process_id`,
    [batchId],
  );
  const states = processes.rows.map(([processId, host, guest, role, label, st, run, policy, lines]) => ({
    processId: num(processId),
    host: String(host),
    guest: (guest as string | null) ?? null,
    role: String(role),
    label: String(label),
    status: String(st),
    run: run === null ? null : num(run),
    policy: (policy as string | null) ?? null,
    lines: num(lines),
  }));
  return {
    batchId,
    name: String(name),
    status: String(status),
    createdMs: num(created),
    progress: progressOf(runs, nowMs),
    runs,
    processes: states,
    lines: states.reduce((a, p) => a + p.lines, 0),
    latest: await latestFigures(store, batchId),
    moves: await readMoves(store, batchId),
  };
}

/** Settings JSON (`{"cpus":"0","nice":5}`) as `cpus 0, nice 5`. */
function settings(value: unknown): string {
  try {
    const parsed = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown> | null;
    return parsed && typeof parsed === 'object' ? Object.entries(parsed).map(([k, v]) => `${k} ${String(v)}`).join(', ') : String(value ?? '');
  } catch {
    return String(value);
  }
}

/**
 * The optimizer's moves: the run writes each into `dynamic_move` as it is
 * measured, so a live reader sees them within its next poll. A store from
 * before the table (opened read-only, not migrated) has none.
 */
export async function readMoves(store: ExpertStore, batchId: number, keep = LIVE_MOVES): Promise<BatchStatus['moves']> {
  let counts, latest;
  try {
    counts = await store.query(`SELECT count(*), count(*) FILTER (WHERE kept) FROM dynamic_move WHERE batch_id = $1`, [batchId]);
    latest = await store.query(
      `SELECT epoch_ms("at"), run, node, guest, action, "before"::VARCHAR, "after"::VARCHAR, objective, objective_before, objective_after, kept
       FROM dynamic_move WHERE batch_id = $1 ORDER BY "at" DESC LIMIT ${Math.trunc(keep)}`,
      [batchId],
    );
  } catch (error) {
    if (/dynamic_move does not exist/i.test((error as Error).message)) return { total: 0, kept: 0, latest: [] };
    throw error;
  }
  const [total, kept] = counts.rows[0] ?? [0, 0];
  return {
    total: num(total),
    kept: num(kept),
    latest: latest.rows
      .map(([at, run, node, guest, action, before, after, objective, ob, oa, k]) => ({
        atMs: num(at),
        run: run === null ? null : num(run),
        node: String(node),
        guest: String(guest),
        action: String(action),
        before: settings(before),
        after: settings(after),
        objective: (objective as string | null) ?? null,
        objectiveBefore: ob === null ? null : num(ob),
        objectiveAfter: oa === null ? null : num(oa),
        kept: k === true,
      }))
      .reverse(),
  };
}

/** A monitor figure series: (process, seq) identifies a row, so increments can be read by seq. */
export interface FigurePoint extends MonitorFigure {
  seq: number;
}

async function latestFigures(store: ExpertStore, batchId: number): Promise<MonitorFigure[]> {
  const latest = await queryFigures(store, batchId, new Map(), 'QUALIFY row_number() OVER (PARTITION BY p.host, p.vm, name ORDER BY at_ms DESC, x.seq DESC) = 1');
  return latest.sort((a, b) => a.host.localeCompare(b.host) || (a.guest ?? '').localeCompare(b.guest ?? '') || a.name.localeCompare(b.name));
}

/**
 * Every vmstat/perf figure of the batch above `after` (process_id → last seq read), oldest first. `vmstatFields`:
 * which vmstat columns (default the live views' five; a hill climb on `vmstat_free` asks for `free`).
 */
export async function readFigures(store: ExpertStore, batchId: number, after: ReadonlyMap<number, number>, vmstatFields: readonly string[] = VMSTAT_FIELDS): Promise<FigurePoint[]> {
  return queryFigures(store, batchId, after, 'ORDER BY at_ms, x.process_id, x.seq', vmstatFields);
}

async function queryFigures(store: ExpertStore, batchId: number, after: ReadonlyMap<number, number>, tail: string, vmstatFields: readonly string[] = VMSTAT_FIELDS): Promise<FigurePoint[]> {
  // Column names go into the SQL: only plain identifiers (the parser's own are).
  const fields = vmstatFields.filter((f) => /^[a-z][a-z0-9_]*$/.test(f));
  const cursor =
    after.size === 0
      ? 'SELECT NULL::BIGINT AS pid, NULL::BIGINT AS seq WHERE false'
      : `SELECT * FROM (VALUES ${[...after].map(([p, s]) => `(${Math.trunc(p)}, ${Math.trunc(s)})`).join(', ')}) v(pid, seq)`;
  const id = Math.trunc(batchId);
  const parts = [
    ...(fields.length
      ? [
          `SELECT x.process_id, x.seq, epoch_ms(x.line_ts) AS at_ms, p.host, p.vm, p.policy, f.name, f.value
     FROM parsed.vmstat x JOIN process p ON p.process_id = x.process_id AND p.batch_id = ${id}
     LEFT JOIN (${cursor}) c ON c.pid = x.process_id
     CROSS JOIN LATERAL (VALUES ${fields.map((f) => `('vmstat_${f}', x."${f}"::DOUBLE)`).join(', ')}) f(name, value)
     WHERE NOT x.parse_error AND NOT x.since_boot AND x.seq > coalesce(c.seq, -1)`,
        ]
      : []),
    `SELECT x.process_id, x.seq, epoch_ms(x.line_ts) AS at_ms, p.host, p.vm, p.policy,
       'perf_' || regexp_replace(x.event, '[^A-Za-z0-9]+', '_', 'g') AS name, x.value
     FROM parsed."perf-stat" x JOIN process p ON p.process_id = x.process_id AND p.batch_id = ${id}
     LEFT JOIN (${cursor}) c ON c.pid = x.process_id
     WHERE NOT x.parse_error AND x.value IS NOT NULL AND x.seq > coalesce(c.seq, -1)`,
  ];
  const out: FigurePoint[] = [];
  for (const sql of parts) {
    let result;
    try {
      result = await store.query(`${sql} ${tail}`);
    } catch (error) {
      if (process.env.EXPERT_LIVE_DEBUG) process.stderr.write(`live: ${(error as Error).message}\n`);
      continue; // that parser's table does not exist in this store (nothing of it parsed)
    }
    for (const [processId, seq, at, host, guest, policy, name, value] of result.rows) {
      if (value === null) continue;
      out.push({ processId: num(processId), seq: num(seq), atMs: num(at), host: String(host), guest: (guest as string | null) ?? null, policy: (policy as string | null) ?? null, name: String(name), value: num(value) });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

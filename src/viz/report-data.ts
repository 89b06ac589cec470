/**
 * Gathers what a batch report shows from the store: the batch, its processes,
 * Mine's per-run summary, parse-error counts (Mine's parsers, run on demand),
 * tuning records, a monitor time series and the run windows, and the run
 * values (the run as the unit) and `compare()` of each throughput. Effects
 * only; the page itself is `renderReport` (pure).
 */
import { cellText } from '../cli/format.js';
import { ReadOnlyStoreError } from '../errors.js';
import { defaultRegistry } from '../mine/registry.js';
import { parsedTable } from '../mine/sql.js';
import { ensureParsed } from '../mine/engine.js';
import { compare } from '../mine/compare.js';
import { runValues, runValuesFrom, type RunValues } from '../mine/run-values.js';
import { axisUnit } from './axis-titles.js';
import { comparisonTable } from './comparison-table.js';
import { toNumber } from './numbers.js';
import type { ExpertStore } from '../store/types.js';
import type { Columns } from './columns.js';
import { dynamicMoves, parsedColumns, parseJson, policyNames, queryRows, resolveBatch, runWindows, type BatchRow } from './data.js';
import { movesFigure, movesTable } from './moves.js';
import { rowCount } from './columns.js';
import type { ThreadAffinity } from './heatmap.js';
import type { ParseErrorSummary, ReportComparison, ReportModel, TableData } from './report.js';
import { withoutSinceBoot } from './since-boot.js';
import { monitorColumns, standardCharts, throughputColumns, type StandardChartInput } from './standard-charts.js';

/** Mine's per-run summary for a batch (one row per workload run), as columns. */
export type RunSummaryLoader = (store: ExpertStore, batchId: number) => Promise<Columns>;

export interface ReportOptions {
  runSummary: RunSummaryLoader;
  generator?: string;
}

/** Monitor parsers shown over time in the report, with the columns worth a chart. */
const MONITOR_SERIES: Record<string, string[]> = {
  vmstat: ['cs', 'wa'],
};

export async function loadReportModel(store: ExpertStore, batchRef: number | string | undefined, options: ReportOptions): Promise<ReportModel> {
  const batch = await resolveBatch(store, batchRef);
  const batchId = Number(batch.batch_id);
  const notes: string[] = [];

  const processRows = await queryRows(
    store,
    `SELECT p.process_id, p.run, p.label, p.host, p.vm, p.role, p.policy, p.rep, p.params, p.parser, p.command, p.status, p.exit_code, p.signal,
            p.started_at, p.ended_at, p.error, p.warmup, (SELECT count(*) FROM line l WHERE l.process_id = p.process_id) AS lines
     FROM process p WHERE p.batch_id = $1 ORDER BY p.process_id`,
    [batchId],
  );
  const processes = table(processRows, ['process_id', 'run', 'label', 'host', 'vm', 'role', 'policy', 'rep', 'warmup', 'params', 'status', 'exit_code', 'signal', 'started_at', 'ended_at', 'lines', 'error']);

  // Which parsers this batch needs, as Mine picks them (process.parser, else the program's parser).
  const registry = defaultRegistry();
  const parserRoles = new Map<string, Set<string>>();
  for (const p of processRows) {
    const parser = registry.parserFor({ command: String(p.command ?? ''), parser: (p.parser as string | null) ?? null });
    if (!parser) continue;
    if (!parserRoles.has(parser.name)) parserRoles.set(parser.name, new Set());
    parserRoles.get(parser.name)!.add(String(p.role));
  }
  const parseErrors: ParseErrorSummary[] = [];
  for (const name of [...parserRoles.keys()].sort()) {
    try {
      const report = await ensureParsed(store, name, { batchId });
      const samples =
        report.errors > 0
          ? (
              await queryRows(
                store,
                `SELECT l.text FROM ${parsedTable(name)} x JOIN line l USING (process_id, seq) JOIN process p USING (process_id)
                 WHERE p.batch_id = $1 AND x.parse_error ORDER BY x.process_id, x.seq LIMIT 3`,
                [batchId],
              )
            ).map((r) => String(r.text))
          : [];
      parseErrors.push({ parser: name, processes: report.parsedProcesses + report.cachedProcesses, rows: report.rows, errors: report.errors, samples });
    } catch (error) {
      mustWrite(error);
      notes.push(`parser ${name} failed on this batch: ${(error as Error).message}`);
    }
  }

  let runs: Columns = {};
  try {
    runs = await options.runSummary(store, batchId);
  } catch (error) {
    mustWrite(error);
    notes.push(`the per-run summary could not be built: ${(error as Error).message}`);
  }

  const tuningRows = await queryRows(
    store,
    `SELECT run, policy, host, guest, pid, tid, thread_kind, action, "before", "after", applied_at, verified, restored_at
     FROM tuning WHERE batch_id = $1 ORDER BY tuning_id`,
    [batchId],
  );

  const { throughputs, monitors, comparisons } = await runStatistics(store, batchId, runs, notes);
  const moves = await dynamicMoves(store, batchId);
  const climbing = dynamicPolicyNames(batch.config).filter((p) => tuningRows.some((r) => r.policy === p));
  const affinity = affinityOf(tuningRows, { policies: new Set(climbing), ends: climbEnds(moves) });
  const chartInput: StandardChartInput = { throughputs, monitors, policies: policyNames(batch.config), windows: await runWindows(store, batchId), affinity, ...(climbing.length ? { affinityClimbs: climbing } : {}) };
  for (const [parser, ys] of Object.entries(MONITOR_SERIES)) {
    if (!parserRoles.get(parser)?.has('monitor')) continue;
    try {
      const all = await parsedColumns(store, parser, batchId);
      const columns = monitorRows(all);
      chartInput.monitor = { columns, x: 'line_ts', series: 'host', y: ys.filter((y) => y in columns), source: parser };
      break;
    } catch (error) {
      mustWrite(error);
      notes.push(`monitor series from ${parser} could not be read: ${(error as Error).message}`);
    }
  }

  if (parserRoles.get('pidstat')?.has('monitor')) {
    try {
      chartInput.threadCpu = monitorRows(await parsedColumns(store, 'pidstat', batchId));
    } catch (error) {
      mustWrite(error);
      notes.push(`per-thread CPU from pidstat could not be read: ${(error as Error).message}`);
    }
  }

  return {
    batch: toReportBatch(batch),
    ...(rowCount(moves) > 0 ? { moves: { figure: movesFigure(moves), table: movesTable(moves), objectives: [...new Set(moves.objective!.map(String))], kept: moves.kept!.filter((k) => k === true).length, cutOff: moves.objective_after!.filter((v) => v === null || v === undefined).length } } : {}),
    runs: columnsTable(runs),
    processes,
    policies: policiesOf(batch.config),
    tuning: table(tuningRows, ['run', 'policy', 'host', 'guest', 'pid', 'tid', 'thread_kind', 'action', 'before', 'after', 'applied_at', 'verified', 'restored_at']),
    parseErrors,
    workloads: {
      total: processRows.filter((p) => p.role === 'workload').length,
      failed: processRows.filter((p) => p.role === 'workload' && (p.status !== 'exited' || (p.exit_code !== null && Number(p.exit_code) !== 0))).length,
      warmup: processRows.filter((p) => p.role === 'workload' && p.warmup === true).length,
    },
    comparisons,
    charts: standardCharts(chartInput),
    notes,
    generator: options.generator,
  };
}

/**
 * Run values of every throughput and monitor figure of the run summary (one
 * `runValues` for the facts, the others from the same guests), and
 * `compare()` of each throughput by policy.
 */
async function runStatistics(store: ExpertStore, batchId: number, runs: Columns, notes: string[]): Promise<{ throughputs: RunValues[]; monitors: RunValues[]; comparisons: ReportComparison[] }> {
  const throughputNames = throughputColumns(runs).filter((c) => runs[c]!.some((v) => toNumber(v) !== null));
  const monitorNames = monitorColumns(runs).filter((c) => runs[c]!.some((v) => toNumber(v) !== null));
  if (throughputNames.length === 0) return { throughputs: [], monitors: [], comparisons: [] };
  const first = await runValues(store, [batchId], { metric: throughputNames[0]! });
  const byProcess = new Map((runs.process_id ?? []).map((id, i) => [Number(id), i]));
  const valuesOf = (metric: string): RunValues => {
    const guests = first.guests.map((g) => {
      const row = byProcess.get(g.process_id);
      return { ...g, value: row === undefined ? null : toNumber(runs[metric]![row]) };
    });
    return { ...runValuesFrom(guests, { metric }), columns: first.columns };
  };
  const throughputs = [first, ...throughputNames.slice(1).map(valuesOf)];
  const monitors = monitorNames.map(valuesOf);
  const comparisons: ReportComparison[] = [];
  for (const values of throughputs) {
    if (values.runs.length === 0) continue;
    try {
      const comparison = await compare(store, [batchId], { metric: values.metric });
      comparisons.push({ metric: values.metric, table: comparisonTable(comparison, axisUnit(values.metric) || 'as printed'), method: comparison.method });
    } catch (error) {
      mustWrite(error);
      notes.push(`${values.metric} could not be compared across policies: ${(error as Error).message}`);
    }
  }
  return { throughputs, monitors, comparisons };
}

/**
 * A parse that must write into a store opened read-only is not a note: the
 * caller (the CLI's withExistingStore) reopens the store for writing and
 * builds the report again, so the report shows what a parse finds.
 */
function mustWrite(error: unknown): void {
  if (error instanceof ReadOnlyStoreError) throw error;
}

/** Rows printed by monitors, since-boot averages left out (they are not samples of any run). */
function monitorRows(all: Columns): Columns {
  const keep = (all.role ?? []).map((role) => role === 'monitor');
  return withoutSinceBoot(Object.fromEntries(Object.entries(all).map(([c, v]) => [c, v.filter((_, i) => keep[i])])));
}

function toReportBatch(b: BatchRow) {
  return {
    batchId: Number(b.batch_id),
    name: b.name,
    description: b.description,
    status: b.status,
    createdAt: b.created_at,
    finishedAt: b.finished_at,
    config: b.config,
    provenance: b.provenance,
  };
}

function table(rows: Record<string, unknown>[], columns: string[]): TableData {
  return { columns, rows: rows.map((r) => columns.map((c) => r[c])) };
}

export function columnsTable(columns: Columns): TableData {
  const names = Object.keys(columns);
  const n = Math.max(0, ...names.map((c) => columns[c]!.length));
  return { columns: names, rows: Array.from({ length: n }, (_, i) => names.map((c) => columns[c]![i])) };
}

function policiesOf(config: unknown): { name: string; definition: unknown }[] {
  const policies = (config as { policies?: Record<string, unknown>[] } | null)?.policies;
  if (!Array.isArray(policies)) return [];
  return policies.map((p) => {
    const { name, ...definition } = p ?? {};
    return { name: String(name ?? ''), definition: Object.keys(definition).length ? definition : '(nothing changed)' };
  });
}

/** An online optimizer's policies and where it left each guest (climbEnds), for affinityOf. */
export interface ClimbAffinity {
  policies: ReadonlySet<string>;
  ends: ReadonlyMap<string, string>;
}

const guestKey = (run: unknown, node: unknown, guest: unknown) => `${cellText(run)}\u0000${cellText(node)}\u0000${cellText(guest)}`;

/**
 * Where an online optimizer left each guest of each run (`run, node, guest` → CPU set, `*` for not pinned): the
 * settings of its last kept move, else those it started from. A move still being measured when the run ended
 * (applied, never judged) and every undone one are not where it settled.
 */
export function climbEnds(moves: Columns): Map<string, string> {
  const ends = new Map<string, string>();
  for (let i = 0; i < rowCount(moves); i++) {
    const key = guestKey(moves.run?.[i], moves.node?.[i], moves.guest?.[i]);
    const cpusOf = (v: unknown) => String((parseJson(v) as { cpus?: unknown } | null)?.cpus ?? '*');
    if (!ends.has(key)) ends.set(key, cpusOf(moves.before?.[i]));
    if (moves.kept?.[i] === true) ends.set(key, cpusOf(moves.after?.[i]));
  }
  return ends;
}

/**
 * The last CPU set recorded per (policy, host, guest, thread), from Tune's `after.cpus`. For an online optimizer's
 * policy (`climb`), whose tuning rows are every pin it tried, each run's threads show where it settled instead
 * (climbEnds; a thread it left unpinned shows its own affinity, the `before.cpus` of its first row), labelled
 * with the run.
 */
export function affinityOf(tuningRows: Record<string, unknown>[], climb?: ClimbAffinity): ThreadAffinity[] {
  const latest = new Map<string, ThreadAffinity>();
  const own = new Map<string, string>();
  for (const row of tuningRows) {
    const after = parseJson(row.after) as { cpus?: unknown } | null;
    const where = `${cellText(row.host)}/${cellText(row.guest)} ${cellText(row.thread_kind)} ${cellText(row.tid)}`;
    if (climb && row.policy && climb.policies.has(String(row.policy))) {
      const thread = `${cellText(row.policy)} · run ${cellText(row.run)} · ${where}`;
      const before = parseJson(row.before) as { cpus?: unknown } | null;
      if (!own.has(thread) && typeof before?.cpus === 'string') own.set(thread, before.cpus);
      const end = climb.ends.get(guestKey(row.run, row.host, row.guest)) ?? '*';
      const cpus = end === '*' ? own.get(thread) : end;
      if (cpus !== undefined) latest.set(thread, { thread, cpus });
      continue;
    }
    if (!after || typeof after.cpus !== 'string') continue;
    const thread = `${row.policy ? `${cellText(row.policy)} · ` : ''}${where}`;
    latest.set(thread, { thread, cpus: after.cpus });
  }
  return [...latest.values()];
}

/** Names of the config's policies with `dynamic:` (an online optimizer). */
function dynamicPolicyNames(config: unknown): string[] {
  const policies = (config as { policies?: Array<{ name?: unknown; dynamic?: unknown }> } | null)?.policies;
  return Array.isArray(policies) ? policies.filter((p) => p?.dynamic).map((p) => String(p.name ?? '')) : [];
}

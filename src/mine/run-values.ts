/**
 * The run as the unit of replication. The run summary has one row per
 * workload process (one per guest, or per node when workloads run on nodes);
 * the guests of a run share its node, time window and monitors, so they are
 * not independent replicates. A run's value for a metric is
 * - `total`: the sum over the guests of a node (for throughputs: the node's
 *   total), averaged over the run's nodes when there are several;
 * - `mean`: the mean over its guests (for per-guest figures);
 * and `value` is the one the metric's name calls for (`metricKind`). Guests
 * stay a within-run factor: each has a `tuned` flag (a verified `tuning` row
 * of that run for that guest on that node: the run's policy changed it), and
 * the run's totals and means are also given over its tuned and untuned guests.
 * Warm-up runs (`process.warmup`) and runs in which a workload did not exit 0
 * or lacks the metric are kept apart (`excluded`, with the reason).
 */
import { UserError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { metricKind } from './metric-kind.js';
import { runSummary } from './summary.js';
import type { ParserRegistry } from './registry.js';

export type RunAggregate = 'total' | 'mean';

/** One workload process (a guest in a run) with its figure. */
export interface GuestValue {
  batch_id: number;
  batch: string;
  run: number;
  test: string;
  params: Record<string, unknown>;
  policy: string;
  rep: number;
  host: string;
  guest: string | null;
  process_id: number;
  status: string;
  exit_code: number | null;
  warmup: boolean;
  /** Resumed batches run a run again: only its latest attempt counts. */
  attempt: number;
  tuned: boolean;
  value: number | null;
}

export interface RunValue {
  batch_id: number;
  batch: string;
  run: number;
  test: string;
  params: Record<string, unknown>;
  /** Stable text of `params` (keys in config order), for grouping. */
  params_key: string;
  policy: string;
  rep: number;
  nodes: number;
  guests: number;
  tuned_guests: number;
  /** The aggregate the metric calls for (or the one asked for). */
  value: number;
  aggregate: RunAggregate;
  total: number;
  mean: number;
  /** Over the run's tuned / untuned guests only (NaN when it has none). */
  tuned_total: number;
  tuned_mean: number;
  untuned_total: number;
  untuned_mean: number;
}

export interface ExcludedRun {
  batch_id: number;
  run: number;
  reason: string;
}

export interface RunValues {
  metric: string;
  aggregate: RunAggregate;
  runs: RunValue[];
  guests: GuestValue[];
  excluded: ExcludedRun[];
  /** The run summary's columns (what `metric` may name). */
  columns: string[];
}

export interface RunValuesOptions {
  metric: string;
  /** Default: `total` for throughputs, `mean` otherwise. */
  aggregate?: RunAggregate;
  /** Keep warm-up runs (default: left out). */
  includeWarmup?: boolean;
  registry?: ParserRegistry;
}

/** Summary columns that describe a run rather than measure it. */
export const FACT_COLUMNS = new Set(['batch_id', 'batch', 'run', 'label', 'policy', 'params', 'rep', 'host', 'guest', 'status', 'exit_code', 'started_at', 'ended_at', 'process_id', 'warmup', 'attempt', 'position']);

export async function runValues(store: ExpertStore, batchIds: readonly number[], options: RunValuesOptions): Promise<RunValues> {
  const guests: GuestValue[] = [];
  const columns = new Set<string>();
  for (const batchId of batchIds) {
    const summary = await runSummary(store, { batchId, ...(options.registry ? { registry: options.registry } : {}) });
    summary.columns.forEach((c) => columns.add(c));
    const facts = await processFacts(store, batchId);
    const tests = await testNames(store, batchId);
    const at = (name: string) => summary.columns.indexOf(name);
    const metricAt = at(options.metric);
    for (const row of summary.rows) {
      const processId = Number(row[at('process_id')]);
      const fact = facts.get(processId);
      const value = metricAt < 0 ? null : toFinite(row[metricAt]);
      guests.push({
        batch_id: Number(row[at('batch_id')]),
        batch: String(row[at('batch')]),
        run: Number(row[at('run')]),
        test: testOf(String(row[at('label')] ?? ''), tests),
        params: (parseJson(row[at('params')]) ?? {}) as Record<string, unknown>,
        policy: String(row[at('policy')] ?? ''),
        rep: Number(row[at('rep')]),
        host: String(row[at('host')] ?? ''),
        guest: (row[at('guest')] as string | null) ?? null,
        process_id: processId,
        status: String(row[at('status')] ?? ''),
        exit_code: fact?.exitCode ?? null,
        warmup: fact?.warmup ?? false,
        attempt: fact?.attempt ?? 1,
        tuned: fact?.tuned ?? false,
        value,
      });
    }
  }
  if (!columns.has(options.metric)) {
    const metrics = [...columns].filter((c) => !FACT_COLUMNS.has(c));
    throw new UserError(`unknown metric '${options.metric}': the run summary of batch ${batchIds.join(', ')} has ${metrics.length ? metrics.join(', ') : 'no metric columns'}`);
  }
  return { ...runValuesFrom(guests, options), columns: [...columns] };
}

/** The pure part: guests' values → one value per run. */
export function runValuesFrom(guests: readonly GuestValue[], options: Pick<RunValuesOptions, 'metric' | 'aggregate' | 'includeWarmup'>): Omit<RunValues, 'columns'> {
  const aggregate = options.aggregate ?? (metricKind(options.metric).rate ? 'total' : 'mean');
  const byRun = new Map<string, GuestValue[]>();
  for (const g of guests) {
    const key = `${g.batch_id}:${g.run}`;
    if (!byRun.has(key)) byRun.set(key, []);
    byRun.get(key)!.push(g);
  }
  const runs: RunValue[] = [];
  const excluded: ExcludedRun[] = [];
  for (const attempts of byRun.values()) {
    const latest = Math.max(...attempts.map((g) => g.attempt));
    const members = attempts.filter((g) => g.attempt === latest);
    const first = members[0]!;
    const exclude = (reason: string) => excluded.push({ batch_id: first.batch_id, run: first.run, reason });
    if (!options.includeWarmup && members.some((g) => g.warmup)) {
      exclude('warm-up run');
      continue;
    }
    const failed = members.find((g) => g.status !== 'exited' || (g.exit_code !== null && g.exit_code !== 0));
    if (failed) {
      exclude(`workload ${failed.process_id}${failed.guest ? ` (${failed.guest})` : ''} ${failed.status}${failed.exit_code ? ` with exit code ${failed.exit_code}` : ''}`);
      continue;
    }
    const missing = members.find((g) => g.value === null);
    if (missing) {
      exclude(`no ${options.metric} for workload ${missing.process_id}${missing.guest ? ` (${missing.guest})` : ''}`);
      continue;
    }
    const all = nodeFigures(members);
    const tuned = nodeFigures(members.filter((g) => g.tuned));
    const untuned = nodeFigures(members.filter((g) => !g.tuned));
    runs.push({
      batch_id: first.batch_id,
      batch: first.batch,
      run: first.run,
      test: first.test,
      params: first.params,
      params_key: JSON.stringify(first.params),
      policy: first.policy,
      rep: first.rep,
      nodes: new Set(members.map((g) => g.host)).size,
      guests: members.length,
      tuned_guests: members.filter((g) => g.tuned).length,
      value: aggregate === 'total' ? all.total : all.mean,
      aggregate,
      total: all.total,
      mean: all.mean,
      tuned_total: tuned.total,
      tuned_mean: tuned.mean,
      untuned_total: untuned.total,
      untuned_mean: untuned.mean,
    });
  }
  runs.sort((a, b) => a.batch_id - b.batch_id || a.run - b.run);
  return { metric: options.metric, aggregate, runs, guests: [...guests], excluded };
}

/** Node total (sum over the node's guests) averaged over nodes, and the mean over guests. */
function nodeFigures(members: readonly GuestValue[]): { total: number; mean: number } {
  if (members.length === 0) return { total: Number.NaN, mean: Number.NaN };
  const byNode = new Map<string, number>();
  let sum = 0;
  for (const g of members) {
    byNode.set(g.host, (byNode.get(g.host) ?? 0) + g.value!);
    sum += g.value!;
  }
  const totals = [...byNode.values()];
  return { total: totals.reduce((a, b) => a + b, 0) / totals.length, mean: sum / members.length };
}

interface ProcessFact {
  exitCode: number | null;
  warmup: boolean;
  attempt: number;
  tuned: boolean;
}

async function processFacts(store: ExpertStore, batchId: number): Promise<Map<number, ProcessFact>> {
  // Stores made before run order and resume have neither column.
  const present = new Set((await store.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'process'`)).rows.map((r) => String(r[0])));
  const result = await store.query(
    `SELECT p.process_id, p.exit_code, ${present.has('warmup') ? 'coalesce(p.warmup, false)' : 'false'} AS warmup,
       ${present.has('attempt') ? 'coalesce(p.attempt, 1)' : '1'} AS attempt,
       EXISTS (SELECT 1 FROM tuning t WHERE t.batch_id = p.batch_id AND t.run IS NOT DISTINCT FROM p.run
               AND t.host = p.host AND t.guest = p.vm AND t.verified) AS tuned
     FROM process p WHERE p.batch_id = $1 AND p.role = 'workload'`,
    [batchId],
  );
  return new Map(result.rows.map((r) => [Number(r[0]), { exitCode: r[1] === null ? null : Number(r[1]), warmup: r[2] === true, attempt: Number(r[3]), tuned: r[4] === true }]));
}

/** The batch config's test names, longest first (a label starts with its test's name). */
async function testNames(store: ExpertStore, batchId: number): Promise<string[]> {
  const result = await store.query(`SELECT config FROM batch WHERE batch_id = $1`, [batchId]);
  const config = parseJson(result.rows[0]?.[0]) as { tests?: { name?: unknown }[] } | null;
  const names = config && Array.isArray(config.tests) ? config.tests.map((t) => String(t?.name ?? '')).filter(Boolean) : [];
  return names.sort((a, b) => b.length - a.length);
}

/** `dd-write[size=1m] fast #2 @local` → `dd-write`. */
export function testOf(label: string, tests: readonly string[]): string {
  const known = tests.find((t) => label === t || label.startsWith(`${t}[`) || label.startsWith(`${t} `));
  if (known) return known;
  return /^[^[\s]*/.exec(label)![0];
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function toFinite(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/**
 * Runs a policy search: every trial is a real batch in the store (the base
 * batch with ONE candidate policy and N repetitions, run by runBatch with
 * Tune's hook), the objective query turns the trial into measurements, and
 * the strategy decides what to try next within the budget.
 */
import type { PolicySpec, ResolvedBatchConfig } from '../../batch/config/types.js';
import type { ExecutorPool, RunHook } from '../../batch/hooks.js';
import { expandPlan } from '../../batch/plan/index.js';
import { runBatch } from '../../batch/runner/index.js';
import { UserError } from '../../errors.js';
import { ensureParsed } from '../../mine/index.js';
import type { ExpertStore } from '../../store/types.js';
import { createTuneHook } from '../hook.js';
import { candidatesOf, type SearchSpec } from './spec.js';
import { summarize, type Summary } from './stats.js';
import { exhaustive, rank, successiveHalving, type Strategy } from './strategy.js';

export interface Trial {
  candidate: string;
  batchId: number;
  repetitions: number;
  values: number[];
  ok: boolean;
}

export interface CandidateResult {
  name: string;
  policy: PolicySpec;
  summary: Summary;
  batches: number[];
}

export interface SearchResult {
  direction: 'min' | 'max';
  strategy: 'exhaustive' | 'halving';
  /** Best first (only candidates that were measured). */
  ranking: CandidateResult[];
  best: CandidateResult | undefined;
  trials: Trial[];
  elapsedMs: number;
  /** Why the search ended. */
  ended: 'done' | 'trial budget' | 'time budget' | 'interrupted';
}

export interface SearchOptions {
  store: ExpertStore;
  /** The resolved base batch (its policies are ignored). */
  base: ResolvedBatchConfig;
  executors?: ExecutorPool;
  /** Extra hooks besides Tune's (tests). */
  hooks?: RunHook[];
  journalPath?: string;
  signal?: AbortSignal;
  /** Milliseconds for `budget.time` (parsed by the caller). */
  timeBudgetMs?: number;
  onTrial?(trial: Trial): void;
  /** The runner's warnings (e.g. a hook that failed), as they happen. */
  onWarning?(message: string): void;
}

export async function objectiveValues(store: ExpertStore, sql: string, batchId: number): Promise<number[]> {
  let result;
  try {
    result = await store.query(sql.split('{batch_id}').join(String(Math.trunc(batchId))));
  } catch (error) {
    throw new UserError(`objective.sql failed on batch ${batchId}: ${(error as Error).message}`);
  }
  const column = Math.max(0, result.columns.indexOf('value'));
  return result.rows.map((row) => Number(row[column])).filter((v) => Number.isFinite(v));
}

export async function runSearch(spec: SearchSpec, options: SearchOptions): Promise<SearchResult> {
  const started = Date.now();
  const candidates = candidatesOf(spec);
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const direction = spec.objective.direction;
  const strategyName = spec.strategy ?? 'exhaustive';
  const repetitions = spec.repetitions ?? 3;
  const strategy: Strategy = strategyName === 'halving' ? successiveHalving(candidates.map((c) => c.name), repetitions, direction) : exhaustive(candidates.map((c) => c.name), repetitions);
  const maxTrials = spec.budget?.trials ?? Infinity;
  const observations = new Map<string, number[]>();
  const batches = new Map<string, number[]>();
  const trials: Trial[] = [];
  const tune = createTuneHook(options.journalPath ? { journalPath: options.journalPath } : {});
  let ended: SearchResult['ended'] = 'done';

  outer: for (let next = strategy.next(observations); next; next = strategy.next(observations)) {
    const round = next;
    for (const name of round.candidates) {
      if (options.signal?.aborted) {
        ended = 'interrupted';
        break outer;
      }
      if (trials.length >= maxTrials) {
        ended = 'trial budget';
        break outer;
      }
      if (options.timeBudgetMs !== undefined && Date.now() - started >= options.timeBudgetMs) {
        ended = 'time budget';
        break outer;
      }
      const policy = byName.get(name)!;
      const config: ResolvedBatchConfig = {
        ...options.base,
        description: `tune search${spec.name ? ` ${spec.name}` : ''}: policy ${name}, ${round.repetitions} repetitions`,
        policies: [policy],
        tests: options.base.tests.map((t) => ({ ...t, repeat: round.repetitions })),
      };
      const outcome = await runBatch(expandPlan(config), { store: options.store, executors: options.executors, hooks: [tune, ...(options.hooks ?? [])], signal: options.signal, onEvent: (e) => e.type === 'warning' && options.onWarning?.(e.message) });
      for (const parser of spec.objective.parse ?? []) await ensureParsed(options.store, parser, { batchId: outcome.batchId });
      const values = await objectiveValues(options.store, spec.objective.sql, outcome.batchId);
      observations.set(name, [...(observations.get(name) ?? []), ...values]);
      batches.set(name, [...(batches.get(name) ?? []), outcome.batchId]);
      const trial = { candidate: name, batchId: outcome.batchId, repetitions: round.repetitions, values, ok: outcome.ok };
      trials.push(trial);
      options.onTrial?.(trial);
    }
  }
  const measured = [...observations.keys()];
  const ranking = rank(observations, measured, direction).map((name) => ({ name, policy: byName.get(name)!, summary: summarize(observations.get(name)!), batches: batches.get(name)! }));
  return { direction, strategy: strategyName, ranking, best: ranking.find((r) => Number.isFinite(r.summary.mean)), trials, elapsedMs: Date.now() - started, ended };
}

/**
 * Runs a policy search. Each round of the strategy is ONE real batch: the
 * base batch with the round's candidates as its policies, run interleaved
 * (every repetition runs each candidate once, in rotating order, so drift
 * over time is shared by all candidates instead of read as a difference
 * between them), through runBatch with Tune's hook (and, for placements, the
 * hook that applies their parts). The objective turns the batch into values
 * per candidate; the strategy decides the next round; the search ends when
 * the strategy does or at the budget (trials, or time: the round in progress
 * is then cut off and its finished runs count). The result ranks candidates
 * by median with its interval and says how sure it is (optimize/estimate.ts).
 */
import type { PolicySpec, ResolvedBatchConfig } from '../../batch/config/types.js';
import type { ExecutorPool, RunHook } from '../../batch/hooks.js';
import { expandPlan } from '../../batch/plan/index.js';
import { runBatch } from '../../batch/runner/index.js';
import type { ExpertStore } from '../../store/types.js';
import { createTuneHook } from '../hook.js';
import { certainty, ranked, type Certainty } from '../optimize/estimate.js';
import type { Direction } from '../optimize/types.js';
import { searchCandidates, type SearchCandidate } from './candidates.js';
import { sideByCandidate, valuesByCandidate } from './objective.js';
import { placementHook } from './placement-hook.js';
import { preflight } from './preflight.js';
import type { SearchSpec, StrategyName } from './spec.js';
import { confirmationOf, makeStrategy, strategyName } from './strategy.js';

export { objectiveValues } from './objective.js';

/** One candidate measured in one round. */
export interface Trial {
  candidate: string;
  round: number;
  batchId: number;
  /** Runs asked for. */
  repetitions: number;
  /** Values measured (runs that failed or were cut off give none). */
  values: number[];
  /** Every workload of this candidate's runs in the round ran and exited 0 (other candidates' runs do not count). */
  ok: boolean;
}

export interface CandidateResult {
  name: string;
  policy: PolicySpec;
  /** A placement's policies (empty for a listed candidate, which is `policy`). */
  parts: PolicySpec[];
  n: number;
  median: number;
  ciLow: number | null;
  ciHigh: number | null;
  /** The coverage the order-statistic interval reaches (below 95% for fewer than 6 runs). */
  ciLevel: number | null;
  batches: number[];
}

export interface SearchResult {
  direction: Direction;
  strategy: StrategyName;
  /** Candidates in the space or list. */
  spaceSize: number;
  /** Best first (only candidates that were measured). */
  ranking: CandidateResult[];
  best: CandidateResult | undefined;
  trials: Trial[];
  /** Distinct candidates measured (confirmation rounds measure some again: trials can be more). */
  candidatesTried: number;
  /** Runs made (the search's cost). */
  runs: number;
  rounds: number;
  certainty: Certainty;
  elapsedMs: number;
  /** Why the search ended. */
  ended: 'done' | 'trial budget' | 'time budget' | 'interrupted';
  /** The monitor columns the model used as side information (empty: none). */
  sideColumns: string[];
  /**
   * For random and model with confirmation rounds: how many the spec asks for, how many ran (one the budget cut
   * short counts), and `cutOff` when a budget ended the search before they were done (none ran: it was spent exploring).
   */
  confirmation?: { top: number; rounds: number; ran: number; cutOff: boolean };
}

export interface SearchOptions {
  store: ExpertStore;
  /** The resolved base batch (its policies are replaced by each round's candidates). */
  base: ResolvedBatchConfig;
  executors?: ExecutorPool;
  /** Extra hooks besides Tune's (tests). */
  hooks?: RunHook[];
  journalPath?: string;
  signal?: AbortSignal;
  /** Milliseconds for `budget.time` (parsed by the caller). */
  timeBudgetMs?: number;
  onTrial?(trial: Trial): void;
  /** Before each round's batch starts. */
  onRound?(round: { index: number; candidates: string[]; repetitions: number }): void;
  /** Once a round's batch has ended (finished or cut off), before its values are read. */
  onRoundEnd?(round: { index: number; batchId: number }): void;
  /** The runner's warnings (e.g. a hook that failed), as they happen. */
  onWarning?(message: string): void;
}

export async function runSearch(spec: SearchSpec, options: SearchOptions): Promise<SearchResult> {
  const started = Date.now();
  const { candidates } = searchCandidates(spec);
  // Mistakes the spec shows before anything runs (a metric the batch cannot give, a guest or CPU the nodes lack) cost no round.
  await preflight(spec, options.base, options.executors);
  const strategy = makeStrategy(spec, candidates);
  const direction = spec.objective.direction;
  const maxTrials = spec.budget?.trials ?? Infinity;
  const history = new Map<number, number[]>();
  // Side information only the model reads; its columns are fixed by the spec or by the first round.
  const side = strategyName(spec) === 'model' && spec.side?.length !== 0 ? new Map<number, number[][]>() : undefined;
  let sideColumns = spec.side;
  const batches = new Map<number, number[]>();
  const trials: Trial[] = [];
  const tune = createTuneHook(options.journalPath ? { journalPath: options.journalPath } : {});
  const parts = new Map(candidates.filter((c) => c.parts.length).map((c) => [c.name, c.parts]));
  const hooks = [tune, ...(parts.size ? [placementHook(parts, options.journalPath)] : []), ...(options.hooks ?? [])];
  let ended: SearchResult['ended'] = 'done';
  let rounds = 0;
  const confirmation = confirmationOf(spec);
  let confirmRounds = 0;
  let cutOff = false;

  for (let round = strategy.next(history, side); round; round = strategy.next(history, side)) {
    if (options.signal?.aborted) {
      ended = 'interrupted';
      break;
    }
    const confirming = strategy.confirming();
    const left = maxTrials - trials.length;
    if (left <= 0) {
      ended = 'trial budget';
      cutOff = true;
      break;
    }
    const msLeft = options.timeBudgetMs === undefined ? Infinity : options.timeBudgetMs - (Date.now() - started);
    if (msLeft <= 0) {
      ended = 'time budget';
      cutOff = true;
      break;
    }
    if (confirming) confirmRounds++;
    const picked = round.candidates.slice(0, left);
    const repetitions = round.repetitions;
    const chosen = picked.map((i) => candidates[i]!);
    rounds++;
    options.onRound?.({ index: rounds, candidates: chosen.map((c) => c.name), repetitions: round.repetitions });
    const cut = await runRound(spec, options, hooks, chosen, round.repetitions, rounds, msLeft);
    options.onRoundEnd?.({ index: rounds, batchId: cut.batchId });
    const byName = await valuesByCandidate(options.store, spec.objective, cut.batchId, chosen.map((c) => c.name));
    const failed = await failedPolicies(options.store, cut.batchId);
    if (side) {
      const measured = await sideByCandidate(options.store, cut.batchId, chosen.map((c) => c.name), sideColumns);
      sideColumns = measured.columns;
      picked.forEach((index, k) => {
        const perMetric = side.get(index) ?? sideColumns!.map(() => []);
        measured.values.get(chosen[k]!.name)!.forEach((v, m) => perMetric[m]!.push(...v));
        side.set(index, perMetric);
      });
    }
    picked.forEach((index, k) => {
      const c = chosen[k]!;
      const values = byName.get(c.name) ?? [];
      history.set(index, [...(history.get(index) ?? []), ...values]);
      batches.set(index, [...(batches.get(index) ?? []), cut.batchId]);
      const trial: Trial = { candidate: c.name, round: rounds, batchId: cut.batchId, repetitions, values, ok: !failed.has(c.name) };
      trials.push(trial);
      options.onTrial?.(trial);
    });
    if (cut.interrupted) {
      ended = cut.interrupted;
      if (ended === 'time budget') cutOff = true;
      break;
    }
    if (round.candidates.length > left) {
      ended = 'trial budget';
      cutOff = true;
      break;
    }
  }
  const names = (i: number) => candidates[i]!.name;
  const ranking = ranked(history, direction).map((e) => resultOf(candidates[e.candidate]!, e, batches.get(e.candidate)!));
  return {
    direction,
    strategy: strategyName(spec),
    spaceSize: candidates.length,
    ranking,
    best: ranking[0],
    trials,
    candidatesTried: new Set(trials.map((t) => t.candidate)).size,
    runs: trials.reduce((n, t) => n + t.values.length, 0),
    rounds,
    certainty: certainty(history, direction, names),
    elapsedMs: Date.now() - started,
    ended,
    sideColumns: side ? (sideColumns ?? []) : [],
    ...(confirmation ? { confirmation: { ...confirmation, ran: confirmRounds, cutOff } } : {}),
  };
}

function resultOf(c: SearchCandidate, e: ReturnType<typeof ranked>[number], batchIds: number[]): CandidateResult {
  return { name: c.name, policy: c.policy, parts: c.parts, n: e.n, median: e.median, ciLow: e.ci?.low ?? null, ciHigh: e.ci?.high ?? null, ciLevel: e.ci?.level ?? null, batches: [...new Set(batchIds)] };
}

/** The policies (candidates) of a batch with a workload that failed, was cut off or never started. */
async function failedPolicies(store: ExpertStore, batchId: number): Promise<Set<string>> {
  const result = await store.query(`SELECT DISTINCT policy FROM process WHERE batch_id = $1 AND role = 'workload' AND NOT (status = 'exited' AND coalesce(exit_code, 0) = 0)`, [batchId]);
  return new Set(result.rows.map((r) => String(r[0])));
}

/** One round as one interleaved batch; a time budget that runs out aborts it (its tuning is restored by the runner as on any interrupt). */
async function runRound(spec: SearchSpec, options: SearchOptions, hooks: RunHook[], chosen: SearchCandidate[], repetitions: number, index: number, msLeft: number): Promise<{ batchId: number; interrupted?: 'time budget' | 'interrupted' }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = Number.isFinite(msLeft) ? setTimeout(() => ((timedOut = true), controller.abort()), msLeft) : undefined;
  try {
    const config: ResolvedBatchConfig = {
      ...options.base,
      description: `tune search${spec.name ? ` ${spec.name}` : ''}: round ${index}, ${chosen.length} candidate${chosen.length === 1 ? '' : 's'} × ${repetitions} run${repetitions === 1 ? '' : 's'}, interleaved`,
      policies: chosen.map((c) => c.policy),
      tests: options.base.tests.map((t) => ({ ...t, repeat: repetitions })),
      order: options.base.order ?? 'interleaved',
    };
    const outcome = await runBatch(expandPlan(config), { store: options.store, executors: options.executors, hooks, signal: controller.signal, onEvent: (e) => e.type === 'warning' && options.onWarning?.(e.message) });
    const interrupted = options.signal?.aborted ? 'interrupted' : timedOut ? 'time budget' : undefined;
    return { batchId: outcome.batchId, ...(interrupted ? { interrupted } : {}) };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

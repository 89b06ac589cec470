/**
 * Adaptive repetitions (`repeat: {min, max, until: {metric, ci}}`), pure:
 * the precision a cell has reached, and the runs of the next round.
 *
 * Precision is the half-width of a distribution-free 95% confidence interval
 * for the median of the cell's run values (order statistics: the interval
 * [x(k), x(n+1-k)] with the largest k whose binomial tail P(B ≤ k-1),
 * B ~ Binomial(n, 1/2), is at most 2.5%), relative to the median: a cell is
 * precise enough when (x(n+1-k) - x(k)) / 2 ≤ ci% × |median|. Such an
 * interval exists from n = 6 runs on, so fewer runs always ask for more.
 */
import type { PlannedRun, ResolvedBatchConfig, ResolvedOrder } from '../config/types.js';
import { buildRuns, cellKey, planCells, type RunSlot } from './expand.js';
import { label } from './matrix.js';

/** `5%` or 5 → 5; anything that is not a percentage in (0, 100) throws. */
export function targetPercent(ci: string | number): number {
  const text = String(ci).trim();
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*%?$/.exec(text);
  const value = m ? Number(m[1]) : NaN;
  if (!(value > 0 && value < 100)) throw new Error(`expected a percentage between 0 and 100 like 5%, got '${ci}'`);
  return value;
}

export interface MedianInterval {
  n: number;
  median: number;
  low: number;
  high: number;
  /** The interval's exact coverage (≥ the level asked for). */
  coverage: number;
}

/** Distribution-free CI for the median from order statistics; undefined when n is too small for `level`. */
export function medianInterval(values: readonly number[], level = 0.95): MedianInterval | undefined {
  const x = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = x.length;
  if (n === 0) return undefined;
  const alpha = 1 - level;
  // cdf[j] = P(B ≤ j) for B ~ Binomial(n, 1/2), summed exactly from log-free recurrences.
  let pmf = Math.pow(0.5, n);
  let cdf = 0;
  let k = 0;
  for (let j = 0; j < n; j++) {
    cdf += pmf;
    if (cdf > alpha / 2 + 1e-12) break;
    k = j + 1; // P(B ≤ k-1) ≤ alpha/2
    pmf = (pmf * (n - j)) / (j + 1);
  }
  if (k < 1) return undefined;
  let tail = 0;
  pmf = Math.pow(0.5, n);
  for (let j = 0; j < k; j++) {
    tail += pmf;
    pmf = (pmf * (n - j)) / (j + 1);
  }
  const median = n % 2 ? x[(n - 1) / 2]! : (x[n / 2 - 1]! + x[n / 2]!) / 2;
  return { n, median, low: x[k - 1]!, high: x[n - k]!, coverage: 1 - 2 * tail };
}

export interface PrecisionVerdict {
  n: number;
  /** Half-width as a percentage of |median|; undefined without an interval (n too small) or with median 0. */
  halfWidthPct?: number;
  precise: boolean;
}

export function precision(values: readonly number[], targetPct: number): PrecisionVerdict {
  const ci = medianInterval(values);
  const n = values.filter((v) => Number.isFinite(v)).length;
  if (!ci || ci.median === 0) return { n, precise: false };
  const halfWidthPct = ((ci.high - ci.low) / 2 / Math.abs(ci.median)) * 100;
  return { n, halfWidthPct, precise: halfWidthPct <= targetPct };
}

/** One more measured run of each named cell (by Cell.key), as a new round after `runsSoFar`. */
export function nextRound(config: ResolvedBatchConfig, order: ResolvedOrder, runsSoFar: readonly PlannedRun[], keys: ReadonlySet<string>): PlannedRun[] {
  const round = Math.max(0, ...runsSoFar.map((r) => r.round)) + 1;
  let index = Math.max(0, ...runsSoFar.map((r) => r.index));
  const reps = new Map<string, number>();
  for (const run of runsSoFar) {
    if (run.warmup) continue;
    const key = cellKey(run.test, run.params, run.policy);
    reps.set(key, Math.max(reps.get(key) ?? 0, run.rep));
  }
  const slots: RunSlot[] = planCells(config)
    .filter((cell) => keys.has(cell.key))
    .map((cell) => ({ cell, warmup: false, rep: (reps.get(cell.key) ?? 0) + 1, round, index: ++index, block: `${cell.test.name}${label(cell.params)}` }));
  return buildRuns(config, order, slots, Math.max(0, ...runsSoFar.map((r) => r.position)) + 1);
}

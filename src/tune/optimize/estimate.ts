/**
 * Per-candidate estimates with their intervals (the median and its
 * order-statistic CI, as `compare` gives them), the ranking, whether the best
 * is separated from the rest beyond the intervals, and how sure the result
 * is: the best against the runner-up by compare's statistics (delta% of the
 * medians with a seeded bootstrap CI, two-sided Mann–Whitney U).
 */
import { medianEstimate } from '../../stats/median.js';
import { mannWhitneyU } from '../../stats/mann-whitney.js';
import { relativeChange } from '../../stats/effect-size.js';
import { MIN_N, type Interval } from '../../stats/sample.js';
import { signOf, type Direction, type History } from './types.js';

export interface CandidateEstimate {
  candidate: number;
  n: number;
  median: number;
  ci: Interval | null;
}

export function estimates(history: History): CandidateEstimate[] {
  const out: CandidateEstimate[] = [];
  for (const [candidate, values] of history) {
    if (values.length === 0) continue;
    const e = medianEstimate(values);
    if (!Number.isFinite(e.value)) continue;
    out.push({ candidate, n: e.n, median: e.value, ci: e.ci });
  }
  return out;
}

/** Best first; ties keep the candidate with more runs first, then the lower index. */
export function ranked(history: History, direction: Direction): CandidateEstimate[] {
  const sign = signOf(direction);
  return estimates(history).sort((a, b) => sign * (b.median - a.median) || b.n - a.n || a.candidate - b.candidate);
}

/**
 * The best's interval lies wholly on the better side of every other
 * measured candidate's interval (a candidate without an interval, i.e. with
 * too few runs, is never separated from).
 */
export function separated(ranking: readonly CandidateEstimate[], direction: Direction): boolean {
  const [best, ...rest] = ranking;
  if (!best?.ci || rest.length === 0) return false;
  return rest.every((r) => r.ci !== null && (direction === 'max' ? best.ci!.low > r.ci.high : best.ci!.high < r.ci.low));
}

export interface Certainty {
  /** The best's interval clears every other measured candidate's. */
  separated: boolean;
  runnerUp: number | null;
  /** The runner-up's median relative to the best's, percent (negative: worse when higher is better), with its CI. */
  deltaPct: number | null;
  deltaCi: Interval | null;
  /** Two-sided Mann–Whitney U, best vs runner-up. */
  pValue: number | null;
  /** One sentence for people. */
  statement: string;
}

export function certainty(history: History, direction: Direction, names: (candidate: number) => string, seed = 12345): Certainty {
  const ranking = ranked(history, direction);
  const best = ranking[0];
  const second = ranking[1];
  const isSeparated = separated(ranking, direction);
  if (!best) return { separated: false, runnerUp: null, deltaPct: null, deltaCi: null, pValue: null, statement: 'nothing was measured' };
  if (!second) return { separated: false, runnerUp: null, deltaPct: null, deltaCi: null, pValue: null, statement: `only ${names(best.candidate)} was measured: nothing to compare it with` };
  const bestValues = history.get(best.candidate)!;
  const secondValues = history.get(second.candidate)!;
  const change = relativeChange(secondValues, bestValues, { location: 'median', method: 'percentile', resamples: 2000, seed, level: 0.95 });
  const p = mannWhitneyU(bestValues, secondValues).p;
  const deltaPct = Number.isFinite(change.value) ? change.value : null;
  const pValue = Number.isFinite(p) ? p : null;
  const fmt = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
  // The bootstrap gives no interval below MIN_N runs a side: say so rather than print a bare delta%.
  const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  const noInterval = best.n === second.n ? `${runs(best.n)} each` : `${runs(best.n)} of the best, ${runs(second.n)} of the runner-up`;
  const interval = change.ci ? `95% CI ${fmt(change.ci.low)} … ${fmt(change.ci.high)}` : `no interval: ${Math.min(best.n, second.n) < MIN_N ? `${noInterval}, ${MIN_N} each give one` : (change.note ?? 'the bootstrap gave none')}`;
  const vs = `runner-up ${names(second.candidate)} ${deltaPct === null ? '?' : fmt(deltaPct)} (${interval})${pValue === null ? '' : `, p = ${pValue.toPrecision(2)}`}`;
  const statement = isSeparated
    ? `sure: the best's 95% interval clears every other candidate's; ${vs}`
    : pValue !== null && pValue < 0.05
      ? `fairly sure: better than the runner-up (p < 0.05) but its interval overlaps some candidate's; ${vs}`
      : `not sure: the best is not told apart from the runner-up by the runs made (${best.n} vs ${second.n}); ${vs}`;
  return { separated: isSeparated, runnerUp: second.candidate, deltaPct, deltaCi: change.ci, pValue, statement };
}

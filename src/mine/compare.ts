/**
 * `compare()`: benchstat-style comparison of groups of runs (policies, values
 * of one parameter, or two batches) in like cells, with the run as the unit
 * (`runValues`). A cell is a test and one parameter combination (and, when the
 * groups are not policies, one policy; with two batches not compared with each
 * other, one batch): cells are never pooled. Per group: n runs, the median with
 * its order-statistic CI, the mean (harmonic for throughputs); against the
 * baseline group: delta% of the medians with a seeded bootstrap CI and a
 * two-sided Mann–Whitney U p-value (or a permutation test), Holm-corrected over
 * the groups compared with the baseline in the cell.
 */
import { UserError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { resolveBatch } from '../viz/data.js';
import { harmonicMean, mean } from '../stats/means.js';
import { medianEstimate } from '../stats/median.js';
import { mannWhitneyU } from '../stats/mann-whitney.js';
import { permutationTest } from '../stats/permutation.js';
import { holm } from '../stats/holm.js';
import { relativeChange } from '../stats/effect-size.js';
import { DEFAULT_RESAMPLES, DEFAULT_SEED, type BootstrapMethod } from '../stats/bootstrap.js';
import { MIN_N, N_TOO_SMALL } from '../stats/sample.js';
import { metricKind } from './metric-kind.js';
import { runValues, type RunAggregate, type RunValue, type ExcludedRun } from './run-values.js';
import type { ParserRegistry } from './registry.js';

export type CompareBy = 'policy' | 'batch' | `param:${string}`;
export type CompareTest = 'mann-whitney' | 'permutation';

export interface CompareOptions {
  /** The summary column to compare (e.g. `dd_rate_bps`, `iozone_write_kbps`). */
  metric: string;
  /** Default: `policy` with one batch, `batch` with two. */
  by?: CompareBy;
  /** The group the others are compared with (default: `baseline` if a group has that name, else the first). */
  baseline?: string;
  /** Percent: a cell is a regression when significantly worse by more than this. */
  threshold?: number;
  /** Default from the metric's name: `total` for throughputs, `mean` otherwise. */
  aggregate?: RunAggregate;
  /** Default from the metric's name (latency, *_us, *_ms, seconds, cs, ... are lower-is-better). */
  lowerIsBetter?: boolean;
  test?: CompareTest;
  /** Significance level of the corrected p-values (0.05); intervals are at 1 − alpha. */
  alpha?: number;
  bootstrap?: BootstrapMethod;
  resamples?: number;
  seed?: number;
  includeWarmup?: boolean;
  registry?: ParserRegistry;
}

export interface CompareRow {
  test: string;
  params: Record<string, unknown>;
  /** The policy of the cell when groups are not policies. */
  policy: string | null;
  /** The batch of the cell when two batches are compared by policy or parameter. */
  batch: string | null;
  group: string;
  baseline: boolean;
  n: number;
  median: number;
  ci_low: number | null;
  ci_high: number | null;
  /** The coverage the median's order-statistic interval has (small n cannot reach 95%). */
  ci_level: number | null;
  /** Harmonic for throughputs, arithmetic otherwise. */
  mean: number;
  delta_pct: number | null;
  delta_ci_low: number | null;
  delta_ci_high: number | null;
  /** Holm-corrected two-sided p-value. */
  p_value: number | null;
  /** Before the correction. */
  p_raw: number | null;
  significant: boolean | null;
  /** Significantly worse by more than the threshold (only with a threshold). */
  regression: boolean;
  note: string;
}

export interface Comparison {
  metric: string;
  by: CompareBy;
  baseline: string;
  batches: { batch_id: number; name: string }[];
  aggregate: RunAggregate;
  rate: boolean;
  lowerIsBetter: boolean;
  threshold: number | null;
  rows: CompareRow[];
  regressions: CompareRow[];
  excluded: ExcludedRun[];
  /** How every figure was computed, one sentence per line (the table's footer). */
  method: string[];
  /** Rows that carry a change against the baseline (0: nothing was compared). */
  compared: number;
  /** Groups the batches have but that gave no value (say so: a silent gap reads as "no change"). */
  warnings: string[];
}

export async function compare(store: ExpertStore, batchRefs: readonly (number | string)[], options: CompareOptions): Promise<Comparison> {
  if (batchRefs.length < 1 || batchRefs.length > 2) throw new UserError(`compare: give one or two batches, got ${batchRefs.length}`);
  const batches = [];
  for (const ref of batchRefs) batches.push(await resolveBatch(store, ref));
  const ids = batches.map((b) => Number(b.batch_id));
  if (new Set(ids).size < ids.length) throw new UserError(`compare: both batches are batch ${ids[0]}; name two different batches`);
  const by = options.by ?? (batches.length === 2 ? 'batch' : 'policy');
  if (by === 'batch' && batches.length < 2) throw new UserError('compare --by batch needs two batches');
  if (by !== 'policy' && by !== 'batch' && !/^param:.+/.test(by)) throw new UserError(`--by: expected policy, batch or param:NAME, got '${by}'`);
  const values = await runValues(store, ids, {
    metric: options.metric,
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
    ...(options.includeWarmup ? { includeWarmup: true } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
  });
  const kind = metricKind(options.metric);
  const lowerIsBetter = options.lowerIsBetter ?? kind.lowerIsBetter;
  const settings = {
    alpha: options.alpha ?? 0.05,
    test: options.test ?? 'mann-whitney',
    bootstrap: options.bootstrap ?? 'percentile',
    resamples: options.resamples ?? DEFAULT_RESAMPLES,
    seed: options.seed ?? DEFAULT_SEED,
  } as const;
  if (!(settings.alpha > 0 && settings.alpha < 1)) throw new UserError(`compare: alpha must be between 0 and 1, got ${settings.alpha}`);

  // Two batches may share a name (the same config run twice): then they are told apart by id.
  const names = batches.map((b) => String(b.name));
  const batchLabel = new Map(batches.map((b, i) => [Number(b.batch_id), names.filter((n) => n === names[i]).length > 1 ? `${b.name}#${b.batch_id}` : String(b.name)]));
  const param = by.startsWith('param:') ? by.slice('param:'.length) : undefined;
  if (param !== undefined && !values.runs.some((r) => param in r.params)) {
    const known = [...new Set(values.runs.flatMap((r) => Object.keys(r.params)))];
    throw new UserError(`--by param:${param}: no run has a parameter '${param}'${known.length ? `; parameters: ${known.join(', ')}` : ' (the tests have no parameters)'}`);
  }
  const groupOf = (r: RunValue): string => (by === 'policy' ? r.policy : by === 'batch' ? batchLabel.get(r.batch_id)! : String(r.params[param!] ?? ''));
  const groupOrder = orderedGroups(by, values.runs, groupOf, batches, [...batchLabel.values()]);
  const expected = expectedGroups(by, batches, [...batchLabel.values()]);
  const withValues = new Set(values.runs.map(groupOf));
  const empty = (group: string) =>
    `${by === 'batch' ? 'batch' : by === 'policy' ? 'policy' : `${param}=`}${by === 'batch' || by === 'policy' ? ` '${group}'` : group} has no run with a value of ${options.metric} ` +
    `(its runs did not succeed, are warm-ups, or lack this figure: see expert mine summary)`;
  // A group named as the baseline (or the default 'baseline' policy) that has no values cannot be replaced silently.
  const askedBaseline = options.baseline ?? (by === 'policy' && expected.includes('baseline') ? 'baseline' : undefined);
  if (askedBaseline !== undefined && !withValues.has(askedBaseline) && expected.includes(askedBaseline)) throw new UserError(`compare: the baseline: ${empty(askedBaseline)}`);
  const baseline = pickBaseline(options.baseline, groupOrder, by, batches, batchLabel);
  if (by === 'batch' && !withValues.has(baseline)) throw new UserError(`compare: ${empty(baseline)}: nothing to compare`);
  const warnings = expected.filter((g) => !withValues.has(g)).map(empty);
  if (by === 'batch' && warnings.length > 0) throw new UserError(`compare: ${warnings.join('; ')}: nothing to compare with '${baseline}'`);

  const cells = new Map<string, { key: CellKey; runs: Map<string, number[]> }>();
  for (const r of values.runs) {
    const params = param === undefined ? r.params : Object.fromEntries(Object.entries(r.params).filter(([k]) => k !== param));
    const key: CellKey = {
      test: r.test,
      params,
      policy: by === 'policy' ? null : r.policy,
      batch: by !== 'batch' && batches.length === 2 ? batchLabel.get(r.batch_id)! : null,
    };
    const id = JSON.stringify([key.test, key.params, key.policy, key.batch]);
    if (!cells.has(id)) cells.set(id, { key, runs: new Map() });
    const groups = cells.get(id)!.runs;
    const group = groupOf(r);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(r.value);
  }

  const rows: CompareRow[] = [];
  for (const { key, runs } of cells.values()) {
    const present = groupOrder.filter((g) => runs.has(g));
    const base = runs.get(baseline);
    const cellRows = present.map((group) => describeGroup(key, group, runs.get(group)!, group === baseline, kind.rate, settings.alpha));
    const compared = cellRows.filter((row) => !row.baseline);
    const pRaw = compared.map((row) => {
      const values = runs.get(row.group)!;
      if (!base) {
        row.note = joinNotes(row.note, `no '${baseline}' runs in this cell`);
        return Number.NaN;
      }
      const change = relativeChange(values, base, { location: 'median', method: settings.bootstrap, resamples: settings.resamples, seed: settings.seed, level: 1 - settings.alpha });
      row.delta_pct = finiteOrNull(change.value);
      row.delta_ci_low = change.ci ? change.ci.low : null;
      row.delta_ci_high = change.ci ? change.ci.high : null;
      if (!change.ci) row.note = joinNotes(row.note, change.note === N_TOO_SMALL && base.length < MIN_N ? `baseline: ${N_TOO_SMALL}` : change.note);
      const p = settings.test === 'permutation' ? permutationTest(values, base, { resamples: settings.resamples, seed: settings.seed }).p : mannWhitneyU(values, base).p;
      return p;
    });
    const adjusted = holm(pRaw);
    compared.forEach((row, i) => {
      row.p_raw = finiteOrNull(pRaw[i]!);
      row.p_value = finiteOrNull(adjusted[i]!);
      row.significant = row.p_value === null ? null : row.p_value < settings.alpha;
      if (options.threshold !== undefined && row.significant && row.delta_pct !== null) {
        row.regression = lowerIsBetter ? row.delta_pct > options.threshold : row.delta_pct < -options.threshold;
      }
    });
    rows.push(...cellRows);
  }

  return {
    metric: options.metric,
    by,
    baseline,
    batches: batches.map((b) => ({ batch_id: Number(b.batch_id), name: String(b.name) })),
    aggregate: values.aggregate,
    rate: kind.rate,
    lowerIsBetter,
    threshold: options.threshold ?? null,
    rows,
    regressions: rows.filter((r) => r.regression),
    compared: rows.filter((r) => !r.baseline && r.delta_pct !== null).length,
    warnings,
    excluded: values.excluded,
    method: describeMethod({ ...settings, metric: options.metric, aggregate: values.aggregate, rate: kind.rate, lowerIsBetter, baseline, by, threshold: options.threshold, excluded: values.excluded.length }),
  };
}

interface CellKey {
  test: string;
  params: Record<string, unknown>;
  policy: string | null;
  batch: string | null;
}

function describeGroup(key: CellKey, group: string, values: number[], isBaseline: boolean, rate: boolean, alpha: number): CompareRow {
  const median = medianEstimate(values, 1 - alpha);
  return {
    ...key,
    group,
    baseline: isBaseline,
    n: values.length,
    median: median.value,
    ci_low: median.ci ? median.ci.low : null,
    ci_high: median.ci ? median.ci.high : null,
    ci_level: median.ci ? median.ci.level : null,
    mean: rate ? harmonicMean(values) : mean(values),
    delta_pct: null,
    delta_ci_low: null,
    delta_ci_high: null,
    p_value: null,
    p_raw: null,
    significant: null,
    regression: false,
    note: isBaseline ? joinNotes('baseline', median.note) : (median.note ?? ''),
  };
}

function orderedGroups(by: CompareBy, runs: readonly RunValue[], groupOf: (r: RunValue) => string, batches: readonly { config: unknown }[], batchLabels: string[]): string[] {
  const seen = [...new Set(runs.map(groupOf))];
  if (by === 'batch') return batchLabels;
  if (by === 'policy') {
    const configured = batches.flatMap((b) => ((b.config as { policies?: { name?: unknown }[] } | null)?.policies ?? []).map((p) => String(p?.name ?? '')));
    return [...new Set([...configured.filter((p) => seen.includes(p)), ...seen])];
  }
  return seen;
}

/** The groups the batches were run with, whether or not they gave values (policies from the configs, or the batches). */
function expectedGroups(by: CompareBy, batches: readonly { config: unknown }[], batchLabels: string[]): string[] {
  if (by === 'batch') return batchLabels;
  if (by !== 'policy') return [];
  const configured = batches.flatMap((b) => ((b.config as { policies?: { name?: unknown }[] } | null)?.policies ?? []).map((p) => String(p?.name ?? '')));
  return [...new Set(configured.length > 0 ? configured : ['baseline'])];
}

function pickBaseline(asked: string | undefined, groups: string[], by: CompareBy, batches: readonly { batch_id: number; name: string }[], labels: Map<number, string>): string {
  if (asked !== undefined) {
    if (groups.includes(asked)) return asked;
    if (by === 'batch') {
      const match = batches.find((b) => String(b.batch_id) === asked || b.name === asked);
      if (match) return labels.get(Number(match.batch_id))!;
    }
    throw new UserError(`--baseline: no group '${asked}'; the groups (by ${by}) are ${groups.join(', ') || 'none'}`);
  }
  if (by === 'policy' && groups.includes('baseline')) return 'baseline';
  if (groups.length === 0) throw new UserError('compare: no run has a value to compare');
  return groups[0]!;
}

function describeMethod(m: {
  metric: string; aggregate: RunAggregate; rate: boolean; lowerIsBetter: boolean; baseline: string; by: CompareBy; test: CompareTest;
  bootstrap: BootstrapMethod; resamples: number; seed: number; alpha: number; threshold: number | undefined; excluded: number;
}): string[] {
  const level = `${Math.round((1 - m.alpha) * 1000) / 10}%`;
  const test = m.test === 'permutation'
    ? 'two-sided permutation test of the difference in means (exact when the splits are few enough, else seeded Monte Carlo)'
    : "two-sided Mann–Whitney U (exact without ties when a group has ≤ 8 runs, else normal approximation with tie and continuity correction, as SciPy's method='auto')";
  return [
    `unit: the run; a run's ${m.metric} is the ${m.aggregate === 'total' ? 'node total over its guests (a throughput)' : 'mean over its guests'}; warm-up runs, failed runs and runs without this figure left out`,
    `median CI: order statistics (distribution-free, ${level} or the most the run count allows: see ci_level); mean: ${m.rate ? 'harmonic (a rate)' : 'arithmetic'}`,
    `delta%: median vs baseline '${m.baseline}' (by ${m.by}), ${level} ${m.bootstrap === 'bca' ? 'BCa' : 'percentile'} bootstrap CI (${m.resamples} resamples, seed ${m.seed})`,
    `p: ${test}, Holm-corrected over the groups compared with the baseline in each cell; * significant at p < ${m.alpha}`,
    `fewer than ${MIN_N} runs in a group: no interval and no p-value (${N_TOO_SMALL}); ${m.lowerIsBetter ? 'lower' : 'higher'} is better${m.threshold === undefined ? '' : `; regression: significant and worse by more than ${m.threshold}%`}${m.excluded ? `; ${m.excluded} run(s) left out` : ''}`,
  ];
}

function joinNotes(...notes: (string | undefined)[]): string {
  return notes.filter(Boolean).join('; ');
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * src/stats against SciPy 1.10 (Debian's python3-scipy), computed in the same
 * test from the same generated data. Deterministic methods agree to 1e-9;
 * the bootstrap and the Monte Carlo permutation test draw the same indices as
 * SciPy with `np.random.RandomState(seed)` (same Mersenne Twister, same
 * bounded draws), so they agree to 1e-9 as well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scipy, close } from '../helpers/scipy.js';
import { positiveSample, tiedSample } from './samples.js';
import { medianEstimate, medianRank } from '../../src/stats/median.js';
import { harmonicMean, mean } from '../../src/stats/means.js';
import { mannWhitneyU } from '../../src/stats/mann-whitney.js';
import { permutationTest } from '../../src/stats/permutation.js';
import { bootstrap } from '../../src/stats/bootstrap.js';
import { holm } from '../../src/stats/holm.js';
import { cliffsDelta, hodgesLehmannShift, relativeChange } from '../../src/stats/effect-size.js';
import { median } from '../../src/stats/sample.js';
import { N_TOO_SMALL } from '../../src/stats/sample.js';

const TOL = 1e-9;

function assertClose(actual: number, expected: number | null, what: string, tol = TOL): void {
  assert.ok(close(actual, expected, tol), `${what}: got ${actual}, SciPy ${expected}`);
}

test('median CI: order statistics from the binomial, as scipy.stats.binom gives them', () => {
  const cases = [];
  for (let n = 3; n <= 40; n++) for (const level of [0.9, 0.95, 0.99]) cases.push({ n, level, x: positiveSample(n * 7 + Math.round(level * 100), n) });
  const expected = scipy<{ lo: number; hi: number; level: number; median: number; rank: number }[]>(`
from scipy.stats import binom
res = []
for c in data:
    n, a = c['n'], 1 - c['level']
    x = np.sort(np.array(c['x']))
    k = int(binom.ppf(a / 2, n, 0.5))            # smallest k with cdf(k) >= a/2
    if binom.cdf(k, n, 0.5) > a / 2: k -= 1     # largest k with cdf(k) <= a/2
    j = max(k + 1, 1)                           # 1-based rank of the lower end
    res.append(dict(lo=x[j - 1], hi=x[n - j], level=1 - 2 * binom.cdf(j - 1, n, 0.5), median=np.median(x), rank=j))
out(res)`, cases);
  cases.forEach((c, i) => {
    const e = expected[i]!;
    const got = medianEstimate(c.x, c.level);
    assert.equal(medianRank(c.n, c.level).rank, e.rank, `rank n=${c.n} level=${c.level}`);
    assertClose(got.value, e.median, `median n=${c.n}`);
    assert.ok(got.ci, `an interval at n=${c.n}`);
    assertClose(got.ci.low, e.lo, `low n=${c.n} level=${c.level}`);
    assertClose(got.ci.high, e.hi, `high n=${c.n} level=${c.level}`);
    assertClose(got.ci.level, e.level, `coverage n=${c.n} level=${c.level}`);
    assert.ok(got.ci.low > 0, 'a positive quantity keeps a positive interval');
  });
  const small = medianEstimate([5, 7]);
  assert.equal(small.ci, null);
  assert.equal(small.note, N_TOO_SMALL);
});

test('harmonic and arithmetic means match scipy.stats.hmean and numpy.mean', () => {
  const samples = [3, 5, 8, 13].map((n) => positiveSample(n, n, 5e5, 0.5));
  const expected = scipy<{ h: number; m: number }[]>(`out([dict(h=stats.hmean(x), m=np.mean(x)) for x in data])`, samples);
  samples.forEach((x, i) => {
    assertClose(harmonicMean(x), expected[i]!.h, `hmean n=${x.length}`);
    assertClose(mean(x), expected[i]!.m, `mean n=${x.length}`);
  });
  assert.ok(Number.isNaN(harmonicMean([1, 0, 2])), 'a zero rate has no harmonic mean');
});

test("Mann–Whitney U: statistic and two-sided p as scipy.stats.mannwhitneyu(method='auto'), exact and asymptotic", () => {
  const pairs: { x: number[]; y: number[] }[] = [];
  for (const [n1, n2] of [[3, 3], [3, 5], [4, 4], [5, 5], [6, 9], [8, 8], [8, 20], [9, 9], [12, 15], [30, 25]] as const) {
    pairs.push({ x: positiveSample(n1 * 31 + n2, n1), y: positiveSample(n1 * 37 + n2 + 1, n2, 1100) });
    pairs.push({ x: tiedSample(n1 * 41 + n2, n1), y: tiedSample(n1 * 43 + n2, n2, 5) });
  }
  // Fully separated samples: the smallest exact p-values.
  pairs.push({ x: positiveSample(1, 4, 100), y: positiveSample(2, 4, 10000) });
  const expected = scipy<{ u: number; p: number; pe: number | null; pa: number }[]>(`
res = []
for c in data:
    x, y = c['x'], c['y']
    r = stats.mannwhitneyu(x, y, alternative='two-sided', method='auto')
    ties = len(set(x + y)) < len(x + y)
    pe = None if ties else stats.mannwhitneyu(x, y, method='exact').pvalue
    pa = stats.mannwhitneyu(x, y, method='asymptotic').pvalue
    res.append(dict(u=r.statistic, p=r.pvalue, pe=pe, pa=pa))
out(res)`, pairs);
  pairs.forEach((c, i) => {
    const e = expected[i]!;
    const got = mannWhitneyU(c.x, c.y);
    const what = `n=${c.x.length},${c.y.length}`;
    assertClose(got.u, e.u, `U ${what}`);
    assertClose(got.p, e.p, `p (${got.method}) ${what}`);
    if (e.pe !== null) assertClose(mannWhitneyU(c.x, c.y, { method: 'exact' }).p, e.pe, `exact p ${what}`);
    assertClose(mannWhitneyU(c.x, c.y, { method: 'asymptotic' }).p, e.pa, `asymptotic p ${what}`);
  });
  const tooFew = mannWhitneyU([1, 2], [3, 4, 5]);
  assert.ok(Number.isNaN(tooFew.p));
  assert.equal(tooFew.note, N_TOO_SMALL);
});

test('permutation test of the difference in means: exact and seeded Monte Carlo, as scipy.stats.permutation_test', () => {
  const cases = [
    { x: positiveSample(11, 3), y: positiveSample(12, 3, 1300), resamples: 9999, seed: 5 },
    { x: positiveSample(13, 5), y: positiveSample(14, 6, 1200), resamples: 9999, seed: 5 },
    { x: tiedSample(15, 6), y: tiedSample(16, 7), resamples: 9999, seed: 5 },
    { x: positiveSample(17, 10), y: positiveSample(18, 10, 1150), resamples: 999, seed: 7 },
    { x: positiveSample(19, 12), y: positiveSample(20, 9, 1000), resamples: 2000, seed: 123 },
  ];
  const expected = scipy<{ stat: number; p: number; n: number }[]>(`
res = []
for c in data:
    r = stats.permutation_test((np.array(c['x']), np.array(c['y'])), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        vectorized=True, permutation_type='independent', n_resamples=c['resamples'], alternative='two-sided',
        random_state=np.random.RandomState(c['seed']))
    res.append(dict(stat=r.statistic, p=r.pvalue, n=len(r.null_distribution)))
out(res)`, cases);
  cases.forEach((c, i) => {
    const e = expected[i]!;
    const got = permutationTest(c.x, c.y, { resamples: c.resamples, seed: c.seed });
    const what = `n=${c.x.length},${c.y.length} (${got.exact ? 'exact' : 'Monte Carlo'})`;
    assertClose(got.statistic, e.stat, `statistic ${what}`);
    assertClose(got.p, e.p, `p ${what}`);
    assert.equal(got.permutations, e.n, `null distribution size ${what}`);
  });
  assert.equal(permutationTest([1, 2], [3, 4, 5]).note, N_TOO_SMALL);
});

test('bootstrap CIs (BCa and percentile) of a mean and of ratios of means and medians, as scipy.stats.bootstrap with the same seed', () => {
  const cases = [
    { kind: 'mean', samples: [positiveSample(21, 5)], method: 'bca', seed: 1 },
    { kind: 'mean', samples: [positiveSample(22, 12, 50, 0.8)], method: 'percentile', seed: 2 },
    { kind: 'mean', samples: [positiveSample(23, 3)], method: 'bca', seed: 3 },
    { kind: 'ratio_mean', samples: [positiveSample(24, 4), positiveSample(25, 6, 1200)], method: 'bca', seed: 4 },
    { kind: 'ratio_mean', samples: [positiveSample(26, 8), positiveSample(27, 8, 900)], method: 'percentile', seed: 5 },
    { kind: 'ratio_median', samples: [positiveSample(28, 7), positiveSample(29, 9, 1100)], method: 'bca', seed: 6 },
    { kind: 'ratio_median', samples: [positiveSample(30, 5), positiveSample(31, 5, 1100)], method: 'percentile', seed: 7 },
  ] as const;
  const expected = scipy<{ lo: number; hi: number }[]>(`
stat = {
    'mean': lambda x, axis: np.mean(x, axis=axis),
    'ratio_mean': lambda x, y, axis: np.mean(x, axis=axis) / np.mean(y, axis=axis),
    'ratio_median': lambda x, y, axis: np.median(x, axis=axis) / np.median(y, axis=axis),
}
res = []
for c in data:
    r = stats.bootstrap(tuple(np.array(s) for s in c['samples']), stat[c['kind']], vectorized=True, n_resamples=2999,
        method={'bca': 'BCa', 'percentile': 'percentile'}[c['method']], confidence_level=0.95,
        random_state=np.random.RandomState(c['seed']))
    res.append(dict(lo=r.confidence_interval.low, hi=r.confidence_interval.high))
out(res)`, cases);
  const statistic = {
    mean: (x?: number[]) => mean(x!),
    ratio_mean: (x?: number[], y?: number[]) => mean(x!) / mean(y!),
    ratio_median: (x?: number[], y?: number[]) => median(x!) / median(y!),
  };
  cases.forEach((c, i) => {
    const e = expected[i]!;
    const got = bootstrap(c.samples.map((s) => [...s]), statistic[c.kind], { resamples: 2999, method: c.method, seed: c.seed });
    const what = `${c.kind} ${c.method} n=${c.samples.map((s) => s.length).join(',')}`;
    assert.ok(got.ci, `an interval for ${what}`);
    assertClose(got.ci.low, e.lo, `low ${what}`);
    assertClose(got.ci.high, e.hi, `high ${what}`);
    assert.ok(got.ci.low > 0, `${what}: a positive quantity keeps a positive interval`);
  });
  const tooFew = bootstrap([[1, 2]], (x) => mean(x!));
  assert.equal(tooFew.ci, null);
  assert.equal(tooFew.note, N_TOO_SMALL);
});

test('relative change delta% and its interval follow the bootstrapped ratio of medians', () => {
  const group = positiveSample(40, 6, 800);
  const base = positiveSample(41, 6, 1000);
  const [e] = scipy<{ d: number; lo: number; hi: number }[]>(`
res = []
for c in data:
    g, b = np.array(c['g']), np.array(c['b'])
    r = stats.bootstrap((g, b), lambda x, y, axis: np.median(x, axis=axis) / np.median(y, axis=axis), vectorized=True,
        n_resamples=9999, method='BCa', random_state=np.random.RandomState(c['seed']))
    res.append(dict(d=100 * (np.median(g) / np.median(b) - 1), lo=100 * (r.confidence_interval.low - 1), hi=100 * (r.confidence_interval.high - 1)))
out(res)`, [{ g: group, b: base, seed: 99 }]);
  const got = relativeChange(group, base, { seed: 99 });
  assertClose(got.value, e!.d, 'delta%');
  assertClose(got.ci!.low, e!.lo, 'delta% low');
  assertClose(got.ci!.high, e!.hi, 'delta% high');
  assert.ok(got.ci!.low > -100, 'a ratio of positive values never reaches -100%');
});

test("Holm's step-down correction, as a few lines of Python compute it", () => {
  const families = [
    [0.01, 0.04, 0.03, 0.2],
    positiveSample(50, 6, 0.05, 1).map((p) => Math.min(p, 1)),
    [0.5],
    [0.001, 0.001, 0.9],
  ];
  const expected = scipy<number[][]>(`
def holm(p):
    m = len(p); order = sorted(range(m), key=lambda i: p[i]); adj = [0.0] * m; running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i])); adj[i] = running
    return adj
out([holm(p) for p in data])`, families);
  families.forEach((p, i) => holm(p).forEach((a, j) => assertClose(a, expected[i]![j]!, `family ${i} p[${j}]`)));
  const withMissing = holm([0.01, Number.NaN, 0.02]);
  assert.ok(Number.isNaN(withMissing[1]!));
  assertClose(withMissing[0]!, 0.02, 'NaN does not count in m');
});

test("Cliff's delta and the Hodges–Lehmann shift, against SciPy's U and numpy", () => {
  const pairs = [
    { x: positiveSample(60, 5), y: positiveSample(61, 7, 1200) },
    { x: tiedSample(62, 8), y: tiedSample(63, 6) },
  ];
  const expected = scipy<{ cliff: number; hl: number }[]>(`
res = []
for c in data:
    x, y = np.array(c['x']), np.array(c['y'])
    u = stats.mannwhitneyu(x, y).statistic
    res.append(dict(cliff=2 * u / (len(x) * len(y)) - 1, hl=np.median(np.subtract.outer(x, y))))
out(res)`, pairs);
  pairs.forEach((c, i) => {
    assertClose(cliffsDelta(c.x, c.y), expected[i]!.cliff, `Cliff's delta ${i}`);
    assertClose(hodgesLehmannShift(c.x, c.y), expected[i]!.hl, `HL shift ${i}`);
  });
});

/**
 * Search strategies (pure, deterministic seeds): exhaustive, random, halving,
 * the GP model, confirmation rounds and the hill climber's decisions; the GP's posterior against numpy and
 * the certainty's Mann–Whitney p against SciPy, in the same test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { exhaustive, halving, random } from '../../src/tune/optimize/basic.js';
import { withConfirmation } from '../../src/tune/optimize/confirm.js';
import { certainty, ranked, separated } from '../../src/tune/optimize/estimate.js';
import { fitGp, fitWith } from '../../src/tune/optimize/gp.js';
import { expectedImprovement, model, withSide } from '../../src/tune/optimize/model.js';
import { climber, helps, noiseOf } from '../../src/tune/optimize/hill-climb.js';
import type { History, Strategy } from '../../src/tune/optimize/types.js';
import { normaliseSpace } from '../../src/tune/space/dimensions.js';
import { enumerate } from '../../src/tune/space/enumerate.js';
import { features } from '../../src/tune/space/features.js';
import { placementName } from '../../src/tune/space/placement-policy.js';
import type { SpaceSpec } from '../../src/tune/space/types.js';
import { replay } from '../../src/tune/optimize/replay.js';
import { close, scipy } from '../helpers/scipy.js';

/** Drives a strategy against a function of the candidate (and the run number), as the runner would. */
function drive(strategy: Strategy, value: (c: number, run: number) => number, until: (c: number) => boolean = () => false): { history: Map<number, number[]>; order: number[]; rounds: Array<[number[], number]> } {
  const history = new Map<number, number[]>();
  const order: number[] = [];
  const rounds: Array<[number[], number]> = [];
  for (let r = strategy.next(history); r && !order.some(until); r = strategy.next(history)) {
    rounds.push([r.candidates, r.repetitions]);
    for (const c of r.candidates) {
      order.push(c);
      const have = history.get(c) ?? [];
      history.set(c, [...have, ...Array.from({ length: r.repetitions }, (_, k) => value(c, have.length + k))]);
    }
  }
  return { history, order, rounds };
}

test('exhaustive: one round in list order, or a seeded order; random: rounds without replacement until all are tried', () => {
  assert.deepEqual(drive(exhaustive(4, 3), () => 1).rounds, [[[0, 1, 2, 3], 3]]);
  const seeded = drive(exhaustive(10, 2, 7), () => 1).rounds;
  assert.equal(seeded.length, 1);
  assert.deepEqual([...seeded[0]![0]].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(seeded[0]![0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const r = drive(random(10, 2, 3, 4), () => 1);
  assert.deepEqual(r.rounds.map(([c, reps]) => [c.length, reps]), [[4, 2], [4, 2], [2, 2]]);
  assert.deepEqual([...r.order].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(drive(random(10, 2, 3, 4), () => 1).order, r.order, 'same seed, same order');
  assert.notDeepEqual(drive(random(10, 2, 4, 4), () => 1).order, r.order);
});

test('halving: the better half by median gets its run count doubled; it stops once the best is separated', () => {
  // Values tie within a candidate: intervals are points, so separation comes as soon as the best has 3 runs.
  const flat = drive(halving(8, 1, 'max'), (c) => c);
  assert.deepEqual(flat.rounds, [[[0, 1, 2, 3, 4, 5, 6, 7], 1], [[7, 6, 5, 4], 1], [[7, 6], 2]]);
  assert.deepEqual(ranked(flat.history, 'max')[0], { candidate: 7, n: 4, median: 7, ci: { low: 7, high: 7, level: 0.875 } });
  // Noisy values: the intervals overlap, so it halves down to one.
  const noisy = drive(halving(8, 2, 'min'), (c, run) => c + (run % 2 ? 3 : -3));
  assert.deepEqual(noisy.rounds.map(([c, reps]) => [c.length, reps]), [[8, 2], [4, 2], [2, 4]]);
  assert.equal(ranked(noisy.history, 'min')[0]!.candidate, 0);
});

test('separation and certainty: intervals from order statistics, p from Mann–Whitney as SciPy computes it', () => {
  const history: History = new Map([[0, [10, 11, 12, 10.5, 11.5]], [1, [7, 8, 9, 8.5, 7.5]], [2, [1, 2, 3, 2.5, 1.5]]]);
  const ranking = ranked(history, 'max');
  assert.deepEqual(ranking.map((e) => e.candidate), [0, 1, 2]);
  assert.equal(separated(ranking, 'max'), true);
  assert.equal(separated(ranked(new Map([[0, [10, 11, 12]], [1, [9, 11.5, 13]]]), 'max'), 'max'), false);
  const sure = certainty(history, 'max', (c) => `c${c}`);
  assert.equal(sure.separated, true);
  assert.equal(sure.runnerUp, 1);
  const ref = scipy<{ p: number }>('r = stats.mannwhitneyu(data["a"], data["b"], alternative="two-sided", method="auto"); out({"p": r.pvalue})', { a: history.get(0), b: history.get(1) });
  assert.ok(close(sure.pValue!, ref.p), `${sure.pValue} vs ${ref.p}`);
  assert.ok(close(sure.deltaPct!, 100 * (8 / 11 - 1)));
  assert.match(sure.statement, /^sure: .*runner-up c1 -27\.3%/);
  const unsure = certainty(new Map([[0, [10, 11, 12]], [1, [9, 11.5, 13]]]), 'max', (c) => `c${c}`);
  assert.match(unsure.statement, /^not sure/);
  assert.match(unsure.statement, /runner-up c0 -4\.3% \(95% CI [-+]\d+\.\d% … [-+]\d+\.\d%\)/);
  // Below 3 runs a side the bootstrap gives no interval: the statement says why, not a bare delta%.
  const once = certainty(new Map([[0, [10]], [1, [8]]]), 'max', (c) => `c${c}`);
  assert.equal(once.deltaCi, null);
  assert.match(once.statement, /runner-up c1 -20\.0% \(no interval: 1 run each, 3 each give one\)/);
  const uneven = certainty(new Map([[0, [10, 10, 11]], [1, [8, 9]]]), 'max', (c) => `c${c}`);
  assert.match(uneven.statement, /runner-up c1 -15\.0% \(no interval: 3 runs of the best, 2 runs of the runner-up, 3 each give one\)/);
});

test('confirmation rounds re-run the leaders until the best is separated (or the rounds run out)', () => {
  const inner = exhaustive(5, 1);
  // Candidate 4 is best; with 1 run each nothing has an interval; two more rounds of 3 give n = 3.
  const d = drive(withConfirmation(inner, { repetitions: 1, direction: 'max', top: 3, rounds: 2 }), (c) => c);
  assert.deepEqual(d.rounds, [[[0, 1, 2, 3, 4], 1], [[4, 3, 2], 1], [[4, 3, 2], 1]]);
  assert.equal(separated(ranked(d.history, 'max').slice(0, 3), 'max'), true);
});

test('GP posterior mean and variance as numpy computes them from the same kernel', () => {
  const x = [[0, 0], [1, 0], [0, 2], [1.5, 1]];
  const y = [0.3, -1.2, 0.8, 0.1];
  const fit = fitWith(x, y, 1.3, 0.05, [1, 0.5, 1, 1])!;
  const points = [[0.5, 0.5], [2, 2], [1, 0]];
  const ref = scipy<Array<[number, number]>>(
    `X = np.array(data["x"]); y = np.array(data["y"]); ls = 1.3
def k(a, b): return np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / (2 * ls * ls))
K = k(X, X) + np.diag(0.05 * np.array(data["w"])) + 1e-9 * np.eye(len(X))
P = np.array(data["p"]); Ks = k(P, X)
mean = Ks @ np.linalg.solve(K, y)
var = 1 - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
out([[m, v] for m, v in zip(mean, var)])`,
    { x, y, w: [1, 0.5, 1, 1], p: points },
  );
  points.forEach((p, i) => {
    const got = fit.predict(p);
    assert.ok(close(got.mean, ref[i]![0], 1e-8), `mean ${got.mean} vs ${ref[i]![0]}`);
    assert.ok(close(got.variance, ref[i]![1], 1e-8), `variance ${got.variance} vs ${ref[i]![1]}`);
  });
  // Expected improvement: zero spread gives the plain gain; more spread, more value.
  assert.equal(expectedImprovement(2, 0, 1, 0), 1);
  assert.ok(expectedImprovement(0, 1, 1, 0) > expectedImprovement(0, 0.1, 1, 0));
});

test('the model finds the best placement of a structured surface in fewer trials than random (median over 41 seeds)', () => {
  // 4 guests × {any, 0, 1, 2, 3}: a guest alone on its CPU is fast, crowding costs; the baseline is mediocre.
  const space = normaliseSpace({ guests: Object.fromEntries(['a', 'b', 'c', 'd'].map((g) => [g, { cpus: ['any', 0, 1, 2, 3] }])) });
  const { placements } = enumerate(space);
  const value = placements.map((p) => {
    const perCpu = [0, 1, 2, 3].map((cpu) => p.filter((choice) => choice === cpu + 1).length);
    return p.reduce((s, choice) => s + (choice === 0 ? 60 : 100 / perCpu[choice - 1]!), 0) + (p[0] === 1 ? 15 : 0);
  });
  const best = Math.max(...value);
  const target = (c: number) => value[c]! >= best * 0.95;
  const trialsToTarget = (s: Strategy) => drive(s, (c, run) => value[c]! * (1 + 0.02 * Math.sin(7 * c + run)), target).order.findIndex(target) + 1;
  const featureRows = placements.map((p) => features(space, p));
  const seeds = Array.from({ length: 41 }, (_, i) => i + 1);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const randomTrials = median(seeds.map((seed) => trialsToTarget(random(placements.length, 1, seed, 2))));
  const modelTrials = median(seeds.map((seed) => trialsToTarget(model(featureRows, { repetitions: 1, direction: 'max', seed }))));
  assert.ok(modelTrials <= 0.5 * randomTrials, `model ${modelTrials} vs random ${randomTrials} trials`);
});

test('hill climb (pure): guests and knobs in turn, never the current choice, seeded; noise from same-setting pairs; keep only beyond threshold and noise', () => {
  const c = climber(['a', 'b'], ['pin', 'nice'], { cpus: 3, nice: 2 }, 5);
  const settings = new Map([['a', { cpus: 0, nice: 0 }], ['b', { cpus: 2, nice: 1 }]]);
  const proposed = Array.from({ length: 8 }, () => c.propose(settings)!);
  assert.deepEqual(proposed.map((m) => `${m.guest}.${m.action}`), ['a.pin', 'a.nice', 'b.pin', 'b.nice', 'a.pin', 'a.nice', 'b.pin', 'b.nice']);
  for (const m of proposed) {
    assert.notEqual(m.to, m.from);
    assert.equal(m.from, m.action === 'pin' ? settings.get(m.guest)!.cpus : settings.get(m.guest)!.nice);
  }
  assert.deepEqual(proposed.filter((m) => m.action === 'nice').map((m) => m.to), [1, 0, 1, 0], 'two nice levels: always the other one');
  const again = climber(['a', 'b'], ['pin', 'nice'], { cpus: 3, nice: 2 }, 5);
  assert.deepEqual(Array.from({ length: 8 }, () => again.propose(settings)), proposed);
  assert.equal(climber(['a'], ['nice'], { cpus: 3, nice: 1 }).propose(settings), undefined, 'one nice level: nothing to move');

  assert.equal(noiseOf([]), 0);
  assert.ok(Math.abs(noiseOf([[100, 110], [100, 97], [200, 190]]) - 0.05) < 1e-12);
  assert.equal(helps(100, 104, 'max', 5, 0), false, 'below the threshold');
  assert.equal(helps(100, 106, 'max', 5, 0), true);
  assert.equal(helps(100, 106, 'max', 5, 0.04), false, 'within twice the noise');
  assert.equal(helps(100, 90, 'min', 5, 0.02), true);
  assert.equal(helps(100, Number.NaN, 'max', 5, 0), false);
});

const SURFACES = readdirSync('tests/fixtures/search').filter((f) => /^surface(-\d+)?\.json$/.test(f)).sort();

test('every captured surface (tests/fixtures/search/surface*.json) is every placement of its space, named as the search names them', () => {
  assert.ok(SURFACES.includes('surface.json') && SURFACES.length >= 2, SURFACES.join(', '));
  for (const file of SURFACES) {
    const surface = JSON.parse(readFileSync(`tests/fixtures/search/${file}`, 'utf8')) as { space: SpaceSpec; side_metrics: string[]; candidates: Array<{ name: string; placement: number[]; runs: number[]; side: Array<Array<number | null>> }>; provenance: { captured_by: string; spec: string } };
    assert.equal(surface.provenance.captured_by, 'scripts/capture-search-surface.ts', file);
    const space = normaliseSpace(surface.space);
    const { placements } = enumerate(space);
    // Between 50 and 250 placements of 3 to 5 guests (the issue's range), each with repetitions.
    assert.ok(placements.length >= 50 && placements.length <= 250, `${file}: ${placements.length}`);
    assert.ok(space.guests.length >= 3 && space.guests.length <= 5, file);
    assert.equal(surface.candidates.length, placements.length, file);
    surface.candidates.forEach((c, i) => {
      assert.deepEqual(c.placement, placements[i]);
      assert.equal(c.name, placementName(space, placements[i]!));
      assert.ok(c.runs.length >= 2 && c.runs.every((v) => v > 0), `${file}: ${c.name}`);
      assert.equal(c.side.length, c.runs.length);
      for (const figures of c.side) assert.equal(figures.length, surface.side_metrics.length);
    });
    assert.deepEqual(surface.side_metrics, ['perf_context_switches', 'perf_cpu_clock'], file);
  }
});

test('the captured surface: replay draws only captured runs', () => {
  const surface = JSON.parse(readFileSync('tests/fixtures/search/surface.json', 'utf8')) as { space: SpaceSpec; side_metrics: string[]; candidates: Array<{ name: string; placement: number[]; runs: number[]; side: Array<Array<number | null>> }>; provenance: { captured_by: string } };
  const runs = surface.candidates.map((c) => c.runs);
  const seen: number[][] = runs.map(() => []);
  const spy: Strategy = { name: 'spy', next: (h) => { h.forEach((v, c) => (seen[c] = [...v])); return h.size ? undefined : { candidates: [0, 1, 2], repetitions: 5 }; } };
  const r = replay(spy, runs, () => false, 3, { direction: 'max' });
  assert.equal(r.trials, 3);
  assert.equal(r.runs, 15);
  assert.equal(r.trialsToTarget, Infinity);
  for (const c of [0, 1, 2]) {
    assert.equal(seen[c]!.length, 5);
    for (const v of seen[c]!) assert.ok(runs[c]!.includes(v));
  }
  assert.deepEqual(replay(exhaustive(runs.length, 1, 4), runs, (c) => c === 7, 1, { direction: 'max', stopAtTarget: true }).trialsToTarget, exhaustiveOrderOf(runs.length, 4).indexOf(7) + 1);
});

function exhaustiveOrderOf(n: number, seed: number): number[] {
  return exhaustive(n, 1, seed).next(new Map())!.candidates;
}

test('side information: tried candidates carry their standardised median side figure, untried ones the GP prediction of it; fewer than 3 measured, nothing appended', () => {
  const feats = [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]];
  const side = new Map<number, number[][]>([
    [0, [[10, 12, 11], [5]]],
    [1, [[20], [6]]],
    [3, [[40, 44], []]],
  ]);
  const out = withSide(feats, side, 2);
  // Metric 0 measured on 3 candidates: appended; metric 1 on 2: left out.
  assert.equal(out[0]!.length, 3);
  const medians = [11, 20, 42];
  const mu = medians.reduce((a, b) => a + b, 0) / 3;
  const sd = Math.sqrt(medians.reduce((a, v) => a + (v - mu) ** 2, 0) / 2);
  [0, 1, 3].forEach((c, i) => assert.ok(Math.abs(out[c]![2]! - (2 * (medians[i]! - mu)) / sd) < 1e-12, `candidate ${c}`));
  const fit = fitGp([feats[0]!, feats[1]!, feats[3]!], medians.map((m) => (m - mu) / sd))!;
  for (const c of [2, 4]) assert.ok(Math.abs(out[c]![2]! - 2 * fit.predict(feats[c]!).mean) < 1e-12, `untried ${c} gets the prediction`);
  assert.deepEqual(out.map((r) => r.slice(0, 2)), feats, 'the placement features stay first');
  assert.equal(withSide(feats, new Map([[0, [[1]]], [1, [[2]]]]), 1), feats);
  assert.equal(withSide(feats, side, 0), feats, 'weight 0: not used');
});

test('replay hands the strategy each drawn run\'s side figures together with its objective value', () => {
  const runs = [[1, 2, 3], [10, 20, 30]];
  const side = runs.map((r) => r.map((v) => [v * 100, v === 2 ? null : -v]));
  let seen: { history: History; side: ReadonlyMap<number, readonly (readonly number[])[]> | undefined } | undefined;
  const spy: Strategy = { name: 'spy', next: (h, s) => { if (h.size) { seen = { history: new Map(h), side: s && new Map(s) }; return undefined; } return { candidates: [0, 1], repetitions: 6 }; } };
  replay(spy, runs, () => false, 11, { direction: 'max', side });
  assert.ok(seen?.side);
  for (const c of [0, 1]) {
    const values = seen.history.get(c)!;
    const [first, second] = seen.side.get(c)!;
    assert.deepEqual(first, values.map((v) => v * 100), 'metric 0 from the same runs, in order');
    assert.deepEqual(second, values.filter((v) => v !== 2).map((v) => -v), 'a null figure gives none');
  }
  replay(spy, runs, () => false, 11, { direction: 'max' });
  assert.equal(seen.side, undefined, 'no side in the surface: the strategy gets none');
});

test('a trial budget smaller than the space keeps top × rounds trials back: exploring stops there and the leaders are confirmed', async () => {
  const { makeStrategy } = await import('../../src/tune/search/strategy.js');
  const { parseSpecText } = await import('../../src/tune/search/spec.js');
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const specFor = (trials: number, strategy: string) =>
    parseSpecText(`batch: b.yaml\nobjective: {metric: dd_rate_bps, direction: max}\nstrategy: ${strategy}\nrepetitions: 1\nconfirm: {top: 3, rounds: 2}\nbudget: {trials: ${trials}}\ncandidates: [${names.map((n) => `{name: ${n}}`).join(', ')}]\n`, 's.yaml');
  const candidates = names.map((name, i) => ({ name, policy: { name }, parts: [], features: [i % 2, i % 5 === 0 ? 1 : 0] }));
  for (const strategy of ['random', 'model']) {
    const s = makeStrategy(specFor(12, strategy), candidates);
    const history: History = new Map();
    let explored = 0;
    const confirmations: number[][] = [];
    // Candidate i measures i (plus a little noise each time): the search should confirm the highest it saw.
    for (let round = s.next(history), k = 0; round && k < 20; round = s.next(history), k++) {
      if (s.confirming()) confirmations.push(round.candidates);
      else explored += round.candidates.length;
      for (const c of round.candidates) history.set(c, [...(history.get(c) ?? []), c + 0.01 * (history.get(c)?.length ?? 0)]);
    }
    assert.equal(explored, 6, `${strategy}: 12 − 3 × 2 trials explore`);
    assert.ok(confirmations.length >= 1 && confirmations.every((r) => r.length === 3), `${strategy}: confirmation rounds of the top 3: ${JSON.stringify(confirmations)}`);
    const best3 = [...history.keys()].sort((a, b) => b - a).slice(0, 3).sort();
    assert.deepEqual([...confirmations[0]!].sort(), best3);
  }
  // Too small to keep them (12 − 6 < 3 would be left): spent exploring, as before.
  const small = makeStrategy(specFor(8, 'random'), candidates);
  let trials = 0;
  const h: History = new Map();
  for (let round = small.next(h), k = 0; round && trials < 8 && k < 20; round = small.next(h), k++) {
    assert.equal(small.confirming(), false);
    trials += round.candidates.length;
    for (const c of round.candidates) h.set(c, [c]);
  }
  assert.ok(trials >= 8);
});

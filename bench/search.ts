/**
 * bench:search — how many trials each search strategy needs on a REAL
 * response surface: tests/fixtures/search/surface.json, captured once from the
 * testbed by scripts/capture-search-surface.ts (every placement of the space,
 * each with its measured runs). Each strategy is replayed over 200 seeds
 * (src/tune/optimize/replay.ts: a trial draws its runs from the captured ones);
 * the figure is the median number of trials until a candidate within 5% of
 * the best (by mean over all captured runs) is tried, random search measured
 * in the same run as the baseline. Halving vs exhaustive: the runs halving
 * spends to its final choice, beside the runs exhaustive needs (every
 * candidate, r runs each) to make a final choice within 5% as often.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import { exhaustive, halving, random } from '../src/tune/optimize/basic.js';
import { model } from '../src/tune/optimize/model.js';
import { replay } from '../src/tune/optimize/replay.js';
import type { Direction, Strategy } from '../src/tune/optimize/types.js';
import { normaliseSpace } from '../src/tune/space/dimensions.js';
import { features } from '../src/tune/space/features.js';
import type { SpaceSpec } from '../src/tune/space/types.js';

interface Surface {
  provenance: Record<string, unknown>;
  direction: Direction;
  space: SpaceSpec;
  /** The monitor figures captured with each run (side[j][k]: run j, metric k of side_metrics). */
  side_metrics?: string[];
  candidates: Array<{ name: string; placement: number[]; runs: number[]; side?: Array<Array<number | null>> }>;
}

const SEEDS = 200;
const TOLERANCE = 0.05;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Every captured surface: surface.json (3 guests) first, then the others (surface-5.json: 5 guests) when captured. */
const dir = join(packageRoot(), 'tests/fixtures/search');
const files = readdirSync(dir).filter((f) => /^surface(-\d+)?\.json$/.test(f)).sort((a, b) => a.length - b.length || a.localeCompare(b));
const results = files.map((file) => benchSurface(file, JSON.parse(readFileSync(join(dir, file), 'utf8')) as Surface));
const first = results[0]!;
console.log(JSON.stringify({ ...first, surfaces: results }));

function benchSurface(file: string, surface: Surface) {
  const space = normaliseSpace(surface.space);
  const runs = surface.candidates.map((c) => c.runs);
  const n = runs.length;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const means = runs.map(mean);
  const sign = surface.direction === 'max' ? 1 : -1;
  const best = means.reduce((b, m) => (sign * m > sign * b ? m : b), means[0]!);
  const good = (c: number) => (sign > 0 ? means[c]! >= best * (1 - TOLERANCE) : means[c]! <= best * (1 + TOLERANCE));
  const goodCount = means.filter((_, c) => good(c)).length;
  const featureRows = surface.candidates.map((c) => features(space, c.placement));
  const side = surface.side_metrics?.length && surface.candidates.every((c) => c.side?.length === c.runs.length) ? surface.candidates.map((c) => c.side!) : undefined;
  // `model` sees the monitors of its earlier trials (side information) when the surface has them; `model_placement_only` never does.
  const strategies: Record<string, { make: (seed: number) => Strategy; side?: boolean }> = {
    random: { make: (seed) => random(n, 1, seed, 4) },
    exhaustive: { make: (seed) => exhaustive(n, 1, seed) },
    halving: { make: (seed) => halving(n, 1, surface.direction, seed) },
    model: { make: (seed) => model(featureRows, { repetitions: 1, direction: surface.direction, seed }), side: true },
    model_placement_only: { make: (seed) => model(featureRows, { repetitions: 1, direction: surface.direction, seed }) },
  };

  console.log(`\n${file}: ${n} placements of ${space.guests.length} guests, ${runs[0]!.length} captured runs each (${String(surface.provenance.testbed ?? '')})`);
  console.log(`best mean ${best.toPrecision(4)}; ${goodCount} placements within ${TOLERANCE * 100}% of it; side information: ${side ? surface.side_metrics!.join(', ') : 'none in this surface'}`);
  const trialsTo: Record<string, number> = {};
  const started = Date.now();
  for (const [name, { make, side: withSide }] of Object.entries(strategies)) {
    const t0 = Date.now();
    const trials = Array.from({ length: SEEDS }, (_, i) => replay(make(i + 1), runs, good, 1000 + i, { stopAtTarget: true, direction: surface.direction, ...(withSide && side ? { side } : {}) }).trialsToTarget);
    trialsTo[name] = median(trials);
    console.log(`${name.padEnd(10)} median trials to within 5%: ${trialsTo[name]} (p90 ${[...trials].sort((a, b) => a - b)[Math.floor(0.9 * SEEDS)]}; ${((Date.now() - t0) / 1000).toFixed(1)} s for ${SEEDS} seeds)`);
  }

  // Halving against exhaustive at the same quality of final choice.
  const halvingRuns: number[] = [];
  let halvingGood = 0;
  for (let i = 0; i < SEEDS; i++) {
    const r = replay(halving(n, 1, surface.direction, i + 1), runs, good, 5000 + i, { direction: surface.direction });
    halvingRuns.push(r.runs);
    if (r.final !== undefined && good(r.final)) halvingGood++;
  }
  const exhaustiveAt: Array<{ reps: number; runs: number; good: number }> = [];
  for (let reps = 1; reps <= 8; reps++) {
    let ok = 0;
    for (let i = 0; i < SEEDS; i++) {
      const r = replay(exhaustive(n, reps, i + 1), runs, good, 9000 + i, { direction: surface.direction });
      if (r.final !== undefined && good(r.final)) ok++;
    }
    exhaustiveAt.push({ reps, runs: n * reps, good: ok });
    if (ok >= halvingGood) break;
  }
  const matching = exhaustiveAt.find((e) => e.good >= halvingGood);
  const bestExhaustive = exhaustiveAt.reduce((b, e) => (e.good > b.good ? e : b), exhaustiveAt[0]!);
  console.log(`halving: median ${median(halvingRuns)} runs, final choice within 5% in ${halvingGood}/${SEEDS} seeds`);
  for (const e of exhaustiveAt) console.log(`exhaustive × ${e.reps} run(s): ${e.runs} runs, final choice within 5% in ${e.good}/${SEEDS} seeds`);

  const modelRatio = trialsTo.model! / trialsTo.random!;
  const versus = matching
    ? `exhaustive ${matching.runs} at the same share of good final choices`
    : `exhaustive never reached that share with up to ${exhaustiveAt.length} runs per candidate (best ${bestExhaustive.good}/${SEEDS} at ${bestExhaustive.runs} runs)`;
  console.log(`model / random: ${modelRatio.toFixed(2)} (target ≤ 0.5); halving ${median(halvingRuns)} runs vs ${versus} (target ≤); ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  return {
    surface: file,
    space_size: n,
    within_5pct: goodCount,
    seeds: SEEDS,
    trials_to_5pct: trialsTo,
    random_trials: trialsTo.random,
    model_ratio: Number(modelRatio.toFixed(3)),
    side_metrics: side ? surface.side_metrics : [],
    halving_runs: median(halvingRuns),
    halving_good_final: halvingGood / SEEDS,
    exhaustive_runs_same_choice: matching ? matching.runs : null,
    exhaustive_best_good_final: bestExhaustive.good / SEEDS,
    exhaustive_best_runs: bestExhaustive.runs,
  };
}


/**
 * Run order, warm-ups, adaptive rounds and resume, pure: expandPlan with
 * `order:`, nextRound, medianInterval (against SciPy's binomial, computed in
 * the same run), planResume, and the config checks of the new keys.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { MachineMap, PlannedRun, ResolvedBatchConfig, TestSpec } from '../../src/batch/config/types.js';
import { cellKey, expandPlan, medianInterval, nextRound, precision, resolveOrder, shuffle, targetPercent } from '../../src/batch/plan/index.js';
import { planResume } from '../../src/batch/plan/resume.js';
import { parseBatchConfigText } from '../../src/batch/config/index.js';

const LOCAL: MachineMap = { nodes: [{ name: 'local', host: 'local' }] };
const POLICIES = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
const test = (fields: Partial<TestSpec>): TestSpec => ({ name: 't', on: 'nodes', command: 'true', ...fields });
function config(tests: TestSpec[], extra: Partial<ResolvedBatchConfig> = {}): ResolvedBatchConfig {
  return { name: 'b', machines: LOCAL, monitors: [], policies: POLICIES, tests, ...extra };
}
const cell = (r: PlannedRun) => cellKey(r.test, r.params, r.policy);
/** The acceptance batch: 3 policies × 2 params × 4 repetitions. */
const ACCEPTANCE = [test({ params: { x: [1, 2] }, repeat: 4 })];

describe('order: interleaved (the default)', () => {
  const plan = expandPlan(config(ACCEPTANCE));

  it('each repetition runs every cell once before the next repetition starts', () => {
    assert.equal(plan.runs.length, 24);
    assert.deepEqual(plan.order, { kind: 'interleaved' });
    for (let rep = 1; rep <= 4; rep++) {
      const slice = plan.runs.slice((rep - 1) * 6, rep * 6);
      assert.ok(slice.every((r) => r.rep === rep && r.round === rep), `repetition ${rep}: ${slice.map((r) => r.rep)}`);
      assert.equal(new Set(slice.map(cell)).size, 6);
    }
    assert.deepEqual(plan.runs.map((r) => r.position), plan.runs.map((_, i) => i + 1));
  });

  it('rotates the policies one place per repetition: a cyclic Latin square over any 3 repetitions', () => {
    const sequenceOf = (rep: number, x: string) => plan.runs.filter((r) => r.rep === rep && r.params.x === x).map((r) => r.policy).join('');
    assert.deepEqual([1, 2, 3, 4].map((rep) => sequenceOf(rep, '1')), ['abc', 'bca', 'cab', 'abc']);
    assert.deepEqual([1, 2, 3, 4].map((rep) => sequenceOf(rep, '2')), ['abc', 'bca', 'cab', 'abc']);
    for (const place of [0, 1, 2]) assert.deepEqual(new Set([1, 2, 3].map((rep) => sequenceOf(rep, '1')[place])), new Set(['a', 'b', 'c']));
  });

  it('keeps run = the sequential index, whatever the order', () => {
    const sequential = expandPlan(config(ACCEPTANCE, { order: 'sequential' }));
    const key = (r: PlannedRun) => `${cell(r)} #${r.rep}`;
    const indexOf = new Map(sequential.runs.map((r) => [key(r), r.index]));
    for (const r of plan.runs) assert.equal(r.index, indexOf.get(key(r)));
    assert.deepEqual(sequential.runs.map((r) => `${r.params.x}${r.policy}${r.rep}`).slice(0, 5), ['1a1', '1a2', '1a3', '1a4', '1b1']);
  });

  it('tests with fewer repetitions drop out of the later rounds', () => {
    const p = expandPlan(config([test({ name: 'A', repeat: 3 }), test({ name: 'B', repeat: 1 })], { policies: [{ name: 'a' }] }));
    assert.deepEqual(p.runs.map((r) => `${r.test}${r.rep}`), ['A1', 'B1', 'A2', 'A3']);
  });
});

describe('order: random', () => {
  it('a seeded shuffle inside each repetition; the same seed gives the same plan, another seed another one', () => {
    const one = expandPlan(config(ACCEPTANCE, { order: { random: 42 } }));
    const again = expandPlan(config(ACCEPTANCE, { order: { random: 42 } }));
    const other = expandPlan(config(ACCEPTANCE, { order: { random: 43 } }));
    const seq = (p: typeof one) => p.runs.map((r) => r.index);
    assert.deepEqual(one.order, { kind: 'random', seed: 42, seedChosen: false });
    assert.deepEqual(seq(one), seq(again));
    assert.notDeepEqual(seq(one), seq(other));
    for (let rep = 1; rep <= 4; rep++) {
      const slice = one.runs.slice((rep - 1) * 6, rep * 6);
      assert.ok(slice.every((r) => r.rep === rep));
      assert.equal(new Set(slice.map(cell)).size, 6);
    }
    // Not the interleaved or sequential order in every round.
    assert.notDeepEqual(seq(one), seq(expandPlan(config(ACCEPTANCE))));
  });

  it('`random` alone chooses a seed and says so; an explicit seed option makes it reproducible', () => {
    const chosen = resolveOrder('random');
    assert.equal(chosen.kind === 'random' && chosen.seedChosen, true);
    assert.deepEqual(resolveOrder('random', 7), { kind: 'random', seed: 7, seedChosen: false });
    const a = expandPlan(config(ACCEPTANCE, { order: 'random' }), { seed: 7 });
    const b = expandPlan(config(ACCEPTANCE, { order: { random: 7 } }));
    assert.deepEqual(a.runs.map((r) => r.index), b.runs.map((r) => r.index));
  });

  it('shuffle is a permutation and deterministic for a seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s = shuffle(items, 123);
    assert.deepEqual([...s].sort((x, y) => x - y), items);
    assert.deepEqual(shuffle(items, 123), s);
    assert.notDeepEqual(s, items);
  });
});

describe('warmup: N', () => {
  it('N flagged runs per cell come first, in their own rounds, labelled as warm-ups', () => {
    const plan = expandPlan(config([test({ name: 'A', params: { x: [1, 2] }, repeat: 2, warmup: 2 }), test({ name: 'B', warmup: 1 })]));
    const warm = plan.runs.filter((r) => r.warmup);
    assert.equal(warm.length, 2 * 2 * 3 + 3);
    const lastWarm = Math.max(...warm.map((r) => r.position));
    const firstMeasured = Math.min(...plan.runs.filter((r) => !r.warmup).map((r) => r.position));
    assert.equal(lastWarm + 1, firstMeasured);
    // B has one warm-up: it runs in the last warm-up round, right before the measured ones.
    assert.deepEqual([...new Set(plan.runs.filter((r) => r.warmup && r.test === 'B').map((r) => r.round))], [2]);
    assert.deepEqual([...new Set(plan.runs.filter((r) => r.warmup && r.test === 'A').map((r) => r.rep))], [1, 2]);
    assert.equal(warm[0]!.workloads[0]!.label, 'A[x=1] a warmup #1 @local');
    assert.equal(plan.runs.find((r) => !r.warmup)!.workloads[0]!.label, 'A[x=1] a #1 @local');
    // Sequential: per cell, warm-ups then repetitions.
    const seq = expandPlan(config([test({ repeat: 2, warmup: 1 })], { order: 'sequential', policies: [{ name: 'a' }] }));
    assert.deepEqual(seq.runs.map((r) => [r.warmup, r.rep]), [[true, 1], [false, 1], [false, 2]]);
  });
});

describe('adaptive repeat', () => {
  const adaptive = config([test({ params: { x: [1, 2] }, repeat: { min: 3, max: 5, until: { metric: 'm', ci: '5%' } } })]);

  it('plans min repetitions; nextRound adds one repetition of the named cells, continuing index, position and round', () => {
    const plan = expandPlan(adaptive);
    assert.equal(plan.runs.length, 3 * 6);
    const keys = new Set(['t[x=1] b', 't[x=2] c']);
    const round = nextRound(adaptive, plan.order, plan.runs, keys);
    assert.deepEqual(round.map((r) => [cell(r), r.rep, r.round]), [['t[x=1] b', 4, 4], ['t[x=2] c', 4, 4]]);
    assert.deepEqual(round.map((r) => r.index), [19, 20]);
    assert.deepEqual(round.map((r) => r.position), [19, 20]);
    assert.match(round[0]!.workloads[0]!.label, /^t\[x=1\] b #4 @local$/);
    const fifth = nextRound(adaptive, plan.order, [...plan.runs, ...round], new Set(['t[x=2] c']));
    assert.deepEqual(fifth.map((r) => [cell(r), r.rep, r.round, r.index, r.position]), [['t[x=2] c', 5, 5, 21, 21]]);
  });

  it('the median CI from order statistics matches SciPy binom, and exists from n = 6', () => {
    const cases = [5, 6, 7, 10, 20, 47];
    const python = `
import json
from scipy.stats import binom
out = {}
for n in ${JSON.stringify(cases)}:
    ks = [k for k in range(1, n + 1) if binom.cdf(k - 1, n, 0.5) <= 0.025]
    out[n] = None if not ks else {"k": max(ks), "coverage": 1 - 2 * binom.cdf(max(ks) - 1, n, 0.5)}
print(json.dumps(out))`;
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', python], { encoding: 'utf8' })) as Record<string, { k: number; coverage: number } | null>;
    for (const n of cases) {
      const values = Array.from({ length: n }, (_, i) => ((i * 37) % n) + 100); // a permutation of 100..100+n-1
      const ci = medianInterval(values);
      const want = expected[n];
      if (want === null) {
        assert.equal(ci, undefined, `n = ${n}`);
        continue;
      }
      assert.ok(ci, `n = ${n}`);
      assert.equal(ci.low, 100 + want!.k - 1, `n = ${n} low`);
      assert.equal(ci.high, 100 + n - want!.k, `n = ${n} high`);
      assert.ok(Math.abs(ci.coverage - want!.coverage) < 1e-9, `n = ${n} coverage ${ci.coverage} vs ${want!.coverage}`);
    }
    assert.equal(medianInterval([1, 2, 3, 4, 5]), undefined);
  });

  it('precision: half-width relative to the median; too few runs are never precise', () => {
    assert.deepEqual(precision([10, 10, 10], 5), { n: 3, precise: false });
    const p = precision([98, 99, 100, 100, 101, 102], 5);
    assert.equal(p.n, 6);
    assert.ok(Math.abs(p.halfWidthPct! - 2) < 1e-12, String(p.halfWidthPct));
    assert.equal(p.precise, true);
    assert.equal(precision([50, 99, 100, 100, 101, 150], 5).precise, false);
  });

  it('ci is a percentage', () => {
    assert.equal(targetPercent('5%'), 5);
    assert.equal(targetPercent(2.5), 2.5);
    assert.throws(() => targetPercent('five'), /percentage/);
    assert.throws(() => targetPercent('0%'), /percentage/);
  });
});

describe('resume', () => {
  it('re-runs every run without a successful latest attempt, in plan order, as the next attempt, after the last position', () => {
    const plan = expandPlan(config([test({ repeat: 2 })], { policies: [{ name: 'a' }] }));
    const [r1, r2] = plan.runs;
    const row = (run: number, status: string, exitCode: number | null, attempt = 1, role = 'workload') => ({ run, role, status, exitCode, attempt, position: run });
    const result = planResume(plan.runs, [row(r1!.index, 'exited', 0), row(r1!.index, 'killed', null, 1, 'monitor'), row(r2!.index, 'killed', null)]);
    assert.deepEqual(result.done, [r1!.index]);
    assert.deepEqual(result.runs.map((r) => [r.index, r.position]), [[r2!.index, 3]]);
    assert.equal(result.attempts.get(r2!.index), 2);
    // A later successful attempt counts; a non-zero exit does not.
    const later = planResume(plan.runs, [row(1, 'exited', 3), row(1, 'exited', 0, 2), row(2, 'exited', 3), row(2, 'pending', null, 1, 'monitor')]);
    assert.deepEqual(later.done, [1]);
    assert.deepEqual(later.runs.map((r) => r.index), [2]);
    assert.equal(later.attempts.get(2), 2);
  });
});

describe('config: order, warmup, repeat, strict', () => {
  const yaml = (extra: string, testExtra = '') => `name: c\nmachines: {nodes: [{name: local, host: local}]}\n${extra}tests:\n  - name: t\n    command: "true"\n${testExtra}`;

  it('accepts the new keys and keeps them in the resolved config', async () => {
    const resolved = await parseBatchConfigText(yaml('order: {random: 9}\nstrict: true\n', '    warmup: 1\n    repeat: {min: 3, max: 9, until: {metric: iozone_write_kbps, ci: 5%}}\n'), { file: 'c.yaml', env: {} });
    assert.deepEqual(resolved.order, { random: 9 });
    assert.equal(resolved.strict, true);
    assert.deepEqual(resolved.tests[0]!.repeat, { min: 3, max: 9, until: { metric: 'iozone_write_kbps', ci: '5%' } });
    assert.equal(resolved.tests[0]!.warmup, 1);
  });

  it('says what is wrong, and where', async () => {
    const error = (text: string) => parseBatchConfigText(text, { file: 'c.yaml', env: {} }).then(() => assert.fail('accepted'), (e: Error) => e.message);
    assert.match(await error(yaml('order: interleave\n')), /^c\.yaml:3:8: order: expected one of `interleaved`, `sequential`, `random`, got 'interleave'; did you mean `interleaved`\?/);
    assert.match(await error(yaml('', '    repeat: {min: 5, max: 3, until: {metric: m, ci: 5%}}\n')), /c\.yaml:6:\d+: tests\[0\]\.repeat\.max: expected max ≥ min \(5\), got 3/);
    assert.match(await error(yaml('', '    repeat: {min: 3, max: 5, until: {metric: m, ci: lots}}\n')), /tests\[0\]\.repeat\.until\.ci: expected a percentage/);
    assert.match(await error(yaml('', '    warmup: -1\n')), /tests\[0\]\.warmup: expected an integer ≥ 0/);
    assert.match(await error(yaml('strict: yes please\n')), /strict: expected true or false/);
  });
});

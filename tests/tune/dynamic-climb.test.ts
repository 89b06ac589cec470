/**
 * A batch whose policy is `dynamic: {optimizer: hill-climb, ...}` on a real
 * (paused) QEMU guest: the climber moves the guest's threads while the
 * workload runs, every move lands in `dynamic_move` with its measured
 * objective, the moves were really in force mid-run (the workload reads the
 * guest's threads from /proc), and nothing stays pinned or niced afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseBatchConfigText } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { defaultHooks } from '../../src/batch/runner/default-hooks.js';
import { climbPolicyLines, procState, threadComms, withGuestAndStore } from './guests.js';

test('hill-climb policy: moves recorded in dynamic_move, in force during the run, all restored', { timeout: 120_000 }, async () => {
  const name = `climb-${process.pid}`;
  await withGuestAndStore(name, { smp: 2, iothreads: 1 }, async ({ dir, guest: g, store }) => {
    const initial = new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)]));
    // The workload prints the guest's vCPU affinity and main-thread nice every 0.3 s for 6 s.
    const watch = `for i in $(seq 20); do echo "$(grep Cpus_allowed_list /proc/${g.pid}/task/*/status | sort | head -1 | cut -f2) $(cut -d' ' -f19 /proc/${g.pid}/stat)"; sleep 0.3; done`;
    const config = await parseBatchConfigText(
      [
        'name: climb',
        'machines: {nodes: [{name: n1, host: local}]}',
        'tests:',
        '  - name: watch',
        '    on: nodes',
        `    command: ${JSON.stringify(watch)}`,
        'policies:',
        ...climbPolicyLines(name, { interval: '400ms' }),
        '',
      ].join('\n'),
      { file: 'climb.yaml', cwd: dir },
    );
    const plan = expandPlan(config);
    const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }) });
    assert.equal(outcome.ok, true);
    const moves = await store.query(`SELECT run, node, guest, action, "before"::VARCHAR, "after"::VARCHAR, objective_before, objective_after, kept, policy, objective FROM dynamic_move ORDER BY "at"`);
    assert.ok(moves.rows.length >= 2, `moves: ${JSON.stringify(moves.rows)}`);
    for (const [i, [run, node, guest, action, before, after, ob, oa, kept, policy, objective]] of moves.rows.entries()) {
      assert.equal(run, 1);
      assert.equal(node, 'n1');
      assert.equal(guest, name);
      assert.ok(action === 'pin' || action === 'nice');
      assert.notEqual(before, after);
      // The last move may be cut off by the run's end: in force, recorded, with no objective after it.
      assert.ok(Number.isFinite(ob) && (Number.isFinite(oa) || (oa === null && i === moves.rows.length - 1)));
      // A paused guest burns no CPU: no move helps beyond the 5% threshold, so each is undone.
      assert.equal(kept, false);
      assert.equal(policy, 'climb');
      assert.equal(objective, 'cpu_pct');
    }
    assert.deepEqual(moves.rows.slice(0, 2).map((r) => r[3]), ['pin', 'nice'], 'knobs in turn');
    // Mid-run the workload saw the moves: a vCPU pinned to 0 and nice 7 at some point.
    const seen = await store.query(`SELECT l.text FROM line l JOIN process p USING (process_id) WHERE p.role = 'workload' AND l.stream = 'stdout'`);
    const texts = seen.rows.map((r) => String(r[0]));
    assert.ok(texts.some((t) => t.startsWith('0 ')), `a pinned vCPU was seen: ${texts.join(' | ')}`);
    assert.ok(texts.some((t) => t.endsWith(' 7')), `nice 7 was seen: ${texts.join(' | ')}`);
    const tuning = await store.query(`SELECT count(*)::INTEGER, count(restored_at)::INTEGER FROM tuning WHERE policy = 'climb'`);
    assert.ok((tuning.rows[0]![0] as number) > 0);
    assert.equal(tuning.rows[0]![1], tuning.rows[0]![0], 'every tuned thread restored');
    for (const [tid, s] of initial) assert.deepEqual(procState(g.pid, tid), s, `thread ${tid} is back`);
  });
});

test('hill-climb on a monitor column: the objective is the run\'s own vmstat cs over each window; without the monitor, a warning', { timeout: 120_000 }, async () => {
  const name = `climbmon-${process.pid}`;
  await withGuestAndStore(name, { smp: 1, iothreads: 0 }, async ({ dir, guest: g, store }) => {
    const yaml = (monitors: boolean) =>
      [
        'name: climb-monitor',
        'machines: {nodes: [{name: n1, host: local}]}',
        ...(monitors ? ['monitors:', '  - name: vmstat', '    on: nodes', '    command: vmstat -n 1'] : []),
        'tests:',
        '  - name: wait',
        '    on: nodes',
        `    command: sleep ${monitors ? 9 : 1}`,
        'policies:',
        ...climbPolicyLines(name, { objective: 'vmstat_cs', interval: '1500ms', moves: ['nice'], cpus: null }),
        '',
      ].join('\n');
    const run = async (monitors: boolean) => {
      const plan = expandPlan(await parseBatchConfigText(yaml(monitors), { file: 'climb.yaml', cwd: dir }));
      const warnings: string[] = [];
      const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }), onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
      return { outcome, warnings };
    };
    const withMonitor = await run(true);
    assert.equal(withMonitor.outcome.ok, true);
    assert.deepEqual(withMonitor.warnings.filter((w) => w.includes('dynamic.objective')), []);
    const moves = await store.query(`SELECT epoch_ms("at"), objective_before, objective_after, objective, kept FROM dynamic_move WHERE batch_id = $1 ORDER BY "at"`, [withMonitor.outcome.batchId]);
    assert.ok(moves.rows.length >= 1, 'at least one move in 9 s of 1.5 s windows');
    // The climber's figures are means of what vmstat printed in this run: within its range of cs values.
    const cs = await store.query(`SELECT min(cs)::DOUBLE, max(cs)::DOUBLE FROM parsed.vmstat x JOIN process p USING (process_id) WHERE p.batch_id = $1 AND NOT x.since_boot AND NOT x.parse_error`, [withMonitor.outcome.batchId]);
    const [lo, hi] = cs.rows[0] as [number, number];
    for (const [, before, after, objective] of moves.rows) {
      assert.equal(objective, 'vmstat_cs');
      for (const v of [before, after] as number[]) assert.ok(v >= lo && v <= hi, `${v} within vmstat's cs range [${lo}, ${hi}]`);
    }
    const without = await run(false);
    assert.ok(without.warnings.some((w) => /vmstat_cs is read from a vmstat monitor, and this batch has none/.test(w)), without.warnings.join('\n'));
    const after = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE restored_at IS NULL`);
    assert.equal(after.rows[0]![0], 0, 'nothing left tuned');
  });
});

test('a move the end of the run cuts off is recorded (objective_after NULL, not kept) and undone by the restore', { timeout: 60_000 }, async () => {
  const name = `cut-${process.pid}`;
  await withGuestAndStore(name, { smp: 1, iothreads: 0 }, async ({ dir, guest: g, store }) => {
    const initial = new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)]));
    // Two 300 ms windows, then the first move; its 4 s settle outlasts the 2 s workload.
    const config = await parseBatchConfigText(
      ['name: cut', 'machines: {nodes: [{name: n1, host: local}]}', 'tests:', '  - {name: short, on: nodes, command: "sleep 2"}', 'policies:', ...climbPolicyLines(name, { settle: '4s' }), ''].join('\n'),
      { file: 'cut.yaml', cwd: dir },
    );
    const plan = expandPlan(config);
    const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }) });
    assert.equal(outcome.ok, true);
    const moves = await store.query(`SELECT action, "before"::VARCHAR, "after"::VARCHAR, objective_before, objective_after, kept FROM dynamic_move`);
    assert.equal(moves.rows.length, 1, JSON.stringify(moves.rows));
    const [action, before, after, ob, oa, kept] = moves.rows[0]!;
    assert.equal(action, 'pin');
    assert.notEqual(before, after);
    assert.ok(Number.isFinite(ob));
    assert.equal(oa, null);
    assert.equal(kept, false);
    // The tuning it made is in the store, restored, and the guest is as it was.
    const open = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE policy = 'climb' AND restored_at IS NULL`);
    assert.equal(open.rows[0]![0], 0);
    for (const [tid, state] of initial) assert.deepEqual(procState(g.pid, tid), state);
  });
});

/**
 * On the real testbed (heavy: run under the shared lock), as a user would:
 * `expert tune search` over a space of 108 placements of 3 guests finishes
 * within its budget, says how many trials it used and how sure it is, and
 * `--apply` leaves the winner applied until `expert tune restore`; then a
 * batch whose policy is `dynamic: {optimizer: hill-climb, ...}` records its
 * moves and leaves nothing pinned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { expertIn } from '../helpers/cli.js';

const expert = expertIn;

type Thread = { guest: string; tid: number; kind: string; cpus: string; nice: number };
/** The guests' long-lived threads (QEMU's worker threads come and go). */
async function threads(dir: string): Promise<Thread[]> {
  const r = await expert(dir, 'tune', 'discover', '--machines', 'testbed', '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  const nodes = JSON.parse(r.stdout) as Array<{ guests: Array<{ name: string; threads: Array<{ tid: number; kind: string; state: { cpus: string; nice: number } }> }> }>;
  const all = nodes.flatMap((n) => n.guests.flatMap((g) => g.threads.map((t) => ({ guest: g.name, tid: t.tid, kind: t.kind, cpus: t.state.cpus, nice: t.state.nice }))));
  assert.ok(all.some((t) => t.kind === 'vcpu'), 'discovery sees the guests');
  return all.filter((t) => ['vcpu', 'iothread', 'emulator'].includes(t.kind)).sort((a, b) => a.tid - b.tid);
}

test('testbed: a search over 108 placements within its budget, the winner applied and restored; a hill-climb batch records its moves and restores', { timeout: 1_500_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-search-testbed-'));
  try {
    const up = await expert(dir, 'testbed', 'up', '--vms', '3', '--accel', 'tcg');
    assert.equal(up.code, 0, up.stderr);
    writeFileSync(join(dir, 'batch.yaml'), 'name: dd\nmachines: testbed\ntests:\n  - name: dd-write\n    on: vms\n    command: dd if=/dev/zero of=/tmp/dd.tmp bs=64k count=16 conv=fsync\n    timeout: 2m\n');
    writeFileSync(
      join(dir, 'spec.yaml'),
      [
        'batch: batch.yaml',
        'strategy: model',
        'repetitions: 1',
        'round: 2',
        'confirm: {rounds: 1}',
        'budget: {trials: 7, time: 10m}',
        'objective: {metric: dd_rate_bps, direction: max}',
        'space:',
        '  guests:',
        '    vm1: {cpus: [any, 0, 1], nice: [0, 10]}',
        '    vm2: {cpus: [any, 0, 1], nice: [0, 10]}',
        '    vm3: {cpus: [any, 0, 1]}',
        '',
      ].join('\n'),
    );
    const dry = await expert(dir, 'tune', 'search', 'spec.yaml', '--dry-run', '--format', 'json');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /^space: 108 placements of 3 guests/m);

    const before = await threads(dir);
    const search = await expert(dir, 'tune', 'search', 'spec.yaml', '--store', 'search.duckdb', '--format', 'json', '--apply');
    assert.equal(search.code, 0, search.stderr);
    const summary = /^(\d+) trials? of (\d+) distinct candidates? of the 108 in the space \((\d+) runs? in (\d+) rounds?\), ([\d.]+) s, strategy model, ended: (done|trial budget)$/m.exec(search.stderr);
    assert.ok(summary, search.stderr);
    assert.ok(Number(summary[1]) <= 7 && Number(summary[1]) >= 3, summary[0]);
    assert.ok(Number(summary[2]) <= Number(summary[1]), 'confirmation rounds measure candidates again');
    assert.ok(Number(summary[5]) < 600, 'within the time budget');
    assert.match(search.stderr, /^how sure: (sure|fairly sure|not sure): /m);
    const ranking = JSON.parse(search.stdout) as Array<{ policy: string; n: number; median: number }>;
    assert.ok(ranking.length >= 3 && ranking.every((r) => r.median > 0));
    const applied = /^applied (\S+): (\d+)\/(\d+) actions verified; undo with: expert tune restore$/m.exec(search.stderr);
    assert.ok(applied, search.stderr);
    assert.equal(applied[1], ranking[0]!.policy);
    if (ranking[0]!.policy !== 'baseline') {
      assert.ok(Number(applied[3]) > 0 && applied[2] === applied[3]);
      assert.notDeepEqual(await threads(dir), before, 'the winner is in force');
    }
    const restore = await expert(dir, 'tune', 'restore', '--store', 'search.duckdb', '--format', 'json');
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await threads(dir), before, 'restore puts every thread back');

    // The online optimizer: dd in every guest for about 25 s while the climber moves one guest at a time.
    writeFileSync(
      join(dir, 'dyn.yaml'),
      [
        'name: climb',
        'machines: testbed',
        'tests:',
        '  - name: dd-loop',
        '    on: vms',
        '    command: "end=$(( $(date +%s) + 25 )); while [ $(date +%s) -lt $end ]; do dd if=/dev/zero of=/tmp/dd.tmp bs=64k count=16 conv=fsync 2>/dev/null; done; echo done"',
        '    timeout: 3m',
        'policies:',
        '  - name: climb',
        '    dynamic: {optimizer: hill-climb, objective: write_bps, interval: 3s, settle: 1s, moves: [pin, nice]}',
        '',
      ].join('\n'),
    );
    const run = await expert(dir, 'run', 'dyn.yaml', '--store', 'dyn.duckdb');
    assert.equal(run.code, 0, run.stderr);
    const store = await openStore(join(dir, 'dyn.duckdb'), { readOnly: true });
    try {
      const moves = await store.query(`SELECT guest, action, "before"::VARCHAR, "after"::VARCHAR, objective_before, objective_after, kept FROM dynamic_move ORDER BY "at"`);
      assert.ok(moves.rows.length >= 2, JSON.stringify(moves.rows));
      for (const m of moves.rows) {
        assert.ok(['vm1', 'vm2', 'vm3'].includes(String(m[0])));
        assert.ok((m[4] as number) >= 0 && (m[5] as number) >= 0);
        assert.equal(typeof m[6], 'boolean');
      }
      const tuning = await store.query(`SELECT count(*)::INTEGER, count(restored_at)::INTEGER FROM tuning WHERE policy = 'climb'`);
      assert.ok((tuning.rows[0]![0] as number) > 0, 'the moves tuned threads');
      assert.equal(tuning.rows[0]![1], tuning.rows[0]![0], 'and every one was restored');
    } finally {
      await store.close();
    }
    assert.deepEqual(await threads(dir), before, 'nothing left pinned or niced');
  } finally {
    await expert(dir, 'testbed', 'down');
    rmSync(dir, { recursive: true, force: true });
  }
});

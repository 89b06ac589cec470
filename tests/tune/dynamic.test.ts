/**
 * Dynamic policies: a TypeScript function gets a snapshot of the guests at an
 * interval and returns actions; they are applied and recorded like static
 * ones and undone at the end. On paused QEMU guests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalExecutor } from '../../src/batch/local-executor.js';
import { openStore } from '../../src/store/store.js';
import { startDynamicTuning, type Snapshot } from '../../src/tune/dynamic.js';
import { Journal } from '../../src/tune/journal.js';
import { until } from '../helpers/processes.js';
import { procState, startPausedGuest, threadComms } from './guests.js';

test('a dynamic policy sees every guest, its actions land and are recorded, and stop() undoes them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-tune-dyn-'));
  const store = await openStore(join(dir, 'dyn.duckdb'));
  const local = new LocalExecutor();
  const name = `dyn-${process.pid}`;
  const g = await startPausedGuest(name, { smp: 2, iothreads: 1 });
  try {
    const initial = new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)]));
    const seen: Snapshot[] = [];
    const midway: Array<Map<number, { cpus: string; nice: number }>> = [];
    const dynamic = startDynamicTuning({
      nodes: [{ node: 'local', target: { node: 'local', host: 'local' }, executor: local }],
      intervalMs: 150,
      name: 'dyn-policy',
      store,
      batchId: null,
      journal: new Journal(join(dir, 'journal.json')),
      // Tick 0: pin its vCPUs to CPU 0; tick 1: nice every thread; later: nothing.
      policy: (snapshot) => {
        seen.push(snapshot);
        const mine = snapshot.guests.find((x) => x.guest === name);
        if (!mine) return [];
        if (snapshot.tick === 0) return [{ guest: name, pin: { cpus: [0], threads: 'vcpu' } }];
        if (snapshot.tick === 1) return [{ guest: name, nice: 3 }];
        return [];
      },
      onTick: () => {
        midway.push(new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)])));
      },
    });
    await until(() => dynamic.ticks >= 3, 5000);
    const restored = await dynamic.stop();

    const mine = seen[1]!.guests.find((x) => x.guest === name)!;
    assert.equal(mine.pid, g.pid);
    assert.equal(mine.threads, initial.size);
    for (const value of [mine.cpuPct, mine.ioBps, mine.ctxSwitchesPerSec]) assert.ok(Number.isFinite(value) && value >= 0);
    assert.ok(seen[1]!.intervalMs > 0);
    // After tick 1 every thread is niced and the vCPUs are pinned.
    const comms = threadComms(g.pid);
    for (const [tid, s] of midway[1]!) {
      assert.equal(s.nice, 3);
      if (comms.get(tid)!.startsWith('CPU ')) assert.equal(s.cpus, '0');
      else assert.equal(s.cpus, initial.get(tid)!.cpus);
    }
    const rows = await store.query(`SELECT action, count(*)::INTEGER, bool_and(verified), count(restored_at)::INTEGER FROM tuning WHERE policy = 'dyn-policy' GROUP BY action ORDER BY action`);
    assert.deepEqual(rows.rows, [['nice', initial.size, true, initial.size], ['pin', 2, true, 2]]);
    assert.ok(restored.every((r) => r.outcome === 'restored'));
    for (const [tid, s] of initial) assert.deepEqual(procState(g.pid, tid), s);
  } finally {
    await g.stop();
    await local.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

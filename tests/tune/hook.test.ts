/**
 * Tune inside real batches (runBatch + createTuneHook) on paused QEMU guests:
 * policies baseline / pin one guest / pin both to one core, `{guest_pids}`
 * for the workload, `tuning` rows, re-apply catching a thread that appears
 * mid-run, restore after each run, and an interrupted batch that leaves no
 * thread pinned.
 */
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { createTuneHook } from '../../src/tune/hook.js';
import { Journal } from '../../src/tune/journal.js';
import { addIothread, procState, startPausedGuest, threadComms, type PausedGuest } from './guests.js';

let dir: string;
let store: ExpertStore;
const guests: PausedGuest[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-tune-hook-'));
  store = await openStore(join(dir, 'hook.duckdb'));
});
afterEach(async () => {
  for (const g of guests.splice(0)) await g.stop();
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function snapshot(g: PausedGuest): Map<number, { cpus: string; nice: number }> {
  return new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)]));
}

function config(policies: ResolvedBatchConfig['policies'], command: string): ResolvedBatchConfig {
  return {
    name: 'tune-hook-test',
    machines: { nodes: [{ name: 'n1', host: 'local' }] },
    monitors: [],
    tests: [{ name: 'look', on: 'nodes', command }],
    policies,
  };
}

// Braces of the shell are doubled ({{ }}): single braces are batch placeholders.
// Prints "pid tid cpus nice" for every thread of every guest on the node, as the workload sees it mid-run.
const LOOK = `for p in $(echo {guest_pids} | tr , ' '); do for t in /proc/$p/task/*; do s=$(cat $t/stat); set -- \${{s##*) }}; echo "$p \${{t##*/}} $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' $t/status) \${{17}}"; done; done`;

test('baseline / pin one / pin both to one core: applied during the run, recorded, restored after each run', async () => {
  const a = await startPausedGuest(`hook-a-${process.pid}`, { smp: 2, iothreads: 1 });
  guests.push(a);
  const b = await startPausedGuest(`hook-b-${process.pid}`, { smp: 1, iothreads: 0 });
  guests.push(b);
  const initialA = snapshot(a);
  const initialB = snapshot(b);
  const journalPath = join(dir, 'journal-policies.json');
  const plan = expandPlan(config([
    { name: 'baseline' },
    { name: 'pin-one', identify: { vms: [`hook-a-${process.pid}`] }, pin: { cpus: [0] } },
    { name: 'pin-both-to-one', identify: { vms: [`hook-a-${process.pid}`, `hook-b-${process.pid}`] }, pin: { cpus: [1] }, nice: 5 },
  ], LOOK));
  const outcome = await runBatch(plan, { store, hooks: [createTuneHook({ journalPath })] });
  assert.ok(outcome.ok, JSON.stringify(outcome.summary));

  // What the workload saw in each run.
  const seen = await store.query(
    `SELECT p.policy, l.text FROM line l JOIN process p USING (process_id) WHERE p.batch_id = $1 AND l.stream = 'stdout' ORDER BY p.policy, l.seq`,
    [outcome.batchId],
  );
  const during = (policy: string, pid: number) =>
    seen.rows.filter((r) => r[0] === policy).map((r) => String(r[1]).split(' ')).filter((f) => Number(f[0]) === pid).map((f) => ({ tid: Number(f[1]), cpus: f[2], nice: Number(f[3]) }));
  for (const pid of [a.pid, b.pid]) {
    const initial = pid === a.pid ? initialA : initialB;
    assert.deepEqual(during('baseline', pid).map((t) => [t.tid, t.cpus, t.nice]), [...initial].map(([tid, s]) => [tid, s.cpus, s.nice]), 'baseline changes nothing');
  }
  assert.ok(during('pin-one', a.pid).length === initialA.size && during('pin-one', a.pid).every((t) => t.cpus === '0'), 'pin-one pins every thread of hook-a');
  assert.deepEqual(during('pin-one', b.pid).map((t) => t.cpus), [...initialB.values()].map((s) => s.cpus), 'pin-one leaves hook-b alone');
  for (const pid of [a.pid, b.pid]) assert.ok(during('pin-both-to-one', pid).every((t) => t.cpus === '1' && t.nice === 5));

  // The record: one row per thread and action, verified, restored.
  const rows = await store.query(
    `SELECT policy, action, count(*)::INTEGER, bool_and(verified), count(restored_at)::INTEGER FROM tuning WHERE batch_id = $1 GROUP BY ALL ORDER BY ALL`,
    [outcome.batchId],
  );
  const n = initialA.size + initialB.size;
  assert.deepEqual(rows.rows, [
    ['pin-both-to-one', 'nice', n, true, n],
    ['pin-both-to-one', 'pin', n, true, n],
    ['pin-one', 'pin', initialA.size, true, initialA.size],
  ]);
  assert.deepEqual(snapshot(a), initialA, 'hook-a back exactly');
  assert.deepEqual(snapshot(b), initialB, 'hook-b back exactly');
  assert.deepEqual(await new Journal(journalPath).entries(), []);
});

test('reapply catches a thread that appears during the run; it is restored too', async () => {
  const qmp = join(dir, 'qmp.sock');
  const g = await startPausedGuest(`hook-late-${process.pid}`, { smp: 1, iothreads: 0, qmpSocket: qmp });
  guests.push(g);
  const initial = snapshot(g);
  let added = false;
  const hook = createTuneHook({
    journalPath: join(dir, 'journal-late.json'),
    onApplied: () => {
      if (!added) {
        added = true;
        void addIothread(qmp, 'late');
      }
    },
  });
  // The new thread inherits the pinned main thread's affinity, so only the record shows that reapply caught it.
  const plan = expandPlan(config([{ name: 'pin-reapply', identify: { vms: [`hook-late-${process.pid}`] }, pin: { cpus: [0] }, nice: 3, reapply: '200ms' }], 'sleep 2.5'));
  const outcome = await runBatch(plan, { store, hooks: [hook] });
  assert.ok(outcome.ok);
  const late = [...threadComms(g.pid)].find(([, comm]) => comm === 'IO late');
  assert.ok(late, 'the iothread exists');
  const row = await store.query(`SELECT action, verified, restored_at IS NOT NULL FROM tuning WHERE batch_id = $1 AND tid = $2 ORDER BY action`, [outcome.batchId, late[0]]);
  assert.deepEqual(row.rows, [['nice', true, true], ['pin', true, true]]);
  for (const [tid, s] of initial) assert.deepEqual(procState(g.pid, tid), s);
  assert.deepEqual(procState(g.pid, late[0]), initial.get(g.pid), 'the late thread gets the untuned state of the main thread it was created from');
});

test('an interrupted batch leaves no thread pinned', async () => {
  const g = await startPausedGuest(`hook-int-${process.pid}`, { smp: 2, iothreads: 1 });
  guests.push(g);
  const initial = snapshot(g);
  const controller = new AbortController();
  const journalPath = join(dir, 'journal-int.json');
  let pinnedMidRun = false;
  const hook = createTuneHook({
    journalPath,
    onApplied: (results) => {
      pinnedMidRun = results.length > 0 && [...threadComms(g.pid).keys()].every((tid) => procState(g.pid, tid).cpus === '0');
      setTimeout(() => controller.abort(), 300);
    },
  });
  const plan = expandPlan(config([{ name: 'pin-then-stop', identify: { vms: [`hook-int-${process.pid}`] }, pin: { cpus: [0] }, nice: 7 }], 'sleep 30'));
  const outcome = await runBatch(plan, { store, hooks: [hook], signal: controller.signal });
  assert.ok(pinnedMidRun, 'the policy was in force before the interrupt');
  assert.equal(outcome.summary.status ?? (await store.query('SELECT status FROM batch WHERE batch_id = $1', [outcome.batchId])).rows[0]![0], 'interrupted');
  assert.deepEqual(snapshot(g), initial, 'every thread back after the interrupt');
  assert.deepEqual(await new Journal(journalPath).entries(), []);
});

test('threads a crashed earlier run left tuned are restored when the next batch starts', async () => {
  const name = `hook-orphan-${process.pid}`;
  const g = await startPausedGuest(name, { smp: 1, iothreads: 0 });
  guests.push(g);
  const initial = snapshot(g);
  const journalPath = join(dir, 'journal-orphan.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/tune/crash-child.ts', join(dir, 'orphan.duckdb'), journalPath, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('applied') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  }
  assert.ok([...snapshot(g).values()].every((s) => s.nice === 9), 'left tuned by the dead process');
  const outcome = await runBatch(expandPlan(config([{ name: 'baseline' }], 'true')), { store, hooks: [createTuneHook({ journalPath })] });
  assert.ok(outcome.ok);
  assert.deepEqual(snapshot(g), initial);
  assert.deepEqual(await new Journal(journalPath).entries(), []);
});

test('a policy that matches no thread (an IOThread pin on a guest without IOThreads) is said once per batch, with the nodes it looked on; its runs are untreated', async () => {
  const a = await startPausedGuest(`hook-w-${process.pid}`, { smp: 1, iothreads: 0 });
  guests.push(a);
  const before = snapshot(a);
  const plan = expandPlan({ ...config([{ name: 'ghost', identify: { vms: [a.name] }, pin: { cpus: [0], threads: 'iothread' } }], 'true'), tests: [{ name: 'look', on: 'nodes', command: 'true', repeat: 2 }] });
  const warnings: string[] = [];
  const outcome = await runBatch(plan, { store, hooks: [createTuneHook({ journalPath: join(dir, 'warn-journal.json') })], onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
  assert.equal(outcome.ok, true, JSON.stringify({ outcome, warnings }));
  const said = warnings.filter((w) => w.includes("policy 'ghost' changed nothing"));
  assert.equal(said.length, 1, `once for both runs: ${warnings.join(' | ')}`);
  assert.match(said[0]!, /no guest thread on n1 matched its identify \(see expert tune discover\); its runs are untreated/);
  const tuning = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE batch_id = $1`, [outcome.batchId]);
  assert.equal(tuning.rows[0]![0], 0);
  assert.deepEqual(snapshot(a), before, 'the guest that is there was not touched');
});

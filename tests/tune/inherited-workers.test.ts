/**
 * QEMU starts its thread pool's `worker` threads as I/O needs them, and a new
 * worker takes the affinity and nice of the thread that made it: while a guest
 * is tuned, the tuned ones. Through the real CLI on a real (paused) QEMU with
 * a disk: `expert tune apply` pins and renices the guest, a disk write makes a
 * new worker that inherits both, and `expert tune restore` sets that worker
 * back like the guest's main thread, though it was never journaled; rows of
 * threads that ended meanwhile get restored_at.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { inheritedWorkers } from '../../src/tune/inherited-workers.js';
import type { JournalEntry } from '../../src/tune/journal.js';
import type { ThreadInfo } from '../../src/tune/types.js';
import { expert } from '../helpers/cli.js';
import { until } from '../helpers/processes.js';
import { diskWrite, procState, startPausedGuest, threadComms, type PausedGuest } from './guests.js';

const ONLINE = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
const skip = ONLINE === '0' ? 'needs two CPUs' : undefined;
const GUEST = `workers-${process.pid}`;
let dir: string;
let guest: PausedGuest;
let qmp: string;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'expert-workers-'));
  qmp = join(dir, 'qmp.sock');
  const disk = join(dir, 'disk.img');
  writeFileSync(disk, '');
  truncateSync(disk, 8 << 20);
  guest = await startPausedGuest(GUEST, { smp: 1, iothreads: 0, qmpSocket: qmp, disk });
});
after(async () => {
  if (skip) return;
  await guest.stop();
  rmSync(dir, { recursive: true, force: true });
});

const workers = () => [...threadComms(guest.pid)].filter(([, comm]) => comm === 'worker').map(([tid]) => tid);

test('a worker QEMU starts while the guest is tuned inherits the tuning; restore sets it back like the main thread', { skip, timeout: 90_000 }, async () => {
  const store = join(dir, 'w.duckdb');
  const journal = join(dir, 'journal.json');
  writeFileSync(join(dir, 'pin.yaml'), `name: pin0\nidentify: {vms: [${GUEST}]}\npin: {cpus: [0]}\nnice: 5\n`);
  // A store to record in: tune apply records into an existing one.
  writeFileSync(join(dir, 'b.yaml'), 'name: b\ntests: [{name: t, on: nodes, command: "true"}]\n');
  assert.equal((await expert('run', join(dir, 'b.yaml'), '--store', store)).code, 0);
  const main = procState(guest.pid, guest.pid);
  const applied = await expert('tune', 'apply', join(dir, 'pin.yaml'), '--store', store, '--journal', journal, '--format', 'json');
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(procState(guest.pid, guest.pid), { cpus: '0', nice: 5 });

  // The pool's first worker (made at start-up) ends once idle; the next write makes a new one from the tuned main thread.
  const old = new Set(workers());
  assert.ok(await until(() => workers().every((t) => !old.has(t)), 20_000), 'the idle worker ended');
  await diskWrite(qmp);
  assert.ok(await until(() => workers().some((t) => !old.has(t)), 5000), 'the write started a worker');
  const fresh = workers().filter((t) => !old.has(t));
  assert.equal(fresh.length, 1, `one new worker: ${workers().join(',')}`);
  assert.deepEqual(procState(guest.pid, fresh[0]!), { cpus: '0', nice: 5 }, 'it inherited the tuning');

  const restored = await expert('tune', 'restore', '--store', store, '--journal', journal, '--format', 'json');
  assert.equal(restored.code, 0, restored.stderr);
  const rows = JSON.parse(restored.stdout) as Array<{ tid: number; kind: string; outcome: string }>;
  assert.deepEqual(rows.find((r) => r.tid === fresh[0]), { node: 'local', guest: GUEST, tid: fresh[0], kind: 'worker', outcome: 'restored', error: '' });
  for (const [tid] of threadComms(guest.pid)) assert.deepEqual(procState(guest.pid, tid), main, `thread ${tid} back like the main thread`);

  // The journaled first worker ended on its own: its rows say so by restored_at, none is left open.
  const s = await openStore(store, { readOnly: true });
  try {
    const open = await s.query('SELECT tid, action FROM tuning WHERE restored_at IS NULL');
    assert.deepEqual(open.rows, []);
  } finally {
    await s.close();
  }
});

test('pure: only untracked workers of a process tuned by pin or nice, and only those not like its main thread', () => {
  const state = (cpus: string, nice = 0) => ({ cpus, nice, schedPolicy: 0, rtPriority: 0 });
  const thread = (pid: number, tid: number, kind: ThreadInfo['kind'], cpus: string, nice = 0): ThreadInfo => ({ pid, tid, comm: kind, kind, startTime: tid, state: state(cpus, nice) });
  const entry = (pid: number, tid: number, kinds: JournalEntry['kinds']): JournalEntry => ({ node: 'n', target: { node: 'n', host: 'local' } as JournalEntry['target'], batchId: 1, policy: 'p', guest: `g${pid}`, pid, tid, startTime: tid, threadKind: 'emulator', kinds, before: state('0-1'), appliedAt: 0, owner: { pid: 1 } });
  const threads = [
    thread(10, 10, 'emulator', '0-1'), thread(10, 11, 'worker', '0', 5), thread(10, 12, 'worker', '0-1'), thread(10, 13, 'worker', '0'), thread(10, 14, 'vcpu', '1'),
    thread(20, 20, 'emulator', '0-1'), thread(20, 21, 'worker', '0'),
    thread(30, 30, 'emulator', '0-1'), thread(30, 31, 'worker', '0'),
  ];
  const found = inheritedWorkers([entry(10, 10, ['pin', 'nice']), entry(10, 13, ['pin']), entry(20, 20, ['ionice'])], threads);
  // 11 differs (reset); 12 is like its main thread; 13 is journaled (restored as such); 14 is not a worker; 20 was not pinned or reniced; 30 not restored here.
  assert.deepEqual(found.map((f) => [f.guest, f.worker.tid, f.main.tid]), [['g10', 11, 10]]);
});

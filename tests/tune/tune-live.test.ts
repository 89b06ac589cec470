/**
 * Tune against real paused QEMU guests on this machine: discovery, apply
 * (pin + nice land on every thread, read back from /proc), exact restore,
 * hostile names, a node without taskset, a guest that exits mid-tuning.
 */
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalExecutor } from '../../src/batch/local-executor.js';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { discoverNode } from '../../src/tune/discover.js';
import { Journal } from '../../src/tune/journal.js';
import { applyPolicy } from '../../src/tune/session.js';
import { restoreEntries } from '../../src/tune/restore.js';
import { parseWindow } from '../../src/tune/hook.js';
import { sameCpuSet } from '../../src/tune/cpu-list.js';
import { sampleIoRates } from '../../src/tune/sample.js';
import { BusyboxNode } from './busybox-node.js';
import { procState, startPausedGuest, threadComms, type PausedGuest } from './guests.js';

const HOSTILE = `vm "q" 'x' $(touch /tmp/expert-pwned) ;rm -rf ~ ,y ${process.pid}`;
const local = new LocalExecutor();
const target = { node: 'local', host: 'local' };
let dir: string;
let store: ExpertStore;
const guests: PausedGuest[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-tune-'));
  store = await openStore(join(dir, 'tune.duckdb'));
});

afterEach(stopGuests);

after(async () => {
  await stopGuests();
  await local.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function guest(name: string, options = {}): Promise<PausedGuest> {
  const g = await startPausedGuest(name, options);
  guests.push(g);
  return g;
}

/** Each test stops its guests at its end, so names never collide across tests. */
async function stopGuests(): Promise<void> {
  for (const g of guests.splice(0)) await g.stop();
}

function states(g: PausedGuest): Map<number, { cpus: string; nice: number }> {
  return new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)]));
}

function expectedKind(pid: number, tid: number, comm: string): string {
  if (/^CPU \d+\//.test(comm)) return 'vcpu';
  if (tid === pid) return 'emulator';
  // The monitor's own iothread is not a disk's IOThread.
  if (/^IO /.test(comm) && comm !== 'IO mon_iothread') return 'iothread';
  return 'other';
}

test('discovery lists every thread of every guest with its kind (system sh and busybox)', async () => {
  const a = await guest(`tune-a-${process.pid}`, { smp: 2, iothreads: 2 });
  const b = await guest(HOSTILE, { smp: 1, iothreads: 1 });
  const busybox = new BusyboxNode('mini');
  try {
    for (const executor of [local, busybox]) {
      const d = await discoverNode(executor, 'local');
      for (const g of [a, b]) {
        const found = d.guests.find((x) => x.pid === g.pid);
        assert.ok(found, `${executor.name}: guest pid ${g.pid} found`);
        assert.equal(found.name, g.name);
        const comms = threadComms(g.pid);
        assert.deepEqual(found.threads.map((t) => t.tid).sort(), [...comms.keys()].sort());
        for (const t of found.threads) assert.equal(t.kind, expectedKind(g.pid, t.tid, comms.get(t.tid)!), `${t.comm}`);
      }
      assert.equal(d.topology.cpus.length, Number(execFileSync('nproc').toString()));
    }
  } finally {
    await busybox.close();
  }
  assert.throws(() => execFileSync('test', ['-e', '/tmp/expert-pwned']), 'a hostile name never runs');
});

test('pin + nice land on every thread of the chosen guest; restore puts back exactly what was there', async () => {
  const a = await guest(`tune-pin-${process.pid}`, { smp: 2, iothreads: 1 });
  const other = await guest(`tune-bystander-${process.pid}`, { smp: 1, iothreads: 0 });
  // Start from a non-default state so "restore" cannot pass by resetting to defaults.
  const tids = [...threadComms(a.pid).keys()];
  execFileSync('taskset', ['-p', '-c', '1', String(tids[1])], { stdio: 'ignore' });
  execFileSync('renice', ['3', '-p', String(tids[2])], { stdio: 'ignore' });
  const initial = states(a);
  const bystander = states(other);
  const journal = new Journal(join(dir, 'journal-pin.json'));

  const applied = await applyPolicy([{ node: 'local', target, executor: local }], { name: 'pin-nice', identify: { vms: [`tune-pin-${process.pid}`] }, pin: { cpus: [0] }, nice: 5 }, { store, batchId: null, journal }, parseWindow);
  assert.equal(applied.results.length, tids.length * 2);
  assert.ok(applied.results.every((r) => r.verified), JSON.stringify(applied.results.filter((r) => !r.verified)));
  for (const [tid, s] of states(a)) {
    assert.equal(s.cpus, '0', `tid ${tid} pinned`);
    assert.equal(s.nice, 5, `tid ${tid} reniced`);
  }
  assert.deepEqual(states(other), bystander, 'the other guest is untouched');
  const rows = await store.query(`SELECT count(*)::INTEGER, count(*) FILTER (WHERE verified)::INTEGER FROM tuning WHERE policy = 'pin-nice'`);
  assert.deepEqual(rows.rows[0], [tids.length * 2, tids.length * 2]);
  assert.equal((await journal.entries()).length, tids.length);

  const restored = await restoreEntries(await journal.entries(), { executorFor: async () => local, journal, storeFor: () => store });
  assert.ok(restored.every((r) => r.outcome === 'restored'), JSON.stringify(restored));
  const now = states(a);
  for (const [tid, s] of initial) {
    assert.ok(sameCpuSet(now.get(tid)!.cpus, s.cpus), `tid ${tid} affinity back to ${s.cpus}`);
    assert.equal(now.get(tid)!.cpus, s.cpus);
    assert.equal(now.get(tid)!.nice, s.nice, `tid ${tid} nice back to ${s.nice}`);
  }
  assert.deepEqual(await journal.entries(), []);
  const open = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE policy = 'pin-nice' AND restored_at IS NULL`);
  assert.equal(open.rows[0]![0], 0);
});

test('hostile guest names are matched literally and recorded as they are', async () => {
  const g = await guest(HOSTILE, { smp: 1, iothreads: 0 });
  const journal = new Journal(join(dir, 'journal-hostile.json'));
  const applied = await applyPolicy([{ node: 'local', target, executor: local }], { name: 'hostile', identify: { vms: [HOSTILE] }, nice: 2 }, { store, batchId: null, journal }, parseWindow);
  assert.ok(applied.results.length > 0 && applied.results.every((r) => r.verified && r.guest === HOSTILE && r.pid === g.pid));
  const rows = await store.query(`SELECT DISTINCT guest FROM tuning WHERE policy = 'hostile'`);
  assert.deepEqual(rows.rows, [[HOSTILE]]);
  await restoreEntries(await journal.entries(), { executorFor: async () => local, journal });
  for (const [, s] of states(g)) assert.equal(s.nice, 0);
});

test('a node without taskset: pin is recorded as failed with the reason, nice still applies, nothing crashes', async () => {
  const g = await guest(`tune-notaskset-${process.pid}`, { smp: 1, iothreads: 0 });
  const node = new BusyboxNode('mini-no-taskset', { userland: 'system', withoutApplets: ['taskset'] });
  const journal = new Journal(join(dir, 'journal-notaskset.json'));
  try {
    const applied = await applyPolicy([{ node: 'mini', target: { node: 'mini', host: 'local' }, executor: node }], { name: 'no-taskset', identify: { vms: [`tune-notaskset-${process.pid}`] }, pin: { cpus: [0] }, nice: 4 }, { store, batchId: null, journal }, parseWindow);
    const pins = applied.results.filter((r) => r.action === 'pin');
    assert.ok(pins.length > 0 && pins.every((r) => !r.verified && /taskset is not installed/.test(r.error ?? '')), JSON.stringify(pins));
    assert.ok(applied.results.filter((r) => r.action === 'nice').every((r) => r.verified));
    const rows = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE policy = 'no-taskset' AND action = 'pin' AND NOT verified AND json_extract_string("after", '$.error') LIKE '%taskset is not installed%'`);
    assert.equal(rows.rows[0]![0], pins.length);
    // Restoring the pin fails the same clear way; nice comes back.
    const restored = await restoreEntries(await journal.entries(), { executorFor: async () => node, journal });
    assert.ok(restored.every((r) => r.outcome === 'failed' && /taskset/.test(r.error ?? '')));
    for (const [, s] of states(g)) assert.equal(s.nice, 0);
    await restoreEntries(await journal.entries(), { executorFor: async () => local, journal });
    assert.deepEqual(await journal.entries(), []);
  } finally {
    await node.close();
  }
});

test('a guest that exits during tuning is recorded, and the others are still tuned', async () => {
  const leaving = await guest(`tune-leaving-${process.pid}`, { smp: 1, iothreads: 0 });
  const staying = await guest(`tune-staying-${process.pid}`, { smp: 1, iothreads: 0 });
  const journal = new Journal(join(dir, 'journal-exit.json'));
  // An executor that stops the guest between discovery and the apply script.
  let calls = 0;
  const racing = {
    name: 'racing',
    start: local.start.bind(local),
    close: async () => undefined,
    async exec(command: string, options?: { timeoutMs?: number; stdin?: string | Buffer }) {
      if (++calls === 2) await leaving.stop();
      return local.exec(command, options);
    },
  };
  const applied = await applyPolicy([{ node: 'local', target, executor: racing }], { name: 'exit-mid', identify: { vms: [`tune-leaving-${process.pid}`, `tune-staying-${process.pid}`] }, nice: 6 }, { store, batchId: null, journal }, parseWindow);
  const gone = applied.results.filter((r) => r.guest === `tune-leaving-${process.pid}`);
  assert.ok(gone.length > 0 && gone.every((r) => !r.verified && /exited/.test(r.error ?? '')), JSON.stringify(gone));
  const kept = applied.results.filter((r) => r.guest === `tune-staying-${process.pid}`);
  assert.ok(kept.length > 0 && kept.every((r) => r.verified));
  assert.ok((await journal.entries()).every((e) => e.guest === `tune-staying-${process.pid}`), 'nothing to restore for a guest that is gone');
  await restoreEntries(await journal.entries(), { executorFor: async () => local, journal });
  for (const [, s] of states(staying)) assert.equal(s.nice, 0);
});

test('ionice and chrt land on every thread and come back exactly (class, level, policy)', async () => {
  const g = await guest(`tune-io-${process.pid}`, { smp: 1, iothreads: 1 });
  const journal = new Journal(join(dir, 'journal-io.json'));
  const ionice = (tid: number) => execFileSync('ionice', ['-p', String(tid)]).toString().trim();
  const policyOf = (tid: number) => execFileSync('chrt', ['-p', String(tid)]).toString().split('\n')[0]!.replace(/^.*: /, '');
  const tids = [...threadComms(g.pid).keys()];
  const before = tids.map((tid) => [ionice(tid), policyOf(tid)]);
  const applied = await applyPolicy([{ node: 'local', target, executor: local }], { name: 'io-sched', identify: { vms: [g.name] }, ionice: { class: 'best-effort', level: 6 }, chrt: { policy: 'batch' } }, { store, batchId: null, journal }, parseWindow);
  assert.ok(applied.results.length === tids.length * 2 && applied.results.every((r) => r.verified), JSON.stringify(applied.results.filter((r) => !r.verified)));
  for (const tid of tids) {
    assert.equal(ionice(tid), 'best-effort: prio 6');
    assert.equal(policyOf(tid), 'SCHED_BATCH');
  }
  const restored = await restoreEntries(await journal.entries(), { executorFor: async () => local, journal });
  assert.ok(restored.every((r) => r.outcome === 'restored'), JSON.stringify(restored));
  assert.deepEqual(tids.map((tid) => [ionice(tid), policyOf(tid)]), before);
});

test('I/O rates from /proc/PID/io: a writer is busy, a sleeper is not (what identify: {top} ranks by)', async () => {
  const writer = spawn('sh', ['-c', `while :; do dd if=/dev/zero of=${join(dir, 'io.tmp')} bs=64k count=16 conv=fsync 2>/dev/null; done`], { stdio: 'ignore' });
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    // The shell's children do the I/O; /proc/PID/io of the shell counts reaped children, so sample its running dd too.
    const rates = await sampleIoRates(local, [writer.pid!, sleeper.pid!], 800);
    const children = execFileSync('sh', ['-c', `cat /proc/${writer.pid}/task/*/children 2>/dev/null || true`]).toString().trim().split(/\s+/).filter(Boolean).map(Number);
    const more = children.length ? await sampleIoRates(local, children, 300) : new Map<number, number>();
    const writerRate = (rates.get(writer.pid!) ?? 0) + [...more.values()].reduce((a, b) => a + b, 0);
    assert.ok(writerRate > 0, `writer rate ${writerRate}`);
    assert.equal(rates.get(sleeper.pid!), 0);
  } finally {
    writer.kill('SIGKILL');
    sleeper.kill('SIGKILL');
  }
});

/**
 * `expert tune discover|apply|restore|search` as a user runs them, on paused
 * QEMU guests. Includes crash recovery: a tuning process killed with -9
 * leaves its journal, and `expert tune restore` puts every thread back.
 */
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { procState, startPausedGuest, threadComms, type PausedGuest } from './guests.js';
import { expert } from '../helpers/cli.js';

let dir: string;
const guests: PausedGuest[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'expert-tune-cli-'));
});
afterEach(async () => {
  for (const g of guests.splice(0)) await g.stop();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as a user would: its own process, stdout and stderr captured. */

function snapshot(g: PausedGuest) {
  return new Map([...threadComms(g.pid).keys()].map((tid) => [tid, procState(g.pid, tid)]));
}

test('tune discover prints every thread (json with topology, csv rows)', async () => {
  const g = await startPausedGuest(`cli-disc-${process.pid}`, { smp: 2, iothreads: 1 });
  guests.push(g);
  const json = await expert('tune', 'discover', '--format', 'json');
  assert.equal(json.code, 0);
  const nodes = JSON.parse(json.stdout) as Array<{ node: string; guests: Array<{ name: string; pid: number; threads: Array<{ tid: number; kind: string }> }>; topology: { cpus: unknown[] } }>;
  const guest = nodes[0]!.guests.find((x) => x.pid === g.pid)!;
  assert.equal(guest.name, `cli-disc-${process.pid}`);
  assert.deepEqual(guest.threads.map((t) => t.tid).sort(), [...threadComms(g.pid).keys()].sort());
  assert.ok(nodes[0]!.topology.cpus.length >= 1);
  const csv = await expert('tune', 'discover', '--format', 'csv');
  const lines = csv.stdout.trim().split('\n').filter((l) => l.includes(`,cli-disc-${process.pid},`));
  assert.equal(lines.length, threadComms(g.pid).size);
  assert.equal(csv.stdout.split('\n')[0], 'node,guest,pid,tid,kind,vcpu,comm,cpus,nice,manager,domain,cgroup,allowed_cpus');
  assert.equal(lines.filter((l) => l.includes(',vcpu,')).length, 2);
});

test('tune apply leaves the policy in force; tune restore undoes it exactly', async () => {
  const g = await startPausedGuest(`cli-apply-${process.pid}`, { smp: 1, iothreads: 1 });
  guests.push(g);
  const initial = snapshot(g);
  const store = join(dir, 'apply.duckdb');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `name: pin-cli\nidentify: {vms: [cli-apply-${process.pid}]}\npin: {cpus: [0], threads: vcpu}\nnice: 4\n`);
  const applied = await expert('tune', 'apply', policy, '--store', store, '--format', 'json');
  assert.equal(applied.code, 0, applied.stderr);
  const rows = JSON.parse(applied.stdout) as Array<{ kind: string; action: string; verified: boolean }>;
  assert.ok(rows.every((r) => r.verified));
  assert.deepEqual(rows.filter((r) => r.action === 'pin').map((r) => r.kind), ['vcpu']);
  for (const [tid, s] of snapshot(g)) {
    assert.equal(s.nice, 4);
    assert.equal(s.cpus, threadComms(g.pid).get(tid)!.startsWith('CPU ') ? '0' : initial.get(tid)!.cpus);
  }
  const restored = await expert('tune', 'restore', '--store', store, '--format', 'csv');
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(snapshot(g), initial);
  const again = await expert('tune', 'restore', '--store', store);
  assert.match(again.stderr, /nothing to restore/);
});

test('bad policy files get one clear message and exit 2', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'name: x\npin: {cpus: [0]}\nnicety: 3\n');
  const r = await expert('tune', 'apply', bad, '--store', join(dir, 'bad.duckdb'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml:3:1: nicety: unknown key `nicety`; did you mean `nice`\?/);
});

test('a tuning process killed with -9: tune restore puts every thread back and marks restored_at', async () => {
  const g = await startPausedGuest(`cli-crash-${process.pid}`, { smp: 2, iothreads: 1 });
  guests.push(g);
  const initial = snapshot(g);
  const store = join(dir, 'crash.duckdb');
  const journal = join(dir, 'crash-journal.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/tune/crash-child.ts', store, journal, `cli-crash-${process.pid}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('applied')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
  for (const [, s] of snapshot(g)) assert.deepEqual(s, { cpus: '1', nice: 9 }, 'left tuned by the dead process');
  assert.ok(existsSync(journal) && JSON.parse(readFileSync(journal, 'utf8')).entries.length === initial.size);
  const r = await expert('tune', 'restore', '--store', store, '--journal', journal);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(g), initial);
  const s = await openStore(store);
  try {
    const open = await s.query(`SELECT count(*)::INTEGER, count(restored_at)::INTEGER FROM tuning WHERE policy = 'crashing'`);
    assert.deepEqual(open.rows[0], [initial.size * 2, initial.size * 2]);
  } finally {
    await s.close();
  }
});

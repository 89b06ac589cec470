/**
 * Pure planning: which threads of which guests get which actions, on a
 * discovery captured from real guests (scripts/capture-tune-fixtures.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDiscovery } from '../../src/tune/discover-parse.js';
import { isNoOpPolicy, planPolicy, validatePolicy } from '../../src/tune/planner.js';
import { buildApplyScript, parseApplyOutput, parseIonice } from '../../src/tune/apply-script.js';
import { restoreActions } from '../../src/tune/actions.js';
import { actionReached } from '../../src/tune/verify.js';

const discovery = parseDiscovery('n1', readFileSync('tests/fixtures/tune/discovery.sh.out', 'utf8'));
const vm1 = discovery.guests.find((g) => g.name === 'fixture-vm1')!;
const odd = discovery.guests.find((g) => g.name.startsWith('fixture "odd"'))!;

test('baseline plans nothing', () => {
  assert.ok(isNoOpPolicy({ name: 'baseline' }));
  assert.deepEqual(planPolicy(discovery, { name: 'baseline' }).threads, []);
});

test('pin one guest: every thread of that guest, no other guest', () => {
  const plan = planPolicy(discovery, { name: 'pin-one', identify: { vms: ['fixture-vm1'] }, pin: { cpus: [0] } });
  assert.deepEqual(plan.guests, ['fixture-vm1']);
  assert.deepEqual(plan.threads.map((t) => t.tid).sort(), vm1.threads.map((t) => t.tid).sort());
  assert.ok(plan.threads.every((t) => t.actions.length === 1 && t.actions[0]!.kind === 'pin' && (t.actions[0] as { cpus: string }).cpus === '0'));
});

test('pin only vCPUs, nice every thread', () => {
  const plan = planPolicy(discovery, { name: 'p', identify: { vms: [vm1.name, odd.name] }, pin: { cpus: [1], threads: 'vcpu' }, nice: 5 });
  const vcpus = [...vm1.threads, ...odd.threads].filter((t) => t.kind === 'vcpu').map((t) => t.tid).sort();
  assert.deepEqual(plan.threads.filter((t) => t.actions.some((a) => a.kind === 'pin')).map((t) => t.tid).sort(), vcpus);
  assert.equal(plan.threads.length, vm1.threads.length + odd.threads.length);
  assert.ok(plan.threads.every((t) => t.actions.some((a) => a.kind === 'nice' && a.nice === 5)));
});

test('identify all, and named guests missing on this node', () => {
  const all = planPolicy(discovery, { name: 'a', identify: { vms: 'all' }, nice: 1 });
  assert.equal(all.guests.length, discovery.guests.length);
  const missing = planPolicy(discovery, { name: 'm', identify: { vms: ['fixture-vm1', 'nope'] }, nice: 1 });
  assert.deepEqual(missing.missing, ['nope']);
});

test('top-k by I/O picks the busiest guests', () => {
  const rates = new Map(discovery.guests.map((g, i) => [g.pid, g.pid === odd.pid ? 1e9 : i]));
  const plan = planPolicy(discovery, { name: 't', identify: { top: { k: 1 } }, nice: 2 }, { ioRates: rates });
  assert.deepEqual(plan.guests, [odd.name]);
});

test('bad policies name what is wrong', () => {
  assert.throws(() => validatePolicy({ name: 'x', pin: { cpus: [] } }), /pin.cpus/);
  assert.throws(() => planPolicy(discovery, { name: 'x', pin: { cpus: [64] } }), /not online on n1/);
  assert.throws(() => validatePolicy({ name: 'x', nice: 40 }), /nice must be/);
  assert.throws(() => validatePolicy({ name: 'x', ionice: { class: 'fast' as never } }), /ionice.class/);
  assert.throws(() => validatePolicy({ name: 'x', chrt: { policy: 'fifo', priority: 0 } }), /chrt.priority/);
});

test('apply script quotes nothing from guest names and parses its own records', () => {
  const plan = planPolicy(discovery, { name: 'p', identify: { vms: [odd.name] }, pin: { cpus: [0] }, nice: 3, ionice: { class: 'idle' } });
  const script = buildApplyScript(plan.threads);
  assert.ok(!script.includes('odd'), 'guest names never reach the shell');
  // stat after the comm: state, fields 4..17, priority (18), nice (19), ...
  const tail = (nice: number) => ['S', ...Array.from({ length: 14 }, () => '0'), '20', String(nice), '1'].join(' ');
  const out = parseApplyOutput([`B\t7\t0-1\t${tail(0)}\tnone: prio 0`, 'E\t7\tpin\ttaskset: failed', `A\t7\t0-1\t${tail(3)}\tidle`, 'G\t8'].join('\n'));
  assert.equal(out.get(7)!.before!.nice, 0);
  assert.equal(out.get(7)!.after!.nice, 3);
  assert.deepEqual(out.get(7)!.after!.ionice, { class: 'idle', level: 0 });
  assert.deepEqual(out.get(7)!.errors, [{ action: 'pin', message: 'taskset: failed' }]);
  assert.equal(out.get(8)!.gone, true);
  assert.deepEqual(parseIonice('best-effort: prio 4'), { class: 'best-effort', level: 4 });
});

test('restore actions return exactly the recorded state', () => {
  const before = { cpus: '1', nice: -3, schedPolicy: 0, rtPriority: 0, ionice: { class: 'best-effort' as const, level: 6 } };
  const actions = restoreActions(before, ['pin', 'nice', 'ionice']);
  assert.ok(actions.every((a) => actionReached(a, before)));
  assert.ok(!actionReached(actions[0]!, { ...before, cpus: '0-1' }));
});

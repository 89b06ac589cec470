/**
 * Search spaces (pure): axes from a `space:`, enumeration under constraints
 * and symmetry (checked against a brute force written independently here),
 * placements as policy parts and names, spec errors at file:line:column, and
 * `expert tune search --dry-run` through the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseSpace } from '../../src/tune/space/dimensions.js';
import { canonicalise, enumerate, reach } from '../../src/tune/space/enumerate.js';
import { placementPolicy } from '../../src/tune/space/placement-policy.js';
import { features } from '../../src/tune/space/features.js';
import { parseSpecText } from '../../src/tune/search/spec.js';
import { dryRun } from '../../src/tune/search/command.js';
import type { SpaceSpec } from '../../src/tune/space/types.js';

const CPUS = ['any', 0, 1] as const;

test('a space of 3 guests × 3 CPU choices × 2 nice levels: 216 raw placements, constraints and symmetry as a brute force counts them', () => {
  const spec: SpaceSpec = {
    guests: { vm1: { cpus: [...CPUS], nice: [0, 5] }, vm2: { cpus: [...CPUS], nice: [0, 5] }, vm3: { cpus: [...CPUS], nice: [0, 5] } },
  };
  const plain = enumerate(normaliseSpace(spec));
  assert.equal(plain.product, 216);
  assert.equal(plain.placements.length, 216);

  // Brute force: each guest a (cpu, nice) pair; 'any' may run on 0 and 1.
  const options = CPUS.flatMap((cpu) => [0, 5].map((nice) => ({ cpu, nice })));
  const on = (cpu: (typeof CPUS)[number]) => (cpu === 'any' ? [0, 1] : [cpu]);
  let limited = 0;
  let apart = 0;
  const classes = new Set<string>();
  for (const a of options) for (const b of options) for (const c of options) {
    const load = [0, 1].map((cpu) => [a, b, c].filter((g) => on(g.cpu).includes(cpu)).length);
    if (Math.max(...load) <= 2) limited++;
    if (!on(a.cpu).some((x) => on(b.cpu).includes(x))) apart++;
    classes.add([a, b, c].map((g) => `${g.cpu}/${g.nice}`).sort().join(' '));
  }
  const withLimit = enumerate(normaliseSpace({ ...spec, constraints: [{ max_guests_per_cpu: 2 }] }));
  assert.equal(withLimit.placements.length, limited);
  assert.equal(withLimit.ruledOut, 216 - limited);
  const withApart = enumerate(normaliseSpace({ ...spec, constraints: [{ apart: ['vm1', 'vm2'] }] }));
  assert.equal(withApart.placements.length, apart);
  // vm1 and vm2 apart: both pinned, to different CPUs (2 ways) × nice² × vm3's 6.
  assert.equal(apart, 2 * 4 * 6);
  const symmetric = enumerate(normaliseSpace({ ...spec, symmetric: [['vm1', 'vm2', 'vm3']] }));
  assert.equal(symmetric.placements.length, classes.size);
  assert.equal(classes.size, 56); // multisets of 3 from 6 choices
  assert.equal(symmetric.symmetric, 216 - 56);
  // Every kept placement is its class's canonical form, and each class once.
  const space = normaliseSpace({ ...spec, symmetric: [['vm1', 'vm2', 'vm3']] });
  const keys = new Set(symmetric.placements.map((p) => JSON.stringify(canonicalise(space, p))));
  assert.equal(keys.size, 56);
  for (const p of symmetric.placements) assert.deepEqual(canonicalise(space, p), p);
});

test('per thread kind: vCPUs and the IOThread placed apart; a guest reaches every CPU unless all its kinds are pinned', () => {
  const space = normaliseSpace({ guests: { vm1: { vcpu: { cpus: [0, 1] }, iothread: { cpus: ['any', 1] } }, vm2: { cpus: [0, 1] } }, cpus: '0-1' });
  assert.deepEqual(space.dimensions.map((d) => `${d.guest}.${d.scope}.${d.knob}`), ['vm1.vcpu.cpus', 'vm1.iothread.cpus', 'vm2.all.cpus']);
  const { placements } = enumerate(space);
  assert.equal(placements.length, 8);
  const p = placementPolicy(space, [0, 1, 1]);
  assert.equal(p.name, 'vm1@vcpu:0;io:1,vm2@1');
  assert.deepEqual(p.parts, [
    { name: p.name, identify: { vms: ['vm1'] }, pin: { cpus: [0], threads: 'vcpu' } },
    { name: p.name, identify: { vms: ['vm1'] }, pin: { cpus: [1], threads: 'iothread' } },
    { name: p.name, identify: { vms: ['vm2'] }, pin: { cpus: [1], threads: 'all' } },
  ]);
  // The emulator thread is not pinned: vm1 may run on both CPUs.
  assert.deepEqual([...reach(space, [0, 1, 1]).get('vm1')!], [0, 1]);
  assert.deepEqual([...reach(space, [0, 1, 1]).get('vm2')!], [1]);
  // Features: 2+2+2 one-hot, guests per CPU sorted (CPU 1: both, CPU 0: vm1), the largest.
  assert.deepEqual(features(space, [0, 1, 1]), [1, 0, 0, 1, 0, 1, 2, 1, 2]);
});

test('names, parts and the baseline: unchanged knobs stay out of the name and out of the parts', () => {
  const space = normaliseSpace({ guests: { a: { cpus: ['any', '0-1'], nice: [0, 10], ionice: ['none', 'idle', { class: 'best-effort', level: 7 }] } } });
  assert.equal(placementPolicy(space, [0, 0, 0]).name, 'baseline');
  assert.deepEqual(placementPolicy(space, [0, 0, 0]).parts, []);
  const p = placementPolicy(space, [1, 1, 2]);
  assert.equal(p.name, 'a@0-1+n10+io-best-effort7');
  assert.deepEqual(p.parts, [{ name: p.name, identify: { vms: ['a'] }, pin: { cpus: [0, 1], threads: 'all' }, nice: 10, ionice: { class: 'best-effort', level: 7 } }]);
  assert.equal(placementPolicy(space, [0, 1, 0]).name, 'a@*+n10');
});

test('space mistakes are reported at file:line:column', () => {
  const head = 'batch: b.yaml\nobjective: {metric: dd_rate_bps, direction: max}\n';
  assert.throws(() => parseSpecText(head + 'space:\n  guests:\n    vm1: {cpus: [any, "0-x"]}\n', 's.yaml'), /s\.yaml:5:\d+: space\.guests\.vm1\.cpus\[1\]: not a CPU list: '0-x'/);
  assert.throws(() => parseSpecText(head + 'space:\n  guests:\n    vm1: {cpus: [0, [0]]}\n', 's.yaml'), /space\.guests\.vm1\.cpus\[1\]: the same choice twice/);
  assert.throws(() => parseSpecText(head + 'space:\n  guests:\n    vm1: {cpus: [0]}\n  symmetric: [[vm1, vm9]]\n', 's.yaml'), /s\.yaml:6:\d+: space\.symmetric\[0\]\[1\]: no guest 'vm9'/);
  assert.throws(() => parseSpecText(head + 'space:\n  guests:\n    vm1: {cpus: [0]}\n    vm2: {cpus: [0, 1]}\n  symmetric: [[vm1, vm2]]\n', 's.yaml'), /'vm2' has other choices than 'vm1'/);
  assert.throws(() => parseSpecText(head + 'space:\n  guests:\n    vm1: {vcpu: {nice: [1]}}\n', 's.yaml'), /s\.yaml:5:\d+: space\.guests\.vm1\.vcpu\.nice: unknown key/);
  assert.throws(() => parseSpecText(head + 'space:\n  guests:\n    vm1: {cpus: [0]}\ncandidates: []\n', 's.yaml'), /space: a space replaces candidates and generate/);
  assert.throws(() => parseSpecText('batch: b.yaml\nobjective: {direction: max}\nspace: {guests: {vm1: {cpus: [0]}}}\n', 's.yaml'), /objective: give either metric/);
});

test('dry run: size, what constraints and symmetry took out, a seeded sample; and through the CLI', () => {
  const text = [
    'batch: {name: b, tests: [{name: t, on: nodes, command: "dd if=/dev/zero of=/dev/null count=1"}]}',
    'objective: {metric: dd_rate_bps, direction: max}',
    'strategy: model',
    'space:',
    '  guests:',
    '    vm1: {cpus: [any, 0, 1], nice: [0, 5]}',
    '    vm2: {cpus: [any, 0, 1], nice: [0, 5]}',
    '    vm3: {cpus: [any, 0, 1], nice: [0, 5]}',
    '    vm4: {cpus: [any, 0, 1]}',
    '  symmetric: [[vm2, vm3]]',
    '  constraints: [{max_guests_per_cpu: 3}]',
    '',
  ].join('\n');
  const spec = parseSpecText(text, 's.yaml');
  const d = dryRun(spec, 5);
  const full = enumerate(normaliseSpace(spec.space!));
  assert.equal(full.product, 648);
  assert.match(d.summary, new RegExp(`^space: ${full.placements.length} placements of 4 guests \\(648 combinations of 7 knobs; ${full.ruledOut} ruled out by constraints, ${full.symmetric} swaps of interchangeable guests left out\\); strategy model$`));
  assert.ok(full.placements.length >= 100 && full.placements.length <= 250, String(full.placements.length));
  assert.equal(d.rows.length, 5);
  assert.deepEqual(dryRun(spec, 5).rows, d.rows, 'the sample is seeded');

  const dir = mkdtempSync(join(tmpdir(), 'expert-space-'));
  try {
    writeFileSync(join(dir, 's.yaml'), text);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tune', 'search', join(dir, 's.yaml'), '--dry-run', '--sample', '5', '--format', 'json', '--store', join(dir, 'none.duckdb')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`space: ${full.placements.length} placements`));
    const rows = JSON.parse(r.stdout) as Array<{ candidate: number; policy: string; applies: string }>;
    assert.deepEqual(rows.map((x) => [x.candidate, x.policy, x.applies]), d.rows);
    assert.ok(rows.some((x) => /vm\d: (pin \d|nice 5)/.test(x.applies)));
    // The space is known before the testbed is up: a dry run does not load the batch's machines.
    writeFileSync(join(dir, 'b.yaml'), 'name: b\nmachines: testbed\ntests: [{name: t, on: vms, command: "dd if=/dev/zero of=/dev/null count=1"}]\n');
    writeFileSync(join(dir, 't.yaml'), text.replace(/^batch: .*$/m, 'batch: b.yaml'));
    const early = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tune', 'search', join(dir, 't.yaml'), '--dry-run', '--sample', '5', '--format', 'json'], { encoding: 'utf8' });
    assert.equal(early.status, 0, early.stderr);
    assert.deepEqual((JSON.parse(early.stdout) as Array<{ candidate: number }>).map((x) => x.candidate), d.rows.map((r) => r[0]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

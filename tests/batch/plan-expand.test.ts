/**
 * expandPlan, pure: matrix (cartesian, zip, exclude), policies, repeat,
 * order, targets, placeholders, labels, and the dry-run rows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MachineMap, ResolvedBatchConfig, TestSpec } from '../../src/batch/config/types.js';
import { expandPlan, paramCombinations, planRows, PLAN_COLUMNS } from '../../src/batch/plan/index.js';
import { fillRuntimePlaceholders, resolveBatchConfig } from '../../src/batch/config/index.js';

const LOCAL: MachineMap = { nodes: [{ name: 'local', host: 'local' }] };
const CLUSTER: MachineMap = {
  nodes: [
    { name: 'node1', host: 'n1.example', user: 'ops', port: 2201, vms: [{ name: 'vm1', port: 10022 }, { name: 'vm2', host: 'g2.example', user: 'root' }] },
    { name: 'node2', host: 'local', vms: [{ name: 'vm1', port: 10023 }] },
  ],
  ssh: { identityFile: '/keys/id', acceptNewHostKeys: true },
};

function config(tests: TestSpec[], extra: Partial<ResolvedBatchConfig> = {}): ResolvedBatchConfig {
  return { name: 'b', machines: LOCAL, monitors: [], policies: [], tests, ...extra };
}
const test = (fields: Partial<TestSpec>): TestSpec => ({ name: 't', on: 'nodes', command: 'true', ...fields });

describe('parameter matrix', () => {
  it('is the cartesian product, first key slowest', () => {
    assert.deepEqual(paramCombinations({ params: { a: [1, 2], b: ['x', 'y', 'z'] } }), [
      { a: '1', b: 'x' }, { a: '1', b: 'y' }, { a: '1', b: 'z' },
      { a: '2', b: 'x' }, { a: '2', b: 'y' }, { a: '2', b: 'z' },
    ]);
  });

  it('a single value is a list of one; no params is one empty combination', () => {
    assert.deepEqual(paramCombinations({ params: { a: 'x', b: [true, false] } }), [{ a: 'x', b: 'true' }, { a: 'x', b: 'false' }]);
    assert.deepEqual(paramCombinations({}), [{}]);
  });

  it('zip groups advance together, crossed with the other keys', () => {
    const combos = paramCombinations({ params: { size: ['16m', '64m', '1g'], reclen: ['4k', '64k', '1m'], mode: ['a', 'b'] }, zip: [['size', 'reclen']] });
    assert.deepEqual(combos, [
      { size: '16m', reclen: '4k', mode: 'a' }, { size: '16m', reclen: '4k', mode: 'b' },
      { size: '64m', reclen: '64k', mode: 'a' }, { size: '64m', reclen: '64k', mode: 'b' },
      { size: '1g', reclen: '1m', mode: 'a' }, { size: '1g', reclen: '1m', mode: 'b' },
    ]);
  });

  it('a zip group sits where its first key is written', () => {
    const combos = paramCombinations({ params: { mode: ['a', 'b'], x: [1, 2], y: [3, 4] }, zip: [['x', 'y']] });
    assert.deepEqual(combos.map((c) => `${c.mode}${c.x}${c.y}`), ['a13', 'a24', 'b13', 'b24']);
  });

  it('two zip groups', () => {
    const combos = paramCombinations({ params: { a: [1, 2], b: [3, 4], c: [5, 6], d: [7, 8] }, zip: [['a', 'b'], ['c', 'd']] });
    assert.deepEqual(combos.map((c) => Object.values(c).join('')), ['1357', '1368', '2457', '2468']);
  });

  it('exclude drops combinations matching every key of a rule (a list matches any of its values)', () => {
    const combos = paramCombinations({ params: { a: [1, 2, 3], b: ['x', 'y'] }, exclude: [{ a: 1, b: 'x' }, { a: [2, 3], b: 'y' }] });
    assert.deepEqual(combos, [{ a: '1', b: 'y' }, { a: '2', b: 'x' }, { a: '3', b: 'x' }]);
  });

  it('exclude compares values as text, so 4 matches "4"', () => {
    assert.deepEqual(paramCombinations({ params: { n: [4, 8] }, exclude: [{ n: '4' }] }), [{ n: '8' }]);
  });

  it('unequal zip lists, unknown keys and duplicates throw with the path', () => {
    assert.throws(() => paramCombinations({ params: { a: [1, 2], b: [1] }, zip: [['a', 'b']] }), (e: any) => e.path.join('.') === 'zip.0' && /a: 2, b: 1/.test(e.message));
    assert.throws(() => paramCombinations({ params: { a: [1] }, exclude: [{ z: 1 }] }), (e: any) => e.path.join('.') === 'exclude.0.z');
    assert.throws(() => paramCombinations({ params: { a: [1, 1] } }), (e: any) => e.path.join('.') === 'params.a.1');
  });
});

describe('expandPlan: runs', () => {
  it('order: sequential runs test → params → policy → rep, indexes from 1, position = index', () => {
    const plan = expandPlan(config(
      [test({ name: 'A', params: { s: [1, 2] }, repeat: 2 }), test({ name: 'B' })],
      { policies: [{ name: 'base' }, { name: 'pin', pin: { cpus: [0] } }], order: 'sequential' },
    ));
    assert.deepEqual(plan.runs.map((r) => r.position), plan.runs.map((r) => r.index));
    assert.deepEqual(plan.runs.map((r) => `${r.index}:${r.test}:${r.params.s ?? '-'}:${r.policy}:${r.rep}`), [
      '1:A:1:base:1', '2:A:1:base:2', '3:A:1:pin:1', '4:A:1:pin:2',
      '5:A:2:base:1', '6:A:2:base:2', '7:A:2:pin:1', '8:A:2:pin:2',
      '9:B:-:base:1', '10:B:-:pin:1',
    ]);
  });

  it('without policies, one baseline policy', () => {
    const plan = expandPlan(config([test({ repeat: 3 })]));
    assert.deepEqual(plan.runs.map((r) => [r.policy, r.rep]), [['baseline', 1], ['baseline', 2], ['baseline', 3]]);
  });

  it('the issue\'s acceptance batch: 2 tests × 2 values × 3 reps = 12 runs, each with its monitor', () => {
    const plan = expandPlan(config(
      [test({ name: 'w1', command: 'dd bs={bs}', params: { bs: ['4k', '1m'] }, repeat: 3 }), test({ name: 'w2', command: 'fio --size={size}', params: { size: ['1m', '4m'] }, repeat: 3 })],
      { monitors: [{ name: 'vmstat', on: 'nodes', command: 'vmstat -n 1' }] },
    ));
    assert.equal(plan.runs.length, 12);
    for (const run of plan.runs) {
      assert.equal(run.monitors.length, 1);
      assert.equal(run.workloads.length, 1);
      assert.equal(run.monitors[0]!.command, 'vmstat -n 1');
      assert.equal(run.monitors[0]!.role, 'monitor');
      assert.equal(run.monitors[0]!.parser, 'vmstat');
    }
  });

  it('is pure: does not change its input, and gives the same plan twice', () => {
    const input = config([test({ params: { a: [1, 2] }, zip: [], exclude: [{ a: 2 }] })], { monitors: [{ name: 'm', on: 'nodes', command: 'm {run}' }] });
    const frozen = deepFreeze(structuredClone(input));
    assert.deepEqual(expandPlan(frozen), expandPlan(structuredClone(input)));
  });
});

describe('expandPlan: targets', () => {
  const on = (placement: TestSpec['on']) =>
    expandPlan(config([test({ on: placement })], { machines: CLUSTER })).runs[0]!.workloads.map((w) => w.target);

  it('nodes: every node, with its own host/user/port and the ssh settings', () => {
    assert.deepEqual(on('nodes'), [
      { node: 'node1', host: 'n1.example', port: 2201, user: 'ops', ssh: CLUSTER.ssh },
      { node: 'node2', host: 'local', ssh: CLUSTER.ssh },
    ]);
  });

  it('vms: every guest; a guest has its own host/port/user, else the node\'s host (local → 127.0.0.1) and user', () => {
    assert.deepEqual(on('vms'), [
      { node: 'node1', vm: 'vm1', host: 'n1.example', port: 10022, user: 'ops', ssh: CLUSTER.ssh },
      { node: 'node1', vm: 'vm2', host: 'g2.example', user: 'root', ssh: CLUSTER.ssh },
      { node: 'node2', vm: 'vm1', host: '127.0.0.1', port: 10023, ssh: CLUSTER.ssh },
    ]);
  });

  it('names: a node, a guest name on every node that has it, node/guest, no duplicates', () => {
    assert.deepEqual(on(['node2', 'vm1', 'node1/vm2', 'node1/vm1']).map((t) => `${t.node}/${t.vm ?? ''}`), ['node2/', 'node1/vm1', 'node2/vm1', 'node1/vm2']);
  });

  it('monitors run on their own targets in every run', () => {
    const plan = expandPlan(config([test({ on: 'vms', repeat: 2 })], {
      machines: CLUSTER,
      monitors: [{ name: 'vmstat', on: 'nodes', command: 'vmstat 1' }, { name: 'top', on: ['vm2'], command: 'top -b' }],
    }));
    for (const run of plan.runs) {
      assert.deepEqual(run.monitors.map((m) => m.label), [`vmstat (run ${run.index}) @node1`, `vmstat (run ${run.index}) @node2`, `top (run ${run.index}) @node1/vm2`]);
      assert.equal(run.workloads.length, 3);
    }
  });
});

describe('expandPlan: processes', () => {
  it('substitutes params and built-ins, shell-quoted', () => {
    const plan = expandPlan(config([test({ name: 'io', on: 'vms', command: 'run {size} {test} {policy} {rep} {run} {node} {vm} {host} {batch}', params: { size: '16m' }, repeat: 2 })], {
      machines: CLUSTER,
      name: 'my batch',
      policies: [{ name: 'pin-one' }],
    }));
    assert.equal(plan.runs[1]!.workloads[1]!.command, "run 16m io pin-one 2 2 node1 vm2 g2.example 'my batch'");
    const onNode = expandPlan(config([test({ command: 'echo [{vm}]' })])).runs[0]!.workloads[0]!.command;
    assert.equal(onNode, "echo ['']");
  });

  it('{{ and }} are literal braces', () => {
    const plan = expandPlan(config([test({ command: "awk '{{print $1}}' {f} ${{HOME}}", params: { f: 'x' } })]));
    assert.equal(plan.runs[0]!.workloads[0]!.command, "awk '{print $1}' x ${HOME}");
  });

  it('leaves run-time placeholders for the runner, who fills them per node', () => {
    const plan = expandPlan(config([test({})], { monitors: [{ name: 'perf', on: 'nodes', command: 'perf stat -x, -I 1000 -p {guest_pids} -t {guest_tids} {run}' }] }));
    const command = plan.runs[0]!.monitors[0]!.command;
    assert.equal(command, 'perf stat -x, -I 1000 -p {guest_pids} -t {guest_tids} 1');
    assert.equal(plan.runs[0]!.monitors[0]!.parser, 'perf-stat');
    assert.equal(fillRuntimePlaceholders(command, { guest_pids: '101,202', guest_tids: '7 8' }), "perf stat -x, -I 1000 -p 101,202 -t '7 8' 1");
    assert.throws(() => fillRuntimePlaceholders(command, { guest_pids: '1' }), /no value for run-time placeholder \{guest_tids\}/);
  });

  it('labels are readable and unique across the batch', () => {
    const plan = expandPlan(config(
      [test({ name: 'iozone-write', on: 'vms', params: { size: ['16m', '64m'], reclen: '64k' }, repeat: 2 }), test({ name: 'plain', on: ['node2'] })],
      { machines: CLUSTER, policies: [{ name: 'baseline' }, { name: 'pin-one' }], monitors: [{ name: 'vmstat', on: 'nodes', command: 'vmstat 1' }], order: 'sequential' },
    ));
    assert.equal(plan.runs[0]!.workloads[1]!.label, 'iozone-write[size=16m,reclen=64k] baseline #1 @node1/vm2');
    assert.equal(plan.runs.at(-1)!.workloads[0]!.label, 'plain pin-one #1 @node2');
    const labels = plan.runs.flatMap((r) => [...r.monitors, ...r.workloads].map((p) => p.label));
    assert.equal(new Set(labels).size, labels.length);
    assert.equal(labels.length, 8 * (2 + 3) + 2 * (2 + 1));
  });

  it('carries timeout (ms), stdin, parser, params, policy and rep', () => {
    const plan = expandPlan(config([
      test({ name: 'a', command: 'iozone -a', timeout: '1m30s', stdin: 'y\n', params: { k: 1 } }),
      test({ name: 'b', command: 'sudo /usr/bin/fio x', timeout: 2 }),
      test({ name: 'c', command: 'my-tool', parser: 'custom', timeout: '1500ms' }),
      test({ name: 'd', command: 'echo' }),
    ]));
    const [a, b, c, d] = plan.runs.map((r) => r.workloads[0]!);
    assert.deepEqual([a!.timeoutMs, a!.stdin, a!.parser, a!.params, a!.policy, a!.rep, a!.role, a!.name], [90_000, 'y\n', 'iozone', { k: '1' }, 'baseline', 1, 'workload', 'a']);
    assert.deepEqual([b!.timeoutMs, b!.parser], [2000, 'fio']);
    assert.deepEqual([c!.timeoutMs, c!.parser], [1500, 'custom']);
    assert.deepEqual([d!.timeoutMs, d!.parser, d!.stdin], [undefined, undefined, undefined]);
  });
});

describe('planRows (--dry-run)', () => {
  it('one row per process, monitors first within a run', async () => {
    const resolved = await resolveBatchConfig({
      name: 'dry',
      machines: { nodes: [{ name: 'local', host: 'local' }] },
      monitors: [{ name: 'vmstat', on: 'nodes', command: 'vmstat -n 1' }],
      tests: [{ name: 'w', on: 'nodes', command: 'echo {n}', params: { n: [1, 2] }, timeout: '5s' }],
    }, { env: {} });
    const { columns, rows } = planRows(expandPlan(resolved));
    assert.deepEqual(columns, [...PLAN_COLUMNS]);
    assert.deepEqual(columns, ['position', 'run', 'test', 'params', 'policy', 'rep', 'warmup', 'role', 'name', 'target', 'host', 'launcher', 'timeout_ms', 'command']);
    assert.deepEqual(rows, [
      [1, 1, 'w', 'n=1', 'baseline', 1, false, 'monitor', 'vmstat', 'local', 'local', 'local', null, 'vmstat -n 1'],
      [1, 1, 'w', 'n=1', 'baseline', 1, false, 'workload', 'w', 'local', 'local', 'local', 5000, 'echo 1'],
      [2, 2, 'w', 'n=2', 'baseline', 1, false, 'monitor', 'vmstat', 'local', 'local', 'local', null, 'vmstat -n 1'],
      [2, 2, 'w', 'n=2', 'baseline', 1, false, 'workload', 'w', 'local', 'local', 'local', 5000, 'echo 2'],
    ]);
  });

  it('the launcher column: srun -w NODE (with the map\'s srun args) for srun nodes, ssh user@host:port for the rest, guests included', async () => {
    const resolved = await resolveBatchConfig({
      name: 'launchers',
      machines: {
        srun: { args: ['--mem=0'] },
        nodes: [
          { name: 'n1', host: '10.0.0.1', launcher: 'srun', vms: [{ name: 'vm1', port: 2201, user: 'root' }] },
          { name: 'b', host: 'b.lab', port: 2222, user: 'alice' },
        ],
      },
      tests: [{ name: 'w', on: ['n1', 'b', 'n1/vm1'], command: 'true' }],
    }, { env: { SLURM_JOB_ID: '7', SLURM_JOB_NODELIST: 'n1' } });
    const { columns, rows } = planRows(expandPlan(resolved));
    const pick = (name: string) => rows.map((r) => r[columns.indexOf(name)]);
    assert.deepEqual(pick('target'), ['n1', 'b', 'n1/vm1']);
    assert.deepEqual(pick('host'), ['10.0.0.1', 'alice@b.lab:2222', 'root@10.0.0.1:2201']);
    assert.deepEqual(pick('launcher'), ['srun -w n1 --mem=0', 'ssh alice@b.lab:2222', 'ssh root@10.0.0.1:2201']);
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The example configs load and expand: examples/local.yaml as is, and
 * examples/quickstart.yaml against the machine map the testbed itself writes
 * (src/testbed/layout.ts machineMapYaml, for 1 node × 2 guests and 2 × 2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBatchConfig } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { machineMapYaml, planLayout } from '../../src/testbed/layout.js';
import type { TestbedState } from '../../src/testbed/state.js';

const root = resolve(import.meta.dirname, '..', '..');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'expert-examples-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function testbedState(nodes: number, vmsPerNode: number): TestbedState {
  let port = 10022;
  return {
    version: 1,
    dir,
    startedAt: '2026-01-01T00:00:00.000Z',
    accel: 'tcg',
    accelReason: 'test',
    qemuVersion: '0',
    image: { hash: 'h', dir, kernelPackage: 'k' },
    options: { vmsPerNode, nodes, memoryMb: 256, cpus: 1, iothread: false, diskMb: 64 },
    identityFile: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    nodes: planLayout(vmsPerNode, nodes).map((layout, n) => ({
      name: layout.node,
      host: nodes === 1 ? 'local' : '127.0.0.1',
      ...(nodes === 1 ? {} : { port: 2300 + n }),
      user: 'me',
      guests: layout.guests.map((name) => ({ name, pid: 1, sshPort: port++, qmpSocket: '', consoleLog: '', dataDisk: '' })),
    })),
  } as TestbedState;
}

describe('example configs', () => {
  it('examples/local.yaml: 2 tests × 2 values × 3 reps on this machine, vmstat beside each run', async () => {
    const plan = expandPlan(await loadBatchConfig(join(root, 'examples', 'local.yaml'), { env: {} }));
    assert.equal(plan.runs.length, 12);
    for (const run of plan.runs) {
      assert.deepEqual([...run.monitors, ...run.workloads].map((p) => p.target.host), ['local', 'local']);
    }
  });

  for (const [nodes, vms] of [[1, 2], [2, 2]] as const) {
    it(`examples/quickstart.yaml on the testbed's own machine map (${nodes} node(s) × ${vms} guests)`, async () => {
      const tb = join(dir, `tb-${nodes}`);
      await rm(tb, { recursive: true, force: true });
      await mkdir(tb, { recursive: true });
      await writeFile(join(tb, 'machines.yaml'), machineMapYaml(testbedState(nodes, vms)));
      const config = await loadBatchConfig(join(root, 'examples', 'quickstart.yaml'), { env: { EXPERT_TESTBED_DIR: tb } });
      assert.equal((config.machines.testbed as { accel: string }).accel, 'tcg');
      const plan = expandPlan(config);
      // 2 iozone sizes + 2 fio block sizes, × 2 policies × 2 reps.
      assert.equal(plan.runs.length, (2 + 2) * 2 * 2);
      for (const run of plan.runs) {
        assert.equal(run.workloads.length, nodes * vms);
        assert.equal(run.monitors.length, nodes);
        for (const w of run.workloads) assert.deepEqual([w.target.host, w.target.user, typeof w.target.port], ['127.0.0.1', 'root', 'number']);
      }
      assert.deepEqual(config.policies.map((p) => p.name), ['baseline', 'pin-one']);
    });
  }
});

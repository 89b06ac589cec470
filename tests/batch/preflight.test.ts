/**
 * Pre-flight checks: the node script run for real on this machine (through
 * the runner's executor pool, host `local`), its answer parsed and compared
 * with what /sys and /proc say when read directly; the judging, pure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createExecutorPool } from '../../src/batch/executor-pool.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { judgeNode, nodeFactsScript, parseCpuList, parseNodeFacts, preflightFailures, runPreflight, type NodeFacts } from '../../src/batch/preflight/index.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';

const config: ResolvedBatchConfig = {
  name: 'preflight',
  machines: { nodes: [{ name: 'local', host: 'local' }] },
  monitors: [],
  tests: [{ name: 't', on: 'nodes', command: 'true' }],
  policies: [{ name: 'baseline' }, { name: 'pin', pin: { cpus: [0] } }],
};

describe('the node script on this machine', () => {
  it('reports what /sys and /proc say', async () => {
    const pool = createExecutorPool();
    try {
      const executor = await pool.get({ node: 'local', host: 'local' });
      const facts = parseNodeFacts((await executor.exec(nodeFactsScript(), { timeoutMs: 10_000 })).stdout);
      assert.equal(facts.cores, Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
      const thpFile = '/sys/kernel/mm/transparent_hugepage/enabled';
      if (existsSync(thpFile)) assert.equal(facts.thp, /\[(\w+)\]/.exec(readFileSync(thpFile, 'utf8'))![1]);
      const siblingsFile = '/sys/devices/system/cpu/cpu0/topology/thread_siblings_list';
      if (existsSync(siblingsFile)) assert.deepEqual(facts.siblings[0], parseCpuList(readFileSync(siblingsFile, 'utf8')));
      const meminfo = readFileSync('/proc/meminfo', 'utf8');
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)![1]);
      assert.ok(Math.abs(facts.swapUsedKb! - (kb('SwapTotal') - kb('SwapFree'))) <= 1024, `swap ${facts.swapUsedKb}`);
      assert.ok(facts.load1! >= 0 && facts.procsRunning! >= 1);
      assert.equal(facts.kvm, existsSync('/dev/kvm') ? (facts.kvm === 'no-access' ? 'no-access' : 'usable') : 'absent');
      const governor = '/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor';
      assert.equal(facts.governors[0], existsSync(governor) ? readFileSync(governor, 'utf8').trim() : undefined);
    } finally {
      await pool.closeAll();
    }
  });

  it('runPreflight judges every node of the plan, with the SMT check for the pinned CPUs', async () => {
    const pool = createExecutorPool();
    try {
      const report = await runPreflight(expandPlan(config), pool);
      const local = report.local!;
      assert.ok(!('error' in local), JSON.stringify(local));
      assert.deepEqual(local.checks.map((c) => c.check), ['governor', 'turbo', 'swap', 'load', 'cpus', 'smt', 'thp', 'virtualization']);
      const smt = local.checks.find((c) => c.check === 'smt')!;
      const siblings = parseCpuList(readFileSync('/sys/devices/system/cpu/cpu0/topology/thread_siblings_list', 'utf8'));
      assert.equal(smt.ok, siblings.length === 1, JSON.stringify(smt));
      // Failures are exactly the checks judged not ok, one line each.
      assert.equal(preflightFailures(report).length, local.checks.filter((c) => c.ok === false).length);
    } finally {
      await pool.closeAll();
    }
  });
});

describe('judging', () => {
  const quiet: NodeFacts = {
    governors: { 0: 'performance', 1: 'performance' },
    noTurbo: 1,
    swapUsedKb: 0,
    load1: 0.1,
    procsRunning: 1,
    cores: 2,
    siblings: { 0: [0], 1: [1] },
    thp: 'madvise',
    kvm: 'usable',
    qemu: ['kvm'],
  };
  const verdicts = (facts: Partial<NodeFacts>, pinnedCpus: number[] = [0], hasGuests = true) =>
    Object.fromEntries(judgeNode({ ...quiet, ...facts }, { pinnedCpus, hasGuests }).map((c) => [c.check, c.ok]));

  it('a quiet, fixed node passes every check', () => {
    assert.deepEqual(verdicts({}), { governor: true, turbo: true, swap: true, load: true, cpus: true, smt: true, thp: true, virtualization: true });
  });

  it('each disturbance fails its own check', () => {
    assert.equal(verdicts({ governors: { 0: 'performance', 1: 'powersave' } }).governor, false);
    assert.equal(verdicts({ noTurbo: 0 }).turbo, false);
    assert.equal(verdicts({ noTurbo: undefined, boost: 1 }).turbo, false);
    assert.equal(verdicts({ swapUsedKb: 2048 }).swap, false);
    assert.equal(verdicts({ load1: 1.5 }).load, false);
    assert.equal(verdicts({ siblings: { 0: [0, 1], 1: [0, 1] } }).smt, false);
    const offline = judgeNode(quiet, { pinnedCpus: [5], hasGuests: true }).find((c) => c.check === 'cpus')!;
    assert.equal(offline.ok, false, 'a CPU the node does not have');
    assert.equal(offline.fatal, true, 'refused whatever strict says');
    assert.match(offline.detail!, /CPU 5, which this node does not have online \(online: 0, 1\)/);
    assert.equal(verdicts({}, [5]).smt, true, 'no SMT advice for a CPU that does not exist');
    assert.equal(verdicts({ thp: 'always' }).thp, false);
    assert.equal(verdicts({ qemu: ['kvm', 'tcg'] }).virtualization, false);
    assert.notEqual(verdicts({ qemu: ['tcg'] }, [0], false).virtualization, false, "QEMU on a node the map gives no guests is not the experiment's");
    assert.equal(verdicts({ kvm: 'absent', qemu: [] }).virtualization, false);
  });

  it('settings a node does not expose are unknown (null), never failures; nothing pinned, no SMT check', () => {
    const v = verdicts({ governors: {}, noTurbo: undefined, thp: undefined, kvm: 'absent', qemu: [] }, [], false);
    assert.deepEqual(v, { governor: null, turbo: null, swap: true, load: true, thp: null, virtualization: null });
  });
});

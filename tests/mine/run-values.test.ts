/**
 * The run as the unit (src/mine/run-values.ts) on a real store: a real batch
 * whose workloads run in two "guests" (real sshd servers on loopback) of one
 * local node beside two paused QEMU guests of the same names, which Tune pins
 * under `pin-one` (real `tuning` rows). A run's total is the sum of its guests'
 * dd rates, its mean their mean, and only the guest the policy changed is
 * `tuned`. A failing workload takes its run out, with the reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBatchConfig } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { createTuneHook } from '../../src/tune/hook.js';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { runValues } from '../../src/mine/run-values.js';
import { metricKind } from '../../src/mine/metric-kind.js';
import { isUserError } from '../../src/errors.js';
import { startNodes, type TestNodes } from '../ssh/harness.js';
import { startPausedGuest, type PausedGuest } from '../tune/guests.js';
import { rows } from '../helpers/store.js';

let nodes: TestNodes;
let dir: string;
let store: ExpertStore;
let batchId: number;
const guests: PausedGuest[] = [];
const A = `rv-a-${process.pid}`;
const B = `rv-b-${process.pid}`;

before(async () => {
  nodes = await startNodes(2, { firstAddress: 40 });
  dir = mkdtempSync(join(tmpdir(), 'expert-run-values-'));
  store = await openStore(join(dir, 'store.duckdb'));
  guests.push(await startPausedGuest(A, { smp: 1, iothreads: 0 }), await startPausedGuest(B, { smp: 1, iothreads: 0 }));
  const config = await resolveBatchConfig(
    {
      name: 'run-values',
      machines: {
        ssh: { config: nodes.configFile, knownHosts: nodes.knownHostsFile, connectRetries: 0 },
        nodes: [{ name: 'n1', host: 'local', vms: [{ name: A, host: nodes.aliases[0]! }, { name: B, host: nodes.aliases[1]! }] }],
      },
      tests: [
        {
          name: 'dd-read',
          on: 'vms',
          // size=bad fails in every guest: those runs have no value.
          command: 'test {size} != bad && head -c {size} /dev/zero | dd of=/dev/null bs=16k',
          params: { size: [262144, 'bad'] },
          repeat: 2,
          parser: 'dd',
        },
      ],
      policies: [{ name: 'baseline' }, { name: 'pin-one', identify: { vms: [A] }, pin: { cpus: [0] } }],
    },
    { file: join(dir, 'batch.yaml'), cwd: dir },
  );
  const outcome = await runBatch(expandPlan(config), { store, hooks: [createTuneHook({ journalPath: join(dir, 'journal.json') })] });
  batchId = outcome.batchId;
});

after(async () => {
  for (const g of guests) await g.stop();
  await store?.close();
  await nodes?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('a run is one value: node total and guest mean of dd rates, from the parsed lines', async () => {
  const values = await runValues(store, [batchId], { metric: 'dd_rate_bps' });
  assert.equal(values.aggregate, 'total', 'a throughput adds up over guests');
  // The same figures straight from parsed.dd, one sum and mean per run.
  const expected = await rows(
    store,
    `SELECT p.run, sum(d.rate_bps) AS total, avg(d.rate_bps) AS mean, count(*)::INTEGER AS guests,
       sum(d.rate_bps) FILTER (WHERE p.vm = $2) AS tuned_candidate
     FROM parsed.dd d JOIN process p USING (process_id)
     WHERE p.batch_id = $1 AND NOT d.parse_error AND p.exit_code = 0 GROUP BY p.run ORDER BY p.run`,
    [batchId, A],
  );
  assert.equal(expected.length, 4, 'two policies × two repetitions of the size that works');
  assert.deepEqual(values.runs.map((r) => r.run), expected.map((e) => Number(e.run)));
  for (const [i, run] of values.runs.entries()) {
    const e = expected[i]!;
    assert.equal(run.guests, 2);
    assert.equal(run.nodes, 1);
    assert.ok(Math.abs(run.total - Number(e.total)) <= 1e-9 * Number(e.total), `run ${run.run} total`);
    assert.ok(Math.abs(run.mean - Number(e.mean)) <= 1e-9 * Number(e.mean), `run ${run.run} mean`);
    assert.equal(run.value, run.total);
    assert.equal(run.test, 'dd-read');
    assert.deepEqual(run.params, { size: '262144' }, 'params as the store keeps them');
    if (run.policy === 'pin-one') {
      assert.equal(run.tuned_guests, 1, 'pin-one changed one guest');
      assert.ok(Math.abs(run.tuned_total - Number(e.tuned_candidate)) <= 1e-9 * run.tuned_total, 'tuned total is the pinned guest alone');
      assert.ok(Math.abs(run.tuned_total + run.untuned_total - run.total) <= 1e-9 * run.total);
    } else {
      assert.equal(run.tuned_guests, 0, 'baseline changes nobody');
      assert.ok(Number.isNaN(run.tuned_total));
    }
  }
  const mean = await runValues(store, [batchId], { metric: 'dd_rate_bps', aggregate: 'mean' });
  assert.deepEqual(mean.runs.map((r) => r.value), mean.runs.map((r) => r.mean));
});

test('the tuned flag comes from verified tuning rows of that run, guest and node', async () => {
  const values = await runValues(store, [batchId], { metric: 'dd_rate_bps' });
  const tunedRows = await rows(store, `SELECT DISTINCT run, guest FROM tuning WHERE batch_id = $1 AND verified ORDER BY run`, [batchId]);
  assert.ok(tunedRows.length > 0 && tunedRows.every((t) => t.guest === A), 'Tune recorded pinning guest A only');
  const flagged = values.guests.filter((g) => g.tuned).map((g) => [g.run, g.guest]);
  const pinOneRuns = values.guests.filter((g) => g.policy === 'pin-one' && g.guest === A).map((g) => [g.run, g.guest]);
  assert.deepEqual(flagged, pinOneRuns);
  assert.deepEqual(tunedRows.map((t) => [Number(t.run), t.guest]), pinOneRuns);
});

test('failed workloads take their run out, saying why; an unknown metric lists the columns', async () => {
  const values = await runValues(store, [batchId], { metric: 'dd_rate_bps' });
  const failedRuns = await rows(store, `SELECT DISTINCT run FROM process WHERE batch_id = $1 AND role = 'workload' AND exit_code <> 0 ORDER BY run`, [batchId]);
  assert.equal(failedRuns.length, 4);
  assert.deepEqual(values.excluded.map((e) => e.run).sort((a, b) => a - b), failedRuns.map((r) => Number(r.run)));
  assert.ok(values.excluded.every((e) => /exit code 1/.test(e.reason)), JSON.stringify(values.excluded));
  await assert.rejects(runValues(store, [batchId], { metric: 'dd_rate' }), (error: unknown) => isUserError(error) && /unknown metric 'dd_rate'.*dd_rate_bps/.test((error as Error).message) && /duration_s/.test((error as Error).message));
});

test("a metric's name says whether it adds up over guests and which way is better", () => {
  const kinds = Object.fromEntries(['dd_rate_bps', 'iozone_write_kbps', 'fio_read_bw_kibps', 'fio_write_iops', 'fio_read_clat_mean_us', 'duration_s', 'vmstat_cs', 'vmstat_bi', 'iostat_wkb_s', 'guest_iostat_wkb_s', 'perf_context_switches', 'sar_cswch_s'].map((m) => [m, metricKind(m)]));
  assert.deepEqual(kinds, {
    dd_rate_bps: { rate: true, lowerIsBetter: false },
    iozone_write_kbps: { rate: true, lowerIsBetter: false },
    fio_read_bw_kibps: { rate: true, lowerIsBetter: false },
    fio_write_iops: { rate: true, lowerIsBetter: false },
    fio_read_clat_mean_us: { rate: false, lowerIsBetter: true },
    duration_s: { rate: false, lowerIsBetter: true },
    vmstat_cs: { rate: false, lowerIsBetter: true },
    vmstat_bi: { rate: false, lowerIsBetter: false },
    iostat_wkb_s: { rate: false, lowerIsBetter: false },
    guest_iostat_wkb_s: { rate: true, lowerIsBetter: false },
    perf_context_switches: { rate: false, lowerIsBetter: true },
    sar_cswch_s: { rate: false, lowerIsBetter: true },
  });
});

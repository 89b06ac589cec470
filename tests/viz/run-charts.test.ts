/**
 * Charts whose points are runs (src/viz/run-charts.ts) on a real store: a
 * real batch whose dd workloads run in two "guests" (real sshd servers on
 * loopback) of one local node, beside two paused QEMU guests of the same
 * names that Tune pins under `pin-one` (real `tuning` rows), with vmstat on
 * the node. Every expected figure is read straight from the stored lines:
 * a run's point is the sum of its guests' dd rates, the two sizes are never in
 * one box, the pinned guest is the only "tuned" one, and "throughput against
 * vmstat" has one point per run and node.
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
import { guestDistributionFigure, nodeRunColumns, runDistributionFigure, runScatterFigure } from '../../src/viz/run-charts.js';
import type { Figure } from '../../src/viz/figure.js';
import { startNodes, type TestNodes } from '../ssh/harness.js';
import { startPausedGuest, type PausedGuest } from '../tune/guests.js';
import { rows } from '../helpers/store.js';

let nodes: TestNodes;
let dir: string;
let store: ExpertStore;
let batchId: number;
const guests: PausedGuest[] = [];
const A = `rc-a-${process.pid}`;
const B = `rc-b-${process.pid}`;

before(async () => {
  nodes = await startNodes(2, { firstAddress: 44 });
  dir = mkdtempSync(join(tmpdir(), 'expert-run-charts-'));
  store = await openStore(join(dir, 'store.duckdb'));
  guests.push(await startPausedGuest(A, { smp: 1, iothreads: 0 }), await startPausedGuest(B, { smp: 1, iothreads: 0 }));
  const config = await resolveBatchConfig(
    {
      name: 'run-charts',
      machines: {
        ssh: { config: nodes.configFile, knownHosts: nodes.knownHostsFile, connectRetries: 0 },
        nodes: [{ name: 'n1', host: 'local', vms: [{ name: A, host: nodes.aliases[0]! }, { name: B, host: nodes.aliases[1]! }] }],
      },
      monitors: [{ name: 'vmstat', on: 'nodes', command: 'vmstat -n 1' }],
      tests: [
        {
          name: 'dd-read',
          on: 'vms',
          // Long enough for vmstat samples inside the run's window.
          command: 'sleep 1.3 && head -c {size} /dev/zero | dd of=/dev/null bs=16k',
          params: { size: [262144, 1048576] },
          repeat: 2,
          parser: 'dd',
        },
      ],
      policies: [{ name: 'baseline' }, { name: 'pin-one', identify: { vms: [A] }, pin: { cpus: [0] } }],
    },
    { file: join(dir, 'batch.yaml'), cwd: dir },
  );
  const outcome = await runBatch(expandPlan(config), { store, hooks: [createTuneHook({ journalPath: join(dir, 'journal.json') })] });
  assert.equal(outcome.ok, true, JSON.stringify(outcome.summary));
  batchId = outcome.batchId;
});

after(async () => {
  for (const g of guests) await g.stop();
  await store?.close();
  await nodes?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** dd's own summary line per workload: bytes / seconds, with its run, policy, size and guest. */
async function ddLines(): Promise<{ run: number; policy: string; size: string; guest: string; rate: number }[]> {
  const lines = await rows(
    store,
    `SELECT p.run, p.policy, p.params, p.vm, l.text FROM line l JOIN process p USING (process_id)
     WHERE p.batch_id = $1 AND p.role = 'workload' AND l.text LIKE '% copied, %' ORDER BY p.process_id`,
    [batchId],
  );
  return lines.map((l) => {
    const m = /^(\d+) bytes .*copied, ([\d.e+-]+) s, /.exec(String(l.text));
    assert.ok(m, String(l.text));
    return { run: Number(l.run), policy: String(l.policy), size: String((JSON.parse(String(l.params)) as { size: unknown }).size), guest: String(l.vm), rate: Number(m[1]) / Number(m[2]) };
  });
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
const sorted = (xs: number[]) => xs.slice().sort((a, b) => a - b);

/** Each trace's panel label ("size=262144"), from the facet annotations. */
function panels(figure: Figure): Map<string, string> {
  const notes = (figure.layout.annotations ?? []) as { text: string }[];
  return new Map(notes.map((a, i) => [i === 0 ? 'x' : `x${i + 1}`, a.text.replace(/^.*?: /, '')]));
}

test('one point per run: the node total of its guests, one panel per size, never pooled', async () => {
  const values = await runValues(store, [batchId], { metric: 'dd_rate_bps' });
  const figure = runDistributionFigure(values, { categories: ['baseline', 'pin-one'] });
  const lines = await ddLines();
  const panelOf = panels(figure);
  assert.deepEqual([...panelOf.values()], ['size=262144', 'size=1048576']);
  const boxes = figure.data.filter((t) => t.type === 'box');
  assert.equal(boxes.length, 4, 'a box per policy in each size panel');
  for (const box of boxes) {
    const size = panelOf.get(String(box.xaxis))!.replace('size=', '');
    const byRun = new Map<number, number>();
    for (const l of lines.filter((x) => x.policy === box.name && x.size === size)) byRun.set(l.run, (byRun.get(l.run) ?? 0) + l.rate);
    const want = sorted([...byRun.values()]);
    const got = sorted(box.y as number[]);
    assert.equal(got.length, 2, `${box.name} at ${size}: two runs, not four guests`);
    got.forEach((v, i) => assert.ok(close(v, want[i]!), `${box.name} ${size}: ${v} vs ${want[i]}`));
  }
  assert.match(String((figure.layout.yaxis as { title: { text: string } }).title.text), /node total per run \(B\/s\)$/);
});

test('guests: coloured by guest, or split into the guest the policy pinned and the others', async () => {
  const values = await runValues(store, [batchId], { metric: 'dd_rate_bps' });
  const lines = await ddLines();
  const byGuest = guestDistributionFigure(values, { categories: ['baseline', 'pin-one'] });
  assert.deepEqual([...new Set(byGuest.data.map((t) => t.name))].sort(), [A, B].sort());
  assert.equal(byGuest.data.reduce((n, t) => n + (t.y as unknown[]).length, 0), lines.length, 'one point per guest and run');

  const byTuned = guestDistributionFigure(values, { by: 'tuned' });
  const tuned = byTuned.data.filter((t) => t.name === 'tuned by the policy');
  const tunedValues = sorted(tuned.flatMap((t) => t.y as number[]));
  const pinned = sorted(lines.filter((l) => l.policy === 'pin-one' && l.guest === A).map((l) => l.rate));
  assert.equal(tunedValues.length, 4, 'A under pin-one, two sizes × two runs');
  tunedValues.forEach((v, i) => assert.ok(close(v, pinned[i]!)));
  assert.ok(tuned.every((t) => (t.x as string[]).every((p) => p === 'pin-one')), 'nobody is tuned under baseline');
});

test('throughput against a monitor: one point per run and node, x the node figure of that run', async () => {
  const values = await runValues(store, [batchId], { metric: 'dd_rate_bps' });
  const cs = await runValues(store, [batchId], { metric: 'vmstat_cs' });
  assert.equal(cs.runs.length, 8, 'every run has vmstat samples in its window');
  const points = nodeRunColumns(values, cs);
  assert.equal(points.run!.length, 8, 'one point per run (one node): not one per guest');
  // x: the node's vmstat cs averaged over each guest's workload window, then over the run's guests, straight from the parsed samples.
  const windows = await rows(
    store,
    `SELECT run, avg(cs) AS cs FROM (
       SELECT w.process_id, w.run, avg(v.cs) AS cs FROM process w
       JOIN process m ON m.batch_id = w.batch_id AND m.role = 'monitor' AND m.run = w.run AND m.host = w.host
       JOIN parsed.vmstat v ON v.process_id = m.process_id AND NOT v.parse_error AND NOT v.since_boot AND v.line_ts >= w.started_at AND v.line_ts <= w.ended_at
       WHERE w.batch_id = $1 AND w.role = 'workload' GROUP BY ALL) GROUP BY run`,
    [batchId],
  );
  const byRun = new Map(windows.map((w) => [Number(w.run), Number(w.cs)]));
  points.run!.forEach((run, i) => {
    assert.ok(close(points.vmstat_cs![i] as number, byRun.get(Number(run))!), `run ${run}: x ${points.vmstat_cs![i]} vs ${byRun.get(Number(run))} from the samples`);
    const total = values.runs.find((r) => r.run === run)!.total;
    assert.ok(close(points.dd_rate_bps![i] as number, total), `run ${run}: y is the node total`);
  });
  const figure = runScatterFigure(values, cs, { categories: ['baseline', 'pin-one'] });
  assert.equal(figure.data.filter((t) => t.mode === 'markers').reduce((n, t) => n + (t.y as unknown[]).length, 0), 8);
  assert.equal(figure.data.filter((t) => t.mode === 'lines').length, 0, 'two runs per policy and size: too few for a line');
});

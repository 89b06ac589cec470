import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { runBatch } from '../../src/batch/runner/index.js';
import type { BatchEvent } from '../../src/batch/runner/index.js';
import type { RunHook } from '../../src/batch/hooks.js';
import { plan, proc } from './helpers/plan.js';
import { pgrep } from '../helpers/processes.js';
import { rows as storeRows } from '../helpers/store.js';

let dir: string;
let store: ExpertStore;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-runner-'));
  store = await openStore(join(dir, 'test.duckdb'));
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = (sql: string, params: unknown[] = []) => storeRows(store, sql, params);

async function texts(processId: number): Promise<string[]> {
  return (await rows('SELECT text FROM line WHERE process_id = $1 ORDER BY seq', [processId])).map((r) => String(r.text));
}

test('runs monitors around workloads, stores every line in order with exit codes, and records provenance', async () => {
  const runs = [0, 1].map((i) => ({
    monitors: [proc('monitor', 'ticker', 'i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.05; done', { label: `ticker#${i}` })],
    workloads: [
      proc('workload', 'w', `sleep 0.3; for i in 1 2 3; do echo run${i}-out$i; echo run${i}-err$i >&2; done; exit ${i * 5}`, { label: `w#${i}` }),
      proc('workload', 'v', `printf 'no newline ${i}'`, { label: `v#${i}` }),
    ],
  }));
  const events: BatchEvent[] = [];
  const outcome = await runBatch(plan(runs), { store, onEvent: (e) => events.push(e) });
  assert.equal(outcome.ok, false, 'one workload exited 5');
  assert.equal(outcome.summary.status, 'finished');
  assert.equal(outcome.summary.failedWorkloads, 1);
  const procs = await rows('SELECT * FROM process WHERE batch_id = $1 ORDER BY process_id', [outcome.batchId]);
  assert.deepEqual(
    procs.map((p) => [p.label, p.role, p.run, p.status, p.exit_code]),
    [
      ['ticker#0', 'monitor', 0, 'killed', null],
      ['w#0', 'workload', 0, 'exited', 0],
      ['v#0', 'workload', 0, 'exited', 0],
      ['ticker#1', 'monitor', 1, 'killed', null],
      ['w#1', 'workload', 1, 'exited', 5],
      ['v#1', 'workload', 1, 'exited', 0],
    ],
  );
  for (const p of procs) {
    assert.ok(p.started_at instanceof Date || typeof p.started_at === 'string', `started_at of ${p.label}`);
    assert.ok(p.ended_at, `ended_at of ${p.label}`);
  }
  const w1 = procs.find((p) => p.label === 'w#1')!;
  const w1Lines = await rows('SELECT seq, stream, text FROM line WHERE process_id = $1 ORDER BY seq', [w1.process_id]);
  assert.deepEqual(w1Lines.map((l) => Number(l.seq)), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(w1Lines.filter((l) => l.stream === 'stdout').map((l) => l.text), ['run1-out1', 'run1-out2', 'run1-out3']);
  assert.deepEqual(w1Lines.filter((l) => l.stream === 'stderr').map((l) => l.text), ['run1-err1', 'run1-err2', 'run1-err3']);
  assert.deepEqual(await texts(Number(procs.find((p) => p.label === 'v#0')!.process_id)), ['no newline 0']);
  // The monitor ran the whole time the workloads did: it printed while the 0.3 s workload slept, dense from tick0.
  const ticks = await texts(Number(procs[0]!.process_id));
  assert.ok(ticks.length >= 3, `monitor printed ${ticks.length} lines`);
  assert.deepEqual(ticks, ticks.map((_, i) => `tick${i}`));
  const [batch] = await rows('SELECT status, finished_at, provenance, config FROM batch WHERE batch_id = $1', [outcome.batchId]);
  assert.equal(batch!.status, 'finished');
  const provenance = JSON.parse(String(batch!.provenance));
  assert.match(provenance.config_hash, /^sha256:[0-9a-f]{64}$/);
  assert.equal(provenance.tools.node, process.version);
  assert.match(provenance.tools.duckdb, /^v\d/);
  assert.ok(provenance.hosts.local.cores >= 1 && provenance.hosts.local.kernel, JSON.stringify(provenance.hosts));
  assert.equal(JSON.parse(String(batch!.config)).name, 'runner-test');
  // Events: every process went pending → running → exited/killed, line counts add up.
  const lastLines = events.filter((e) => e.type === 'lines').pop();
  assert.equal(lastLines?.type === 'lines' && lastLines.total, outcome.summary.lines);
  const finished = events.find((e) => e.type === 'batch-finished');
  assert.ok(finished);
});

test('a workload over its timeout is killed and marked failed; an unreachable host fails its processes and the rest goes on', async () => {
  const marker = `sleep 777.${process.pid}`;
  const outcome = await runBatch(
    plan([
      { monitors: [], workloads: [proc('workload', 'slow', `echo before; ${marker}`, { label: 'slow', timeoutMs: 400 })] },
      { monitors: [], workloads: [proc('workload', 'far', 'echo never', { label: 'far', target: { node: 'far', host: 'far.invalid' } })] },
      { monitors: [], workloads: [proc('workload', 'ok', 'echo fine', { label: 'ok' })] },
    ]),
    { store, graceMs: 500 },
  );
  assert.equal(outcome.summary.status, 'failed');
  assert.equal(outcome.ok, false);
  const procs = await rows('SELECT label, status, error, process_id FROM process WHERE batch_id = $1 ORDER BY process_id', [outcome.batchId]);
  assert.equal(procs[0]!.status, 'failed');
  assert.equal(procs[0]!.error, 'timed out after 400ms');
  assert.deepEqual(await texts(Number(procs[0]!.process_id)), ['before']);
  assert.equal(procs[1]!.status, 'failed');
  assert.match(String(procs[1]!.error), /far/);
  assert.equal(procs[2]!.status, 'exited');
  assert.deepEqual(await texts(Number(procs[2]!.process_id)), ['fine']);
  assert.deepEqual(pgrep(`^${marker}$`), []);
});

test('hooks run around each run, give run-time placeholders per node, and an empty value is recorded', async () => {
  const calls: string[] = [];
  const hook: RunHook = {
    async beforeRun(ctx) {
      calls.push(`before ${ctx.run.index} ${ctx.policy.name}`);
      return ctx.run.index === 0 ? { placeholders: { guest_pids: { local: '11,12' } } } : undefined;
    },
    async afterRun(ctx) {
      calls.push(`after ${ctx.run.index}`);
    },
  };
  const outcome = await runBatch(
    plan([
      { monitors: [proc('monitor', 'm', 'echo pids={guest_pids}; sleep 5', { label: 'm0' })], workloads: [proc('workload', 'w', 'sleep 0.2', { label: 'w0' })] },
      { monitors: [proc('monitor', 'm', 'echo pids={guest_pids}; sleep 5', { label: 'm1' })], workloads: [proc('workload', 'w', 'sleep 0.2', { label: 'w1' })] },
    ]),
    { store, hooks: [hook] },
  );
  assert.deepEqual(calls, ['before 0 baseline', 'after 0', 'before 1 baseline', 'after 1']);
  const procs = await rows('SELECT label, error, process_id FROM process WHERE batch_id = $1 ORDER BY process_id', [outcome.batchId]);
  assert.deepEqual(await texts(Number(procs[0]!.process_id)), ['pids=11,12']);
  assert.deepEqual(await texts(Number(procs[2]!.process_id)), ['pids=']);
  assert.match(String(procs[2]!.error), /\{guest_pids\} had no value on local/);
  assert.equal(procs[0]!.error, null);
  assert.ok(outcome.summary.warnings.some((w) => w.includes('guest_pids')));
});

test('abort stops every process, still runs afterRun, keeps the lines and marks the batch interrupted', async () => {
  const marker = `sleep 778.${process.pid}`;
  const controller = new AbortController();
  const calls: string[] = [];
  const hook: RunHook = { afterRun: async (ctx) => void calls.push(`after ${ctx.run.index}`) };
  const running = runBatch(
    plan([
      {
        monitors: [proc('monitor', 'm', `echo mon; ${marker}`, { label: 'm' })],
        workloads: [proc('workload', 'w', `echo one; echo two; sh -c '${marker}' & ${marker}`, { label: 'w' })],
      },
      { monitors: [], workloads: [proc('workload', 'never', 'echo never', { label: 'never' })] },
    ]),
    {
      store,
      hooks: [hook],
      signal: controller.signal,
      graceMs: 500,
      onEvent: (e) => {
        if (e.type === 'lines' && e.total >= 3) controller.abort();
      },
    },
  );
  const outcome = await running;
  assert.equal(outcome.summary.status, 'interrupted');
  assert.equal(outcome.ok, false);
  assert.deepEqual(calls, ['after 0']);
  const procs = await rows('SELECT label, status, error, process_id FROM process WHERE batch_id = $1 ORDER BY process_id', [outcome.batchId]);
  assert.deepEqual(procs.map((p) => [p.label, p.status]), [['m', 'killed'], ['w', 'killed'], ['never', 'not_started']]);
  assert.equal(procs[1]!.error, 'batch interrupted');
  assert.deepEqual(await texts(Number(procs[1]!.process_id)), ['one', 'two']);
  assert.deepEqual(await texts(Number(procs[0]!.process_id)), ['mon']);
  const [batch] = await rows('SELECT status FROM batch WHERE batch_id = $1', [outcome.batchId]);
  assert.equal(batch!.status, 'interrupted');
  assert.deepEqual(pgrep(`^${marker}$`), []);
});

test('an interrupt in a later run is announced once with a stopping event, like one in the first run', async () => {
  const marker = `sleep 779.${process.pid}`;
  const controller = new AbortController();
  const events: BatchEvent[] = [];
  const outcome = await runBatch(
    plan([
      { monitors: [], workloads: [proc('workload', 'first', 'echo first', { label: 'first' })] },
      { monitors: [], workloads: [proc('workload', 'second', `echo second; ${marker}`, { label: 'second' })] },
    ]),
    {
      store,
      signal: controller.signal,
      graceMs: 500,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'lines' && e.total >= 2) controller.abort();
      },
    },
  );
  assert.equal(outcome.summary.status, 'interrupted');
  assert.equal(events.filter((e) => e.type === 'stopping').length, 1, 'one stopping event for the interrupt in run 1');
  assert.deepEqual(pgrep(`^${marker}$`), []);
});

test('a workload with stdin text gets it; a monitor that ends by itself is exited, not killed', async () => {
  const outcome = await runBatch(
    plan([
      {
        monitors: [proc('monitor', 'short', 'echo once', { label: 'short' })],
        workloads: [proc('workload', 'upper', 'sleep 0.2; tr a-z A-Z', { label: 'upper', stdin: 'hello\nworld' })],
      },
    ]),
    { store },
  );
  assert.ok(outcome.ok);
  const procs = await rows('SELECT label, status, exit_code, process_id FROM process WHERE batch_id = $1 ORDER BY process_id', [outcome.batchId]);
  assert.deepEqual(procs.map((p) => [p.label, p.status, p.exit_code]), [['short', 'exited', 0], ['upper', 'exited', 0]]);
  assert.deepEqual(await texts(Number(procs[1]!.process_id)), ['HELLO', 'WORLD']);
});

test('binary junk and a 10 MB line are stored byte-exact', async () => {
  const outcome = await runBatch(
    plan([{ monitors: [], workloads: [proc('workload', 'bin', `printf 'ok\\n\\377\\376\\000x\\r\\n'; head -c 10485760 /dev/zero | tr '\\0' y; printf '\\n\\303'`, { label: 'bin' })] }]),
    { store },
  );
  assert.ok(outcome.ok);
  const [p] = await rows('SELECT process_id FROM process WHERE batch_id = $1', [outcome.batchId]);
  const lines = await rows('SELECT seq, octet_length(bytes) AS n, bytes FROM line_bytes WHERE process_id = $1 ORDER BY seq', [p!.process_id]);
  assert.equal(lines.length, 4);
  const bytes = (i: number) => Buffer.from(lines[i]!.bytes as Uint8Array);
  assert.deepEqual(bytes(0), Buffer.from('ok'));
  assert.deepEqual(bytes(1), Buffer.from([0xff, 0xfe, 0x00, 0x78, 0x0d]));
  assert.equal(Number(lines[2]!.n), 10 * 1024 * 1024);
  assert.ok(bytes(2).every((b) => b === 0x79));
  assert.deepEqual(bytes(3), Buffer.from([0xc3]));
});

test('a query from the same process sees a line within a second while the batch runs', async () => {
  let processId = 0;
  let printedAt = 0;
  let visibleWhileRunning = false;
  const running = runBatch(plan([{ monitors: [], workloads: [proc('workload', 'slow', 'echo first; sleep 4; echo second', { label: 'slow' })] }]), {
    store,
    onEvent: (e) => {
      if (e.type === 'process' && e.process.status === 'running') processId = e.process.processId;
    },
  });
  const deadline = Date.now() + 3500;
  while (Date.now() < deadline) {
    if (processId) {
      const seen = await rows('SELECT epoch_ms(ts) AS ts FROM line WHERE process_id = $1', [processId]);
      if (seen.length > 0) {
        printedAt = Number(seen[0]!.ts);
        const lag = Date.now() - printedAt;
        assert.ok(lag < 1000 + 150, `line became visible ${lag} ms after it was printed`);
        visibleWhileRunning = true;
        break;
      }
    }
    await delay(20);
  }
  const outcome = await running;
  assert.ok(visibleWhileRunning, 'the first line was visible before the process ended');
  assert.deepEqual(await texts(processId), ['first', 'second']);
  assert.ok(outcome.ok);
});

test('200,000 lines per second for 10 seconds: nothing lost, nothing reordered', async () => {
  // 100 bursts of 20,000 numbered lines, one every 0.1 s.
  const generator = `awk 'BEGIN { for (s = 0; s < 100; s++) { for (i = 0; i < 20000; i++) print s * 20000 + i; fflush(); system("sleep 0.1") } }'`;
  const outcome = await runBatch(plan([{ monitors: [], workloads: [proc('workload', 'flood', generator, { label: 'flood' })] }]), { store });
  assert.ok(outcome.ok);
  const [p] = await rows('SELECT process_id FROM process WHERE batch_id = $1', [outcome.batchId]);
  const [check] = await rows(
    `SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seq, min(seq) AS lo, max(seq) AS hi,
            count(*) FILTER (WHERE CAST(text AS BIGINT) <> seq) AS misplaced
     FROM line WHERE process_id = $1`,
    [p!.process_id],
  );
  assert.deepEqual(
    [check!.n, check!.distinct_seq, check!.lo, check!.hi, check!.misplaced].map(Number),
    [2_000_000, 2_000_000, 0, 1_999_999, 0],
  );
});

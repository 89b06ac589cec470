// `expert run` end to end for the second round's batch keys: interleaved and random order stored, warm-ups flagged,
// strict pre-flight refusal, adaptive repeat, and --resume of a batch interrupted with SIGINT.
// The built CLI (node dist/src/cli/main.js), real processes, a real DuckDB file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { runSummary } from '../../src/mine/summary.js';
import { pgrep, until } from '../helpers/processes.js';
import { rows } from '../helpers/store.js';

const CLI = resolve('dist/src/cli/main.js');
let dir: string;
const children = new Set<ChildProcess>();

before(() => {
  assert.ok(existsSync(CLI), 'build first: npx tsc -p tsconfig.json');
  dir = mkdtempSync(join(tmpdir(), 'expert-cli-order-'));
});
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; result: Promise<Result>; stderrSoFar: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Result>((done) =>
    child.on('close', (code) => {
      children.delete(child);
      done({ code, stdout, stderr });
    }),
  );
  return { child, result, stderrSoFar: () => stderr };
}
const cli = (args: string[]) => start(args).result;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function query(store: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const s = await openStore(join(dir, store));
  try {
    return await rows(s, sql, params);
  } finally {
    await s.close();
  }
}

const batchOf = (text: string) => Number(/^batch (\d+)$/m.exec(text)?.[1]);
const LOCAL = 'machines: {nodes: [{name: local, host: local}]}\n';

test('3 policies × 2 params × 4 repetitions run interleaved by default; warm-ups come first, flagged; the store shows the order', async () => {
  const config = file(
    'interleaved.yaml',
    `name: interleaved\n${LOCAL}tests:\n  - {name: t, command: "echo {x} {policy} {rep}", params: {x: [1, 2]}, repeat: 4, warmup: 1}\npolicies: [{name: a}, {name: b}, {name: c}]\n`,
  );
  const { code, stdout, stderr } = await cli(['run', config, '--store', 'order.duckdb']);
  assert.equal(code, 0, stderr);
  const batchId = batchOf(stdout);
  const procs = await query('order.duckdb', `SELECT run, position, warmup, attempt, policy, rep, params->>'x' AS x, started_at FROM process WHERE batch_id = $1 ORDER BY position`, [batchId]);
  assert.equal(procs.length, 6 + 24);
  // Positions are the real start order.
  const byStart = [...procs].sort((p, q) => +new Date(String(p.started_at)) - +new Date(String(q.started_at)));
  assert.deepEqual(byStart.map((p) => p.position), procs.map((p) => p.position));
  assert.deepEqual(procs.map((p) => p.position), procs.map((_, i) => i + 1));
  const warm = procs.slice(0, 6);
  assert.ok(warm.every((p) => p.warmup === true) && procs.slice(6).every((p) => p.warmup === false));
  // Each repetition runs all 6 cells, the policies rotating one place per repetition.
  for (let rep = 1; rep <= 4; rep++) {
    const slice = procs.slice(6 + (rep - 1) * 6, 6 + rep * 6);
    assert.ok(slice.every((p) => p.rep === rep), `repetition ${rep}`);
    const policies = ['abc', 'bca', 'cab', 'abc'][rep - 1]!.split('');
    assert.deepEqual(slice.map((p) => `${p.x}${p.policy}`), ['1', '2'].flatMap((x) => policies.map((policy) => `${x}${policy}`)));
  }
  // run stays the sequential index: test → params → policy → warm-up, reps (5 runs per cell).
  const first = procs.find((p) => p.x === '1' && p.policy === 'b' && p.rep === 2 && p.warmup === false)!;
  assert.equal(first.run, 5 + 3);
  const [batch] = await query('order.duckdb', 'SELECT provenance FROM batch WHERE batch_id = $1', [batchId]);
  const provenance = JSON.parse(String(batch!.provenance));
  assert.deepEqual(provenance.order, { kind: 'interleaved' });
  assert.deepEqual(provenance.preflight.local.checks.map((c: { check: string }) => c.check), ['governor', 'turbo', 'swap', 'load', 'thp', 'virtualization']);
  // Mine's run summary carries the flag, so statistics can leave warm-ups out.
  const store = await openStore(join(dir, 'order.duckdb'), { readOnly: true });
  try {
    const summary = await runSummary(store, { batchId });
    const warmup = summary.columns.indexOf('warmup');
    assert.equal(summary.rows.filter((r) => r[warmup] === true).length, 6);
  } finally {
    await store.close();
  }
});

test('order: random records its seed; the same seed given back reproduces the stored order in --dry-run', async () => {
  const text = `name: random\n${LOCAL}order: random\ntests:\n  - {name: t, command: "echo {x}", params: {x: [1, 2, 3]}, repeat: 3}\npolicies: [{name: a}, {name: b}]\n`;
  const config = file('random.yaml', text);
  const { code, stdout, stderr } = await cli(['run', config, '--store', 'random.duckdb']);
  assert.equal(code, 0, stderr);
  const batchId = batchOf(stdout);
  const [batch] = await query('random.duckdb', 'SELECT provenance FROM batch WHERE batch_id = $1', [batchId]);
  const order = JSON.parse(String(batch!.provenance)).order;
  assert.equal(order.kind, 'random');
  assert.equal(order.seedChosen, true);
  assert.ok(Number.isInteger(order.seed));
  const stored = (await query('random.duckdb', 'SELECT run FROM process WHERE batch_id = $1 ORDER BY position', [batchId])).map((p) => p.run);
  const dry = await cli(['run', config, '--set', `order={random: ${order.seed}}`, '--dry-run', '--format', 'json']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout).map((r: { run: number }) => r.run), stored);
  assert.notDeepEqual(stored, [...stored].sort((a, b) => Number(a) - Number(b)), 'shuffled');
});

for (const strict of [true, false]) {
  test(`a pre-flight check the batch cannot pass (a pin to a CPU the node lacks) refuses to start${strict ? ' under strict: true' : ' even without strict'}: exit 2, the failure on stderr, no batch`, async () => {
    const name = `strict-${strict}`;
    const config = file(
      `${name}.yaml`,
      `name: ${name}\n${LOCAL}${strict ? 'strict: true\n' : ''}tests:\n  - {name: t, command: "echo never"}\npolicies: [{name: far-cpu, pin: {cpus: [4095]}}]\n`,
    );
    const { code, stdout, stderr } = await cli(['run', config, '--store', `${name}.duckdb`]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /warning: pre-flight local: cpus: a policy pins to CPU 4095, which this node does not have online/);
    assert.match(stderr, /pre-flight checks failed, nothing was started/);
    assert.doesNotMatch(stderr, /smt:.*4095/, 'no SMT advice about a CPU that does not exist');
    assert.equal(stdout, '');
    if (existsSync(join(dir, `${name}.duckdb`))) assert.deepEqual(await query(`${name}.duckdb`, 'SELECT * FROM batch'), []);
  });
}

test('adaptive repeat: rounds go on to max while the CI is wider than asked; a metric the summary lacks stops them with a warning', async () => {
  const dd = 'dd if=/dev/zero of=/dev/null bs=64k count=200';
  const config = file(
    'adaptive.yaml',
    `name: adaptive\n${LOCAL}tests:\n  - {name: dd, command: "${dd}", params: {n: [1, 2]}, repeat: {min: 2, max: 4, until: {metric: dd_rate_bps, ci: 0.000001%}}}\n  - {name: fixed, command: "echo x", repeat: 2}\n`,
  );
  const { code, stdout, stderr } = await cli(['run', config, '--store', 'adaptive.duckdb']);
  assert.equal(code, 0, stderr);
  const batchId = batchOf(stdout);
  const counts = await query('adaptive.duckdb', `SELECT label[1:5] AS test, params->>'n' AS n, count(*) AS runs, max(rep) AS reps FROM process WHERE batch_id = $1 GROUP BY ALL ORDER BY ALL`, [batchId]);
  assert.deepEqual(counts.map((c) => [c.test, c.n, Number(c.runs), c.reps]), [['dd[n=', '1', 4, 4], ['dd[n=', '2', 4, 4], ['fixed', null, 2, 2]]);
  const [batch] = await query('adaptive.duckdb', 'SELECT provenance, status FROM batch WHERE batch_id = $1', [batchId]);
  assert.equal(batch!.status, 'finished');
  const repeat = JSON.parse(String(batch!.provenance)).repeat;
  assert.deepEqual(repeat.rounds.map((r: { cells: string[] }) => r.cells), [['dd[n=1] baseline', 'dd[n=2] baseline'], ['dd[n=1] baseline', 'dd[n=2] baseline']]);
  for (const key of ['dd[n=1] baseline', 'dd[n=2] baseline']) {
    assert.equal(repeat.cells[key].runs, 4);
    assert.equal(repeat.cells[key].rounds, 4);
    assert.equal(repeat.cells[key].stopped, 'max');
    assert.equal(repeat.cells[key].metric, 'dd_rate_bps');
  }
  // Extra rounds come after the planned ones, positions and run indexes continuing.
  const positions = await query('adaptive.duckdb', `SELECT run, position, rep FROM process WHERE batch_id = $1 AND rep > 2 ORDER BY position`, [batchId]);
  assert.deepEqual(positions.map((p) => p.position), [7, 8, 9, 10]);
  assert.deepEqual(positions.map((p) => p.run), [7, 8, 9, 10]);

  const missing = file('missing.yaml', `name: missing\n${LOCAL}tests:\n  - {name: dd, command: "${dd}", repeat: {min: 2, max: 9, until: {metric: dd_nope, ci: 5%}}}\n`);
  const second = await cli(['run', missing, '--store', 'adaptive.duckdb']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /adaptive repeat: repeat\.until\.metric `dd_nope` is not a column of the run summary of batch \d+ \(columns: .*dd_rate_bps.*\); no more rounds/);
  const runs = await query('adaptive.duckdb', 'SELECT count(*) AS n FROM process WHERE batch_id = $1', [batchOf(second.stdout)]);
  assert.equal(Number(runs[0]!.n), 2);
});

test('--resume after SIGINT runs only what has no successful result, into the same batch, as attempt 2', async () => {
  const marker = `${900 + (process.pid % 90)}.4`;
  // The slow workload hangs until the flag file exists (a transient problem fixed before resuming).
  const text = `name: resume\n${LOCAL}order: sequential\nmonitors: [{name: m, command: "sleep ${marker}"}]\ntests:\n  - {name: quick, command: "echo q{rep}", repeat: 2}\n  - {name: slow, command: "if [ -e flag ]; then echo fixed; else echo started; sleep ${marker}; fi"}\n  - {name: last, command: "echo last"}\n`;
  const config = file('resume.yaml', text);
  const run = start(['run', config, '--store', 'resume.duckdb']);
  assert.ok(await until(() => pgrep(`^sleep ${marker}$`).length === 2, 15_000), 'the slow run started');
  run.child.kill('SIGINT');
  const first = await run.result;
  assert.equal(first.code, 130, first.stderr);
  const batchId = batchOf(first.stdout);

  // A different config is refused (exit 2) before anything runs.
  const other = file('other.yaml', text.replace('echo last', 'echo changed'));
  const refused = await cli(['run', other, '--resume', String(batchId), '--store', 'resume.duckdb']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /is not the config batch \d+ ran with/);

  writeFileSync(join(dir, 'flag'), '');
  const resumed = await cli(['run', config, '--resume', String(batchId), '--store', 'resume.duckdb']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /running 2 run\(s\) again, 2 already done/);
  assert.equal(batchOf(resumed.stdout), batchId);
  const procs = await query('resume.duckdb', `SELECT run, position, attempt, role, label, status, exit_code, error FROM process WHERE batch_id = $1 ORDER BY attempt, run, role DESC`, [batchId]);
  assert.deepEqual(
    procs.map((p) => [p.run, p.attempt, p.role, p.status, p.exit_code]),
    [
      [1, 1, 'workload', 'exited', 0], [1, 1, 'monitor', 'killed', null],
      [2, 1, 'workload', 'exited', 0], [2, 1, 'monitor', 'killed', null],
      [3, 1, 'workload', 'killed', null], [3, 1, 'monitor', 'killed', null],
      [4, 1, 'workload', 'not_started', null], [4, 1, 'monitor', 'not_started', null],
      [3, 2, 'workload', 'exited', 0], [3, 2, 'monitor', 'killed', null],
      [4, 2, 'workload', 'exited', 0], [4, 2, 'monitor', 'killed', null],
    ],
  );
  assert.deepEqual(procs.filter((p) => p.attempt === 2).map((p) => p.position), [5, 5, 6, 6]);
  const lines = await query('resume.duckdb', `SELECT p.attempt, l.text FROM line l JOIN process p USING (process_id) WHERE p.batch_id = $1 AND p.run = 3 AND p.role = 'workload' ORDER BY p.attempt, l.seq`, [batchId]);
  assert.deepEqual(lines.map((l) => [l.attempt, l.text]), [[1, 'started'], [2, 'fixed']], 'the first attempt\'s lines are kept');
  const [batch] = await query('resume.duckdb', 'SELECT status, provenance FROM batch WHERE batch_id = $1', [batchId]);
  assert.equal(batch!.status, 'finished');
  assert.deepEqual(JSON.parse(String(batch!.provenance)).resumes.map((r: { runs: number[] }) => r.runs), [[3, 4]]);
  assert.deepEqual(pgrep(`^sleep ${marker}$`), []);

  const again = await cli(['run', '--resume', String(batchId), '--store', 'resume.duckdb']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /nothing to run again/);
});

// `expert run` end to end: the built CLI (node dist/src/cli/main.js), real processes, a real DuckDB file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openStore } from '../../src/store/store.js';
import { pgrep, until } from '../helpers/processes.js';
import { rows } from '../helpers/store.js';

const CLI = resolve('dist/src/cli/main.js');
let dir: string;
const children = new Set<ChildProcess>();

before(() => {
  assert.ok(existsSync(CLI), 'build first: npx tsc -p tsconfig.json');
  dir = mkdtempSync(join(tmpdir(), 'expert-cli-run-'));
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

function cli(args: string[]): Promise<Result> {
  return start(args).result;
}

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

const LOCAL = 'machines: {nodes: [{name: local, host: local}]}\n';

test('2 tests × 2 params × 3 reps with a vmstat monitor: every line in order, exit codes, batch finished', async () => {
  const config = file(
    'matrix.yaml',
    `name: matrix
${LOCAL}monitors:
  - {name: vmstat, on: nodes, command: vmstat -n 1}
tests:
  - name: alpha
    on: nodes
    command: "sleep 0.3; for i in $(seq 1 {n}); do echo alpha-{n}-{rep}-$i; done; echo warn-{rep} >&2"
    params: {n: [2, 5]}
    repeat: 3
  - name: beta
    on: nodes
    command: "sleep 0.3; printf 'beta %s\\\\n' {n} {rep}"
    params: {n: [x, 'y z']}
    repeat: 3
`,
  );
  const { code, stdout, stderr } = await cli(['run', config, '--store', 'matrix.duckdb']);
  assert.equal(code, 0, stderr);
  const batchId = Number(/^batch (\d+)$/m.exec(stdout)?.[1]);
  assert.ok(batchId > 0, stdout);
  const procs = await query('matrix.duckdb', 'SELECT * FROM process WHERE batch_id = $1 ORDER BY process_id', [batchId]);
  assert.equal(procs.length, 24);
  const workloads = procs.filter((p) => p.role === 'workload');
  const monitors = procs.filter((p) => p.role === 'monitor');
  assert.equal(workloads.length, 12);
  assert.ok(workloads.every((p) => p.status === 'exited' && p.exit_code === 0), JSON.stringify(workloads.map((p) => [p.label, p.status, p.exit_code])));
  assert.ok(monitors.every((p) => p.status === 'killed' && p.signal === 'SIGTERM'));
  for (const p of workloads) {
    const params = JSON.parse(String(p.params));
    const lines = await query('matrix.duckdb', 'SELECT stream, text FROM line WHERE process_id = $1 ORDER BY seq', [p.process_id]);
    const out = lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
    const err = lines.filter((l) => l.stream === 'stderr').map((l) => l.text);
    if (String(p.label).startsWith('alpha')) {
      const n = Number(params.n);
      assert.deepEqual(out, Array.from({ length: n }, (_, i) => `alpha-${n}-${p.rep}-${i + 1}`));
      assert.deepEqual(err, [`warn-${p.rep}`]);
    } else {
      assert.deepEqual(out, [`beta ${params.n}`, `beta ${p.rep}`]);
      assert.deepEqual(err, []);
    }
  }
  for (const m of monitors) {
    const lines = await query('matrix.duckdb', 'SELECT seq, text FROM line WHERE process_id = $1 ORDER BY seq', [m.process_id]);
    assert.deepEqual(lines.map((l) => Number(l.seq)), lines.map((_, i) => i));
    assert.match(String(lines[0]?.text), /^procs /, `vmstat header of ${m.label}`);
    assert.match(String(lines[1]?.text), /^ r +b /);
    assert.ok(lines.length >= 3, `vmstat printed ${lines.length} lines in run ${m.run}`);
  }
  const [batch] = await query('matrix.duckdb', 'SELECT status, provenance FROM batch WHERE batch_id = $1', [batchId]);
  assert.equal(batch!.status, 'finished');
  const provenance = JSON.parse(String(batch!.provenance));
  assert.match(provenance.hosts.local.programs.vmstat, /procps/);
});

test('a failing workload makes the exit code 1; --format json prints the per-process outcome', async () => {
  const config = file('fail.yaml', `name: fail\n${LOCAL}tests:\n  - {name: bad, on: nodes, command: "echo oops; exit 7"}\n  - {name: good, on: nodes, command: "true"}\n`);
  const { code, stdout, stderr } = await cli(['run', config, '--store', 'fail.duckdb', '--format', 'json']);
  assert.equal(code, 1);
  const rows = JSON.parse(stdout);
  const batchId = Number(/^batch (\d+)$/m.exec(stderr)?.[1]);
  assert.ok(batchId > 0 && rows.every((r: { batch_id: number }) => r.batch_id === batchId));
  assert.deepEqual(rows.map((r: { status: string; exit_code: number; lines: number }) => [r.status, r.exit_code, r.lines]), [
    ['exited', 7, 1],
    ['exited', 0, 0],
  ]);
});

test('--dry-run prints one row per process in execution order and creates no store', async () => {
  const config = file('dry.yaml', `name: dry\n${LOCAL}monitors: [{name: m, on: nodes, command: vmstat 1}]\ntests:\n  - {name: t, on: nodes, command: "echo {x}", params: {x: [1, 2]}, repeat: 2}\n`);
  const { code, stdout } = await cli(['run', config, '--store', 'dry.duckdb', '--dry-run', '--format', 'json']);
  assert.equal(code, 0);
  const rows = JSON.parse(stdout);
  assert.equal(rows.length, 8);
  // Interleaved (the default): repetition 1 of every cell, then repetition 2; `run` keeps the sequential index.
  const workloads = rows.filter((r: { role: string }) => r.role === 'workload');
  assert.deepEqual(workloads.map((r: { position: number; run: number; command: string }) => [r.position, r.run, r.command]), [[1, 1, 'echo 1'], [2, 3, 'echo 2'], [3, 2, 'echo 1'], [4, 4, 'echo 2']]);
  assert.equal(existsSync(join(dir, 'dry.duckdb')), false);
});

test('bad configs exit 2 with file:line:column and leave no store behind', async () => {
  const bad: Record<string, string> = {
    'unknown-key.yaml': `name: a\n${LOCAL}tests:\n  - {name: t, on: nodes, command: ls, colour: red}\n`,
    'wrong-type.yaml': `name: a\n${LOCAL}tests:\n  - {name: t, on: nodes, command: ls, repeat: many}\n`,
    'missing-command.yaml': `name: a\n${LOCAL}tests:\n  - {name: t, on: nodes}\n`,
    'broken.yaml': `name: a\n${LOCAL}tests: [\n  - {name: t\n`,
    'placeholder.yaml': `name: a\n${LOCAL}tests:\n  - {name: t, on: nodes, command: "echo {nope}"}\n`,
  };
  for (const [name, text] of Object.entries(bad)) {
    const path = file(name, text);
    const store = `${name}.duckdb`;
    const { code, stderr } = await cli(['run', path, '--store', store]);
    assert.equal(code, 2, `${name}: ${stderr}`);
    assert.match(stderr, new RegExp(`${name.replace('.', '\\.')}:\\d+:\\d+: `), `${name}: ${stderr}`);
    assert.equal(existsSync(join(dir, store)), false, `${name} created the store`);
  }
});

test('SIGINT stops every process, keeps the lines, marks the batch interrupted and exits 130; a second Ctrl-C says wait', async () => {
  const marker = `${600 + (process.pid % 100)}.7`;
  const config = file(
    'sigint.yaml',
    `name: sigint
${LOCAL}monitors: [{name: m, on: nodes, command: "sleep ${marker}"}]
tests:
  - name: slow
    on: nodes
    command: "trap 'echo stopping; sleep 0.5; exit 1' TERM; echo started; sleep ${marker} & sh -c 'sleep ${marker}' & wait"
  - {name: never, on: nodes, command: echo never}
`,
  );
  const run = start(['run', config, '--store', 'sigint.duckdb']);
  assert.ok(await until(() => pgrep(`^sleep ${marker}$`).length === 3, 10_000), 'monitor and workload sleeps started');
  await delay(300);
  run.child.kill('SIGINT');
  await delay(100);
  run.child.kill('SIGINT');
  const { code, stdout, stderr } = await run.result;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopping, please wait/);
  assert.deepEqual(pgrep(`^sleep ${marker}$`), []);
  const batchId = Number(/^batch (\d+)$/m.exec(stdout)?.[1]);
  const [batch] = await query('sigint.duckdb', 'SELECT status FROM batch WHERE batch_id = $1', [batchId]);
  assert.equal(batch!.status, 'interrupted');
  const procs = await query('sigint.duckdb', 'SELECT label, status, error, process_id FROM process WHERE batch_id = $1 ORDER BY process_id', [batchId]);
  assert.deepEqual(procs.map((p) => p.status), ['killed', 'killed', 'not_started', 'not_started'], 'run 2 (its monitor and workload) never started');
  const lines = await query('sigint.duckdb', 'SELECT text FROM line WHERE process_id = $1 ORDER BY seq', [procs[1]!.process_id]);
  assert.deepEqual(lines.map((l) => l.text), ['started', 'stopping']);
});

test('kill -9 of expert run: the store reopens, flushed lines are there, the batch is not finished, no orphans', async () => {
  const marker = `${700 + (process.pid % 100)}.9`;
  const config = file(
    'kill9.yaml',
    `name: kill9\n${LOCAL}tests:\n  - {name: ticker, on: nodes, command: "i=0; while [ $i -lt 1000 ]; do echo line$i; i=$((i+1)); sleep 0.05; done; sleep ${marker}"}\n`,
  );
  const run = start(['run', config, '--store', 'kill9.duckdb']);
  assert.ok(await until(() => /start ticker/.test(run.stderrSoFar()), 10_000), run.stderrSoFar());
  await delay(2500);
  run.child.kill('SIGKILL');
  const { stdout } = await run.result;
  const batchId = Number(/^batch (\d+)$/m.exec(stdout)?.[1]);
  const [batch] = await query('kill9.duckdb', 'SELECT status FROM batch WHERE batch_id = $1', [batchId]);
  assert.notEqual(batch!.status, 'finished');
  const lines = await query('kill9.duckdb', 'SELECT seq, text FROM line ORDER BY seq');
  // ~50 lines were printed in 2.5 s; lines older than the last flush (≤ 1 s) must be there, as a dense prefix.
  assert.ok(lines.length >= 20, `only ${lines.length} lines survived`);
  assert.deepEqual(lines.map((l) => l.text), lines.map((_, i) => `line${i}`));
  assert.ok(await until(() => pgrep('while \\[ \\$i -lt 1000').length === 0, 6000), 'the workload shell outlived expert run');
});

test('on a terminal the progress block is redrawn in place with state, lines and elapsed time', async () => {
  const config = file('tty.yaml', `name: tty\n${LOCAL}tests:\n  - {name: ticks, on: nodes, command: "for i in 1 2 3 4 5 6; do echo $i; sleep 0.2; done"}\n`);
  // script(1) gives the CLI a pseudo-terminal; stty gives it a size like a real one.
  const inner = `stty rows 40 cols 120; exec ${process.execPath} ${CLI} run ${config} --store tty.duckdb`;
  const { code, stdout } = await new Promise<Result>((done) => {
    const child = spawn('script', ['-qec', inner, '/dev/null'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (c) => {
      children.delete(child);
      done({ code: c, stdout: out, stderr: '' });
    });
  });
  assert.equal(code, 0, stdout);
  assert.match(stdout, /\x1b\[2K/, 'lines erased and redrawn (log-update)');
  assert.match(stdout, /batch \d+ tty {2}run 1\/1: ticks baseline #1 {2}0:0\d {2}\d+ lines/);
  assert.match(stdout, /▶ work ticks baseline #1 @local {2}running {2}\d+ lines/);
  assert.match(stdout, /✓ work ticks baseline #1 @local {2}exited \(0\) {2}6 lines/);
  assert.match(stdout, /batch \d+ finished: 1 of 1 workload succeeded, 6 lines stored/);
});

test('SIGTERM (as from a service manager) stops the batch like Ctrl-C: exit 130, interrupted, nothing left running', async () => {
  const marker = `${800 + (process.pid % 100)}.3`;
  const config = file('sigterm.yaml', `name: sigterm\n${LOCAL}tests:\n  - {name: w, on: nodes, command: "echo up; sleep ${marker}"}\n`);
  const run = start(['run', config, '--store', 'sigterm.duckdb']);
  assert.ok(await until(() => pgrep(`^sleep ${marker}$`).length === 1, 10_000), 'workload started');
  run.child.kill('SIGTERM');
  const { code, stdout, stderr } = await run.result;
  assert.equal(code, 130, stderr);
  assert.deepEqual(pgrep(`^sleep ${marker}$`), []);
  const batchId = Number(/^batch (\d+)$/m.exec(stdout)?.[1]);
  const [batch] = await query('sigterm.duckdb', 'SELECT status FROM batch WHERE batch_id = $1', [batchId]);
  assert.equal(batch!.status, 'interrupted');
  const lines = await query('sigterm.duckdb', 'SELECT text FROM line');
  assert.deepEqual(lines.map((l) => l.text), ['up']);
});

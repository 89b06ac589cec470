/**
 * The srun launcher against a real Slurm (tests/slurm/harness.ts): the
 * executor's contract (bytes, exit codes, signals, stdin, stopping the whole
 * step), a batch over the 4 nodes of an allocation stored line for line like
 * the same batch run locally, Ctrl-C and kill -9 of `expert run` leaving no
 * step and no process, `salloc -N 2 expert run` and `expert slurm submit`
 * ending as finished batches with the job id in provenance.
 * Heavy-ish (daemons): run under the shared lock.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterDown, type LocalCluster } from '../../src/slurm/local-cluster.js';
import { SrunExecutor } from '../../src/batch/srun/index.js';
import type { OutputLine } from '../../src/batch/executor.js';
import { parseBatchConfigText } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { pgrep, until } from '../helpers/processes.js';
import { allocate, jobState, startCluster, steps, type TestAllocation } from './harness.js';

const CLI = resolve('dist/src/cli/main.js');
let cluster: LocalCluster;
let alloc: TestAllocation;
let dir: string;
let store: ExpertStore;

before(async () => {
  cluster = await startCluster();
  alloc = allocate(cluster, 4);
  dir = mkdtempSync(join(tmpdir(), 'expert-slurm-'));
  store = await openStore(join(dir, 'lib.duckdb'));
});

after(async () => {
  await store?.close();
  alloc?.release();
  if (cluster) await clusterDown(cluster);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function psOf(pids: number[]): string {
  return pids.length ? execFileSync('ps', ['-o', 'pid,ppid,stat,args', '-p', pids.join(',')], { encoding: 'utf8' }) : '';
}

function marker(name: string): string {
  return `expert-slurm-${name}-${process.pid}-${Date.now()}`;
}

function collect(): { sink: (l: OutputLine) => void; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  return { lines, sink: (l) => lines.push([l.stream, l.bytes.toString('hex')]) };
}

const hex = (s: string | Buffer) => Buffer.from(s as string, typeof s === 'string' ? 'latin1' : undefined).toString('hex');

test('srun executor: bytes as printed, exit code, stdin, the node it ran on', async () => {
  const executor = new SrunExecutor({ node: 'n3', env: alloc.env });
  try {
    const { sink, lines } = collect();
    const proc = await executor.start({ command: `printf 'one\\n\\377\\r raw\\n'; printf 'err\\n' >&2; cat; head -c 300000 /dev/zero | tr '\\0' a; echo; echo "$SLURMD_NODENAME $X"; printf 'last'; exit 5`, env: { X: "it's" }, stdin: true }, sink);
    assert.ok(proc.pid! > 1);
    await proc.write('from stdin\n');
    await proc.closeStdin();
    const info = await proc.wait();
    assert.equal(info?.status, 'exited');
    assert.equal(info?.exitCode, 5);
    assert.equal(info?.signal, null);
    assert.deepEqual(lines.filter(([s]) => s === 'stdout').map(([, h]) => h), ['one', '\xff\r raw', 'from stdin', 'a'.repeat(300000), "n3 it's", 'last'].map(hex));
    assert.deepEqual(lines.filter(([s]) => s === 'stderr').map(([, h]) => h), [hex('err')]);
    assert.deepEqual(await executor.exec('echo $SLURM_JOB_ID; exit 2'), { exitCode: 2, signal: null, stdout: `${alloc.jobId}\n`, stderr: '' });
  } finally {
    await executor.close();
  }
});

test('srun executor: a program killed by a signal reports the signal; a node outside the allocation fails with Slurm\'s reason', async () => {
  const executor = new SrunExecutor({ node: 'n1', env: alloc.env });
  const outside = new SrunExecutor({ node: 'n7', env: alloc.env });
  try {
    const info = await (await executor.start({ command: 'echo before; kill -USR1 $$' }, () => undefined)).wait();
    assert.deepEqual([info?.status, info?.exitCode, info?.signal], ['exited', null, 'SIGUSR1']);
    const failed = await (await outside.start({ command: 'true' }, () => undefined)).wait();
    assert.equal(failed?.status, 'failed');
    assert.match(String(failed?.error), /srun could not start a step on n7 .*(Invalid node name|not available|Unable to create step)/);
  } finally {
    await executor.close();
    await outside.close();
  }
});

test('srun executor: kill stops the whole step (children that ignore TERM or left the session) and leaves no step', async () => {
  const executor = new SrunExecutor({ node: 'n2', env: alloc.env, graceMs: 1500 });
  const tag = marker('kill');
  try {
    const { sink, lines } = collect();
    const proc = await executor.start({ command: `(trap '' TERM; sleep 300; : ${tag}) & setsid sh -c 'sleep 300; : ${tag}' & echo started; sleep 300; : ${tag}` }, sink);
    assert.ok(await until(() => pgrep(tag).length >= 3, 10_000), 'the three processes run');
    await proc.kill();
    const info = await proc.wait();
    assert.equal(info?.status, 'killed');
    assert.ok(await until(() => pgrep(tag).length === 0, 5000), `left: ${psOf(pgrep(tag))}`);
    assert.deepEqual(steps(cluster, alloc.jobId), []);
    assert.deepEqual(lines, [['stdout', hex('started')]], 'no Slurm notice among the lines');
  } finally {
    await executor.close();
  }
});

const WORKLOAD = `seq 1 2000; printf 'caf\\303\\251 \\377 raw\\n'; echo "on {node}" >&2; printf 'no newline'; exit {code}`;

function batchText(machines: string, name: string): string {
  return [
    `name: ${name}`,
    machines,
    'monitors:',
    '  - {name: ticker, on: nodes, command: "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"}',
    'tests:',
    '  - name: work',
    '    on: nodes',
    `    command: ${JSON.stringify(WORKLOAD)}`,
    '    params: {code: [0, 3]}',
    '',
  ].join('\n');
}

async function rows(s: ExpertStore, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await s.query(sql, params);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

/** Per workload (label without the host): exit code, status, its lines by stream (hex). */
async function workloads(s: ExpertStore, batchId: number): Promise<Record<string, unknown>> {
  const procs = await rows(s, "SELECT process_id, label, host, status, exit_code FROM process WHERE batch_id = $1 AND role = 'workload' ORDER BY label", [batchId]);
  const out: Record<string, unknown> = {};
  for (const p of procs) {
    const lines = await rows(s, 'SELECT seq, stream, coalesce(hex(raw), hex(encode(text))) AS bytes FROM line WHERE process_id = $1 ORDER BY seq', [p.process_id]);
    out[String(p.label)] = { status: p.status, exit_code: p.exit_code, lines: ['stdout', 'stderr'].map((stream) => lines.filter((l) => l.stream === stream).map((l) => l.bytes)), dense: lines.every((l, i) => Number(l.seq) === i) };
  }
  return out;
}

test('a batch with machines: slurm runs on the 4 nodes of the allocation through srun, stored like the same batch run locally', async () => {
  const slurm = expandPlan(await parseBatchConfigText(batchText('machines: slurm', 'slurm-4'), { cwd: dir, env: alloc.env }));
  assert.deepEqual(slurm.config.machines.nodes.map((n) => [n.name, n.launcher]), [['n1', 'srun'], ['n2', 'srun'], ['n3', 'srun'], ['n4', 'srun']]);
  const local = expandPlan(await parseBatchConfigText(batchText(['machines:', '  nodes:', ...['n1', 'n2', 'n3', 'n4'].map((n) => `    - {name: ${n}, host: local}`)].join('\n'), 'local-4'), { cwd: dir }));
  const saved = { ...process.env };
  Object.assign(process.env, alloc.env); // the runner's srun inherits the allocation, as in a shell inside salloc
  let r;
  try {
    r = await runBatch(slurm, { store });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  const l = await runBatch(local, { store });
  assert.equal(r.ok, false, 'the exit 3 runs fail');
  const fromSlurm = await workloads(store, r.batchId);
  assert.equal(Object.keys(fromSlurm).length, 8);
  assert.deepEqual(fromSlurm, await workloads(store, l.batchId));
  const one = Object.values(fromSlurm)[0] as { lines: string[][] };
  assert.equal(one.lines[0]!.length, 2002);
  const ticks = await rows(store, "SELECT host, count(*) AS n FROM line JOIN process USING (process_id) WHERE batch_id = $1 AND role = 'monitor' GROUP BY host ORDER BY host", [r.batchId]);
  assert.deepEqual(ticks.map((t) => t.host), ['n1', 'n2', 'n3', 'n4']);
  const exits = await rows(store, "SELECT exit_code, status, count(*) AS n FROM process WHERE batch_id = $1 AND role = 'workload' GROUP BY ALL ORDER BY exit_code", [r.batchId]);
  assert.deepEqual(exits.map((e) => [e.exit_code, e.status, Number(e.n)]), [[0, 'exited', 4], [3, 'exited', 4]]);
  const provenance = JSON.parse(String((await rows(store, 'SELECT provenance FROM batch WHERE batch_id = $1', [r.batchId]))[0]!.provenance));
  assert.equal(provenance.slurm.job_id, alloc.jobId);
  // A monitor's stop is a TERM it dies of, as for the same batch run locally (Slurm sends it to the step's task alone).
  const monitors = (id: number) => rows(store, "SELECT host, status, signal FROM process WHERE batch_id = $1 AND role = 'monitor' ORDER BY host", [id]);
  assert.deepEqual(await monitors(r.batchId), ['n1', 'n2', 'n3', 'n4'].flatMap((host) => [1, 2].map(() => ({ host, status: 'killed', signal: 'SIGTERM' }))), 'a monitor per node and run');
  assert.deepEqual((await monitors(l.batchId)).map((m) => [m.status, m.signal]), (await monitors(r.batchId)).map((m) => [m.status, m.signal]));
  assert.deepEqual(steps(cluster, alloc.jobId), [], 'every step ended with the batch');
});

function runCli(args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string } = {}) {
  assert.ok(existsSync(CLI), 'build first: npx tsc -p tsconfig.json');
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd: options.cwd ?? dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d; });
  child.stderr!.on('data', (d: Buffer) => { out += d; });
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, done, output: () => out };
}

function longBatch(tag: string, name: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [
    `name: ${name}`, 'machines: slurm',
    'monitors:', `  - {name: mon, on: nodes, command: "while true; do echo m; sleep 0.2; done; : ${tag}"}`,
    'tests:', `  - {name: long, on: nodes, command: "sh -c 'sleep 300; : ${tag}' & sleep 300; : ${tag}"}`, '',
  ].join('\n'));
  return file;
}

test('Ctrl-C on `expert run` inside an allocation leaves no step and no process', async () => {
  const tag = marker('ctrl-c');
  const storeFile = join(dir, 'ctrl-c.duckdb');
  const run = runCli(['run', longBatch(tag, 'ctrl-c'), '--store', storeFile], alloc.env);
  try {
    assert.ok(await until(() => pgrep(`sleep 300; : ${tag}`).length >= 8 && pgrep(`echo m; sleep 0.2; done; : ${tag}`).length >= 4, 20_000), run.output());
    assert.ok(steps(cluster, alloc.jobId).length >= 8, 'monitors and workloads run as steps');
    run.child.kill('SIGINT');
    assert.equal(await run.done, 130, run.output());
  } finally {
    run.child.kill('SIGKILL');
  }
  assert.ok(await until(() => pgrep(tag).length === 0, 5000), `left: ${pgrep(tag)}`);
  assert.deepEqual(steps(cluster, alloc.jobId), []);
  const s = await openStore(storeFile, { readOnly: true });
  try {
    assert.deepEqual((await rows(s, 'SELECT status, count(*) AS n FROM process GROUP BY status')).map((r) => [r.status, Number(r.n)]), [['killed', 8]]);
    assert.equal((await rows(s, 'SELECT status FROM batch'))[0]!.status, 'interrupted');
  } finally {
    await s.close();
  }
});

test('kill -9 of `expert run`: the guards cancel its steps and nothing is left', async () => {
  const tag = marker('kill9');
  const run = runCli(['run', longBatch(tag, 'kill9'), '--store', join(dir, 'kill9.duckdb')], alloc.env);
  try {
    assert.ok(await until(() => steps(cluster, alloc.jobId).length >= 8, 20_000), run.output());
    run.child.kill('SIGKILL');
    await run.done;
  } finally {
    run.child.kill('SIGKILL');
  }
  assert.ok(await until(() => steps(cluster, alloc.jobId).length === 0, 10_000), `steps left: ${steps(cluster, alloc.jobId)}`);
  assert.ok(await until(() => pgrep(tag).length === 0, 5000), `left: ${pgrep(tag)}`);
});

test('expert tune discover --machines slurm and expert slurm machines work through the allocation (srun, no SSH)', async () => {
  const machines = runCli(['slurm', 'machines', '--format', 'csv'], alloc.env);
  assert.equal(await machines.done, 0, machines.output());
  assert.equal(machines.output(), 'node,host,launcher\nn1,127.0.0.1,srun\nn2,127.0.0.1,srun\nn3,127.0.0.1,srun\nn4,127.0.0.1,srun\n');
  const discover = runCli(['tune', 'discover', '--machines', 'slurm', '--host', 'n2', '--host', 'n4', '--format', 'json'], alloc.env);
  assert.equal(await discover.done, 0, discover.output());
  const found = JSON.parse(discover.output().slice(discover.output().indexOf('['))) as Array<{ node: string; topology: { cpus: number[] } }>;
  assert.deepEqual(found.map((d) => d.node).sort(), ['n2', 'n4']);
  assert.ok(found.every((d) => d.topology.cpus.length >= 1));
  assert.deepEqual(steps(cluster, alloc.jobId), []);
});

function shortBatch(name: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, 'machines: slurm', 'tests:', '  - {name: hello, on: nodes, command: "echo hello from $SLURMD_NODENAME"}', ''].join('\n'));
  return file;
}

test('expert run --dry-run inside an allocation shows how each process starts: srun -w NODE', async () => {
  const dry = runCli(['run', shortBatch('dry'), '--dry-run', '--format', 'csv'], alloc.env);
  assert.equal(await dry.done, 0, dry.output());
  const [header, ...lines] = dry.output().trim().split('\n').map((l) => l.split(','));
  const at = (name: string) => lines.map((l) => l[header!.indexOf(name)]);
  assert.deepEqual(at('target'), ['n1', 'n2', 'n3', 'n4']);
  assert.deepEqual(at('launcher'), ['srun -w n1', 'srun -w n2', 'srun -w n3', 'srun -w n4']);
  assert.deepEqual(steps(cluster, alloc.jobId), [], 'a dry run starts no step');
});

async function finishedBatch(storeFile: string): Promise<{ status: string; jobId: string; lines: string[] }> {
  const s = await openStore(storeFile, { readOnly: true });
  try {
    const batch = (await rows(s, 'SELECT batch_id, status, provenance FROM batch'))[0]!;
    const lines = await rows(s, 'SELECT text FROM line JOIN process USING (process_id) ORDER BY text');
    return { status: String(batch.status), jobId: JSON.parse(String(batch.provenance)).slurm?.job_id, lines: lines.map((l) => String(l.text)) };
  } finally {
    await s.close();
  }
}

test('outside an allocation, expert run of machines: slurm exits 2 saying so', async () => {
  const { SLURM_JOB_ID: _a, SLURM_JOBID: _b, SLURM_JOB_NODELIST: _c, SLURM_NODELIST: _d, ...outside } = alloc.env;
  const run = runCli(['run', shortBatch('outside'), '--store', join(dir, 'outside.duckdb')], outside);
  assert.equal(await run.done, 2, run.output());
  assert.match(run.output(), /outside\.yaml:2:\d+: .*needs a Slurm allocation.*salloc -N/);
  assert.equal(existsSync(join(dir, 'outside.duckdb')), false, 'bad input writes no store');
  // Verbs without a config name what was typed (no file:line of a config that does not exist).
  const machines = runCli(['slurm', 'machines'], outside);
  assert.equal(await machines.done, 2, machines.output());
  assert.match(machines.output(), /^expert: `expert slurm machines` needs a Slurm allocation, and this shell is not in one/);
  const discover = runCli(['tune', 'discover', '--machines', 'slurm'], outside);
  assert.equal(await discover.done, 2, discover.output());
  assert.match(discover.output(), /^expert: `--machines slurm` needs a Slurm allocation/);
});

test('salloc -N 2 expert run: every line of both nodes, the batch finished, the job id in provenance', async () => {
  const storeFile = join(dir, 'salloc.duckdb');
  const child = spawn('salloc', ['-N', '2', '-J', 'expert-salloc', process.execPath, CLI, 'run', shortBatch('salloc'), '--store', storeFile], { env: cluster.env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d; });
  child.stderr!.on('data', (d: Buffer) => { out += d; });
  const code = await new Promise((done) => child.once('close', done));
  assert.equal(code, 0, out);
  const jobId = /Granted job allocation (\d+)/.exec(out)?.[1];
  const batch = await finishedBatch(storeFile);
  assert.equal(batch.status, 'finished');
  assert.equal(batch.jobId, jobId);
  assert.equal(batch.lines.length, 2);
  assert.ok(batch.lines.every((l) => /^hello from n[1-4]$/.test(l)), batch.lines.join('|'));
});

test('expert slurm submit: the batch runs as an sbatch job and ends finished in the store, the job id in provenance', async () => {
  const storeFile = join(dir, 'submit.duckdb');
  const submit = runCli(['slurm', 'submit', shortBatch('submitted'), '-N', '3', '--store', storeFile, '--output', join(dir, 'job-%j.out')], cluster.env);
  assert.equal(await submit.done, 0, submit.output());
  const jobId = /^job (\d+)$/m.exec(submit.output())?.[1];
  assert.ok(jobId, submit.output());
  assert.ok(await until(() => jobState(cluster, jobId) === '', 60_000), `job ${jobId} still ${jobState(cluster, jobId)}`);
  const batch = await finishedBatch(storeFile);
  assert.equal(batch.status, 'finished');
  assert.equal(batch.jobId, jobId);
  assert.equal(batch.lines.length, 3);
});

test('expert slurm submit refuses, exit 2 and nothing queued: -N beyond the partition, a partition Slurm lacks, machines outside the job (unless --allow-other-machines)', async () => {
  const name = `expert-refused-${process.pid}`;
  const queued = () => execFileSync('squeue', ['-h', '-o', '%i %j'], { env: cluster.env, encoding: 'utf8' }).split('\n').filter((l) => l.endsWith(` ${name}`)).map((l) => l.split(' ')[0]!);
  const submit = async (args: string[], env: NodeJS.ProcessEnv = cluster.env) => {
    const run = runCli(['slurm', 'submit', ...args, '--job-name', name, '--store', join(dir, 'refused.duckdb')], env);
    return { code: await run.done, output: run.output() };
  };
  const tooMany = await submit([shortBatch('too-many'), '-N', '5']);
  assert.equal(tooMany.code, 2, tooMany.output);
  assert.match(tooMany.output, /-N 5: the default partition expert has 4 nodes \(n\[1-4\]\)/);
  const nope = await submit([shortBatch('nope'), '-N', '1', '--partition', 'nope']);
  assert.equal(nope.code, 2, nope.output);
  assert.match(nope.output, /--partition nope: Slurm has no partition of that name \(it has expert\)/);
  // A testbed's machine map: SSH to machines that are not the job's nodes.
  const testbedDir = join(dir, 'tb');
  mkdirSync(testbedDir, { recursive: true });
  writeFileSync(join(testbedDir, 'machines.yaml'), 'nodes:\n  - {name: node1, host: 127.0.0.1, port: 1}\n');
  const file = join(dir, 'testbed.yaml');
  writeFileSync(file, ['name: on-testbed', 'machines: testbed', 'tests:', '  - {name: hello, on: nodes, command: "echo hi"}', ''].join('\n'));
  const env = { ...cluster.env, EXPERT_TESTBED_DIR: testbedDir };
  const elsewhere = await submit(['testbed.yaml', '-N', '2'], env);
  assert.equal(elsewhere.code, 2, elsewhere.output);
  assert.match(elsewhere.output, /testbed\.yaml:2:11: `machines: testbed` .*over SSH on machines outside the job's allocation.*--allow-other-machines/);
  assert.deepEqual(queued(), [], 'nothing was queued');
  const forced = await submit(['testbed.yaml', '-N', '2', '--allow-other-machines'], env);
  const jobId = /^job (\d+)$/m.exec(forced.output)?.[1];
  try {
    assert.equal(forced.code, 0, forced.output);
    assert.match(forced.output, /warning: `machines: testbed` .*runs over SSH outside the job's allocation/);
    assert.deepEqual(queued(), [jobId]);
  } finally {
    if (jobId) execFileSync('scancel', [jobId], { env: cluster.env });
  }
  assert.ok(await until(() => queued().length === 0, 30_000), `left: ${queued()}`);
});

/**
 * Against the project's Slurm (tests/slurm/harness.ts): `expert run --resume`
 * of a batch whose nodes ran through srun keeps them srun nodes (also when the
 * stored map carries a testbed's facts, which once made resume swap in the
 * testbed's SSH map) and refuses, exit 2, outside an allocation or in one that
 * does not hold the batch's nodes; `expert slurm submit --wait` of a failing
 * batch prints the job id on stdout and how the job ended; an unreadable
 * config says why. Heavy-ish (daemons): run under the shared lock.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown, type LocalCluster } from '../../src/slurm/local-cluster.js';
import { openStore } from '../../src/store/store.js';
import { allocate, startCluster, steps, type TestAllocation } from './harness.js';

const TSX = import.meta.resolve('tsx');
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
let cluster: LocalCluster;
let dir: string;
const allocations: TestAllocation[] = [];

before(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'expert-slurm-resume-'));
});

after(async () => {
  for (const a of allocations) a.release();
  if (cluster) await clusterDown(cluster);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Result { code: number | null; stdout: string; stderr: string; firstStdoutAt?: number; endedAt: number }

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let firstStdoutAt: number | undefined;
  child.stdout!.on('data', (d: Buffer) => { firstStdoutAt ??= Date.now(); stdout += d; });
  child.stderr!.on('data', (d: Buffer) => { stderr += d; });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ...(firstStdoutAt ? { firstStdoutAt } : {}), endedAt: Date.now() })));
}

function outside(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SLURM_JOB_ID: _a, SLURM_JOBID: _b, SLURM_JOB_NODELIST: _c, SLURM_NODELIST: _d, SLURM_JOB_NUM_NODES: _e, ...rest } = env;
  return rest;
}

/** The --dry-run plan's target and launcher columns. */
function planned(csv: string): string[] {
  const [header, ...lines] = csv.trim().split('\n').map((l) => l.split(','));
  return lines.map((l) => `${l[header!.indexOf('target')]} ${l[header!.indexOf('launcher')]}`);
}

test('--resume of a srun batch (with a testbed\'s facts in its map) keeps srun, and needs an allocation holding its nodes', async () => {
  const first = allocate(cluster, 2);
  allocations.push(first);
  const nodes = execFileSync('scontrol', ['show', 'hostnames', first.nodelist], { env: cluster.env, encoding: 'utf8' }).trim().split('\n');
  const [a, b] = nodes as [string, string];
  // The map `slurm: {vms: discover}` resolves to on the testbed's Slurm: srun nodes and the testbed's facts.
  writeFileSync(join(dir, 'resume.yaml'), [
    'name: srun-resume',
    'machines:',
    '  slurm: true',
    '  launcher: srun',
    '  testbed: {accel: tcg, manager: qemu}',
    'tests:',
    `  - {name: work, on: nodes, command: ${JSON.stringify(`echo "on $SLURMD_NODENAME step $SLURM_STEP_ID"; test -e ${dir}/ok-$SLURMD_NODENAME`)}}`,
    '',
  ].join('\n'));
  const ran = await cli(['run', 'resume.yaml', '--store', 'resume.duckdb'], first.env);
  assert.equal(ran.code, 1, ran.stderr);
  // The testbed up now is a plain SSH map of the same nodes (what `machines: testbed` reads).
  const testbedDir = join(dir, 'tb');
  mkdirSync(testbedDir, { recursive: true });
  writeFileSync(join(testbedDir, 'machines.yaml'), `nodes:\n  - {name: ${a}, host: 127.0.0.1, port: 1, user: root}\n  - {name: ${b}, host: 127.0.0.1, port: 2, user: root}\n`);
  const env = { ...first.env, EXPERT_TESTBED_DIR: testbedDir };

  const dry = await cli(['run', '--resume', '1', '--store', 'resume.duckdb', '--dry-run', '--format', 'csv'], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(planned(dry.stdout), [`${a} srun -w ${a}`, `${b} srun -w ${b}`], 'each node keeps its launcher');

  const out = await cli(['run', '--resume', '1', '--store', 'resume.duckdb', '--dry-run'], outside(env));
  assert.equal(out.code, 2, out.stdout + out.stderr);
  assert.match(out.stderr, new RegExp(`^expert: --resume 1: the batch ran on ${a}, ${b} as Slurm job steps \\(launcher: srun\\), and this shell is not in a Slurm allocation .*salloc -w ${a},${b}`));

  const other = allocate(cluster, 2, ['-x', nodes.join(',')]);
  allocations.push(other);
  const elsewhere = await cli(['run', '--resume', '1', '--store', 'resume.duckdb', '--dry-run'], { ...other.env, EXPERT_TESTBED_DIR: testbedDir });
  assert.equal(elsewhere.code, 2, `${other.nodelist} ${other.env.SLURM_JOB_NODELIST}: ${elsewhere.stdout}${elsewhere.stderr}`);
  assert.match(elsewhere.stderr, new RegExp(`^expert: --resume 1: the batch ran on ${a}, ${b} as Slurm job steps \\(launcher: srun\\), but this allocation \\(job ${other.jobId}, nodes ${other.nodelist.replace(/[[\]]/g, '\\$&')}\\) does not hold ${a}, ${b}`));
  other.release();

  // For real: the failed runs again, as job steps of the allocation on their nodes.
  for (const n of nodes) writeFileSync(join(dir, `ok-${n}`), '');
  const resumed = await cli(['run', '--resume', '1', '--store', 'resume.duckdb'], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  const store = await openStore(join(dir, 'resume.duckdb'), { readOnly: true });
  try {
    const rows = (await store.query("SELECT p.attempt, p.host, p.status, p.exit_code, l.text FROM process p JOIN line l USING (process_id) WHERE p.role = 'workload' ORDER BY p.attempt, p.host")).rows;
    assert.deepEqual(rows.map(([attempt, host, status, code, text]) => [Number(attempt), host, status, Number(code), String(text).replace(/step \d+$/, 'step N')]), [
      [1, a, 'exited', 1, `on ${a} step N`], [1, b, 'exited', 1, `on ${b} step N`],
      [2, a, 'exited', 0, `on ${a} step N`], [2, b, 'exited', 0, `on ${b} step N`],
    ]);
  } finally {
    await store.close();
  }
  assert.deepEqual(steps(cluster, first.jobId), []);
});

test('--resume of a machines: slurm batch outside an allocation is exit 2, also for --dry-run', async () => {
  const alloc = allocate(cluster, 1);
  allocations.push(alloc);
  writeFileSync(join(dir, 'plain.yaml'), ['name: plain', 'machines: slurm', 'tests:', '  - {name: hello, on: nodes, command: "exit 3"}', ''].join('\n'));
  const ran = await cli(['run', 'plain.yaml', '--store', 'plain.duckdb'], alloc.env);
  assert.equal(ran.code, 1, ran.stderr);
  alloc.release();
  for (const extra of [['--dry-run'], []]) {
    const r = await cli(['run', '--resume', '1', '--store', 'plain.duckdb', ...extra], outside(alloc.env));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--resume 1: the batch ran on n\d as Slurm job steps \(launcher: srun\), and this shell is not in a Slurm allocation/);
  }
});

test('expert slurm submit --wait of a failing batch: `job <id>` on stdout at once, then how the job and its batch ended, exit 1', async () => {
  writeFileSync(join(dir, 'fails.yaml'), ['name: fails', 'machines: slurm', 'tests:', '  - {name: w, on: nodes, command: "sleep 2; exit {code}", params: {code: [0, 3]}}', ''].join('\n'));
  const r = await cli(['slurm', 'submit', 'fails.yaml', '-N', '2', '--store', 'fails.duckdb', '--output', join(dir, 'job-%j.out'), '--wait'], cluster.env);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const jobId = /^job (\d+)\n$/.exec(r.stdout)?.[1];
  assert.ok(jobId, `stdout: ${JSON.stringify(r.stdout)}`);
  assert.ok(r.endedAt - r.firstStdoutAt! >= 2000, 'the job id came while the job ran, not after');
  assert.equal(r.stderr, `expert: job ${jobId} ended FAILED (exit code 1:0); its batch 1 in fails.duckdb: finished, 2 of 4 workloads exited 0; the job's output: ${join(dir, `job-${jobId}.out`)}\n`);
});

test('expert slurm submit of a config it cannot read says why', async () => {
  const r = await cli(['slurm', 'submit', 'nosuch.yaml', '-N', '2'], cluster.env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^expert: nosuch\.yaml: cannot read the batch config: ENOENT: no such file or directory/);
});

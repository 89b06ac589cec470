/**
 * The Slurm pieces that need no Slurm: the marker filter under every way a
 * stream can be cut into chunks, the step script run by a real /bin/sh and
 * perl (markers, exit codes, signals, hostile commands), the machine map
 * from an allocation's nodes, and the sbatch job script run by a real shell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MarkerFilter } from '../../src/batch/srun/marker-filter.js';
import { MARKER_PREFIX, parseMarker, srunArgv, stepScript } from '../../src/batch/srun/step-command.js';
import { allocationNodes } from '../../src/slurm/machine-map.js';
import { jobScript, sbatchArgs } from '../../src/slurm/submit.js';
import { batchMachines, machineMapPlace, otherMachinesError, parsePartitions, partitionProblem } from '../../src/slurm/submit-check.js';
import { parseBatchConfigText } from '../../src/batch/config/index.js';
import { pgrep, until } from '../helpers/processes.js';

const NONCE = 'c0ffee';
const PREFIX = `${MARKER_PREFIX}${NONCE} `;

function filterAll(chunks: Buffer[]): { out: Buffer; markers: string[] } {
  const parts: Buffer[] = [];
  const markers: string[] = [];
  const filter = new MarkerFilter(PREFIX, (m) => markers.push(m), (b) => parts.push(b));
  for (const c of chunks) filter.push(c);
  filter.end();
  return { out: Buffer.concat(parts), markers };
}

test('the marker filter removes markers wherever the stream is cut, and passes every other byte', () => {
  const program = Buffer.concat([Buffer.from('first\n'), Buffer.from([0xff, 0x00, 0x0d]), Buffer.from(`\nEXPERT-SRUN-other x\npartial EXPERT-SRUN-c0ffe`), Buffer.from('\ntail')]);
  const stream = Buffer.concat([Buffer.from(`${PREFIX}step 12.3 4567\n`), program.subarray(0, 10), Buffer.from(`${PREFIX}exit code 3\n`), program.subarray(10)]);
  for (let a = 0; a <= stream.length; a++) {
    for (const b of [a, Math.min(stream.length, a + 1), Math.min(stream.length, a + 7)]) {
      const { out, markers } = filterAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
      assert.deepEqual(out, program, `cut at ${a}/${b}`);
      assert.deepEqual(markers, ['step 12.3 4567', 'exit code 3']);
    }
  }
});

test('the marker filter never holds a complete line back (only a tail that may become a marker)', () => {
  const seen: string[] = [];
  const filter = new MarkerFilter(PREFIX, () => undefined, (b) => seen.push(b.toString()));
  filter.push(Buffer.from('line one\nEXPERT-SR'));
  assert.deepEqual(seen, ['line one\n']);
  filter.push(Buffer.from('UN-not-ours\n'));
  assert.equal(seen.join(''), 'line one\nEXPERT-SRUN-not-ours\n');
});

test('parseMarker reads the step and exit markers and nothing else', () => {
  assert.deepEqual(parseMarker('step 41.7 1234'), { kind: 'step', step: '41.7', pid: 1234 });
  assert.deepEqual(parseMarker('exit code 0'), { kind: 'exit', code: 0 });
  assert.deepEqual(parseMarker('exit signal 15'), { kind: 'signal', signal: 15 });
  assert.equal(parseMarker('step . 1'), undefined); // outside Slurm the ids are empty
  assert.equal(parseMarker('exit code -1'), undefined);
});

/** Runs the step script as srun's task would run it (here, without Slurm): /bin/sh -c SCRIPT expert-srun NONCE COMMAND. */
function runStep(command: string, options: { env?: Record<string, string>; cwd?: string; stdin?: string; path?: string } = {}): Promise<{ code: number | null; signal: string | null; stdout: Buffer; stderr: Buffer }> {
  const argv = srunArgv({ node: 'n1', command, nonce: NONCE, env: options.env, cwd: options.cwd });
  const script = argv.slice(argv.indexOf('/bin/sh'));
  return new Promise((resolve) => {
    const child = spawn(script[0]!, script.slice(1), { env: { PATH: options.path ?? process.env.PATH!, SLURM_JOB_ID: '77', SLURM_STEP_ID: '5' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined); // EPIPE: the program ended without reading its stdin
    child.stdin.end(options.stdin ?? '');
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

test('the step script: step marker first, then the program byte for byte, then the exit report (perl)', async () => {
  const r = await runStep(`printf 'a\\377\\n'; printf 'e\\n' >&2; cat; printf 'no newline'; exit 3`, { stdin: 'in\n' });
  const text = r.stdout.toString('latin1');
  const step = new RegExp(`^${PREFIX}step 77\\.5 (\\d+)\\n`).exec(text);
  assert.ok(step, text);
  assert.equal(text.slice(step[0].length), `a\xff\nin\nno newline${PREFIX}exit code 3\n`);
  assert.equal(r.stderr.toString(), 'e\n');
  assert.equal(r.code, 3);
});

test('the step script reports a signal the program died of (srun alone would say exit code 128+N)', async () => {
  const killed = await runStep('kill -USR1 $$');
  assert.match(killed.stdout.toString(), new RegExp(`${PREFIX}exit signal 10\\n$`));
  assert.equal(killed.code, 138);
  const exited = await runStep('exit 138');
  assert.match(exited.stdout.toString(), new RegExp(`${PREFIX}exit code 138\\n$`));
});

test('the step script: a signal for the step reaches only its task (as Slurm sends it), which passes it to the program and its children, then reports it', async () => {
  const tag = `expert-fwd-${process.pid}-${Date.now()}`;
  const argv = srunArgv({ node: 'n1', command: `sh -c 'sleep 30; : ${tag}' & echo up; sleep 30; : ${tag}`, nonce: NONCE });
  const script = argv.slice(argv.indexOf('/bin/sh'));
  const child = spawn(script[0]!, script.slice(1), { detached: true, env: { PATH: process.env.PATH!, SLURM_JOB_ID: '1', SLURM_STEP_ID: '2' } });
  let out = '';
  await new Promise<void>((up) => child.stdout!.on('data', (d: Buffer) => { out += d; if (out.includes('up\n')) up(); }));
  // Slurm's proctrack/cgroup sends a signal other than KILL to the task alone (slurmstepd's child): the reporter.
  const task = Number(new RegExp(`${PREFIX}step 1\\.2 (\\d+)`).exec(out)?.[1]);
  assert.equal(task, child.pid, 'the task the marker names is the reporter srun started');
  process.kill(task, 'SIGTERM');
  const code = await new Promise((done) => child.on('close', (c) => done(c)));
  assert.match(out, new RegExp(`${PREFIX}exit signal 15\\n$`));
  assert.equal(code, 143);
  assert.ok(await until(() => pgrep(tag).length === 0, 5000), `the program's children got the TERM too: left ${pgrep(tag)}`);
});

test('without perl the step script execs the command: exit codes exact, no exit marker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-noperl-'));
  try {
    for (const tool of ['printf', 'sh', 'cat']) {
      const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      spawnSync('ln', ['-s', where, join(dir, tool)]);
    }
    const r = await runStep('printf x; exit 4', { path: dir });
    assert.equal(r.code, 4);
    assert.match(r.stdout.toString(), new RegExp(`^${PREFIX}step 77\\.5 \\d+\\nx$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile commands, environment values and folders reach the node literally', async () => {
  const dir = mkdtempSync(join(tmpdir(), "expert it's $(x) `y`-"));
  try {
    const value = `a'b"c $(touch ${join(dir, 'pwned')}) \`id\` \n;|&`;
    const r = await runStep(`printf '%s|%s' "$V" "$PWD"`, { env: { V: value }, cwd: dir });
    const body = r.stdout.toString().replace(new RegExp(`^${PREFIX}step 77\\.5 \\d+\\n`), '').replace(new RegExp(`${PREFIX}exit code 0\\n$`), '');
    assert.equal(body, `${value}|${dir}`);
    assert.throws(() => readFileSync(join(dir, 'pwned')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => stepScript({ env: { 'BAD NAME': '1' } }), /not a valid shell name/);
  assert.throws(() => srunArgv({ node: 'n1;rm', command: 'true', nonce: NONCE }), /not a Slurm node name/);
});

const NODES = [
  { name: 'c1', addr: '10.0.0.1', hostname: 'c1' },
  { name: 'c2', addr: '10.0.0.2', hostname: 'c2' },
];

test('allocation nodes: guests from the template per node; a nodes: entry of the same name wins; others are left out', () => {
  const nodes = allocationNodes(NODES, { vms: { count: 2, host: '{host}', port: '22{node_index}{index}', user: 'root' } }, [
    { name: 'c2', host: 'c2.example', vms: [{ name: 'big', port: 2222 }] },
    { name: 'c9', host: 'elsewhere' },
  ]);
  assert.deepEqual(nodes, [
    { name: 'c1', host: '10.0.0.1', vms: [{ name: 'vm1', host: '10.0.0.1', port: 2211, user: 'root' }, { name: 'vm2', host: '10.0.0.1', port: 2212, user: 'root' }] },
    { name: 'c2', host: 'c2.example', vms: [{ name: 'big', port: 2222 }] },
  ]);
  assert.deepEqual(allocationNodes(NODES, true), [{ name: 'c1', host: '10.0.0.1' }, { name: 'c2', host: '10.0.0.2' }]);
  assert.throws(() => allocationNodes(NODES, { vms: { count: 1, port: '9{index}9999' } }), /port "919999" for guest vm1 of node c1/);
  assert.throws(() => allocationNodes(NODES, { vms: { count: 1, name: '{guest}' } }), /unknown placeholder \{guest\}/);
});

test('outside an allocation, machines: slurm and launcher: srun are bad input at their line, before anything runs', async () => {
  const env = { PATH: process.env.PATH };
  const text = (machines: string) => `name: x\n${machines}\ntests:\n  - {name: t, on: nodes, command: 'true'}\n`;
  await assert.rejects(parseBatchConfigText(text('machines: slurm'), { file: 'b.yaml', env }), (e: Error & { exitCode?: number }) => {
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /^b\.yaml:2:\d+: .*needs a Slurm allocation.*salloc -N/);
    return true;
  });
  await assert.rejects(parseBatchConfigText(text('machines:\n  nodes:\n    - {name: a, host: local}\n    - {name: b, host: local, launcher: srun}'), { file: 'b.yaml', env }), /b\.yaml:5:\d+: .*`launcher: srun` needs a Slurm allocation/);
  await assert.rejects(parseBatchConfigText(text('machines:\n  launcher: rsh\n  nodes: [{name: a, host: local}]'), { file: 'b.yaml', env }), /b\.yaml:3:\d+: .*ssh.*srun/);
  await assert.rejects(parseBatchConfigText(text('machines:\n  ssh: {}'), { file: 'b.yaml', env }), /b\.yaml:3:\d+: .*missing required key `nodes`.*slurm/);
  const plain = await parseBatchConfigText(text('machines:\n  launcher: ssh\n  nodes: [{name: a, host: local}]'), { file: 'b.yaml', env });
  assert.deepEqual(plain.machines, { nodes: [{ name: 'a', host: 'local' }], launcher: 'ssh' });
});

test('the sbatch job script runs expert run with the batch and store as absolute paths, literally', () => {
  const dir = mkdtempSync(join(tmpdir(), "expert sub'mit-"));
  try {
    const argsFile = join(dir, 'args');
    const fake = join(dir, 'fake expert');
    writeFileSync(fake, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${argsFile.replace(/'/g, `'\\''`)}'; echo "$EXPERT_SLURM_SUBMIT $PWD" >> '${argsFile.replace(/'/g, `'\\''`)}'\n`, { mode: 0o755 });
    const options = { batchFile: 'b $(x).yaml', store: 'out.duckdb', nodes: 2, set: ["tests.0.command=echo 'hi'"], cwd: dir, expert: [fake] };
    const ran = spawnSync('sh', ['-c', jobScript(options)], { encoding: 'utf8' });
    assert.equal(ran.status, 0, ran.stderr);
    assert.deepEqual(readFileSync(argsFile, 'utf8').split('\n'), ['run', join(dir, 'b $(x).yaml'), '--store', join(dir, 'out.duckdb'), '--set', "tests.0.command=echo 'hi'", `1 ${dir}`, '']);
    assert.deepEqual(sbatchArgs({ ...options, partition: 'p', time: '10:00' }, true).slice(0, 3), ['--parsable', '-N', '2']);
    assert.ok(sbatchArgs({ ...options, partition: 'p', time: '10:00' }, true).includes('--wait'));
    assert.throws(() => sbatchArgs({ ...options, nodes: 0 }, false), /-N 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Captured from the project's Slurm 22.05 (src/slurm/local-cluster.ts): `scontrol -o show partition`.
const PARTITION_LINE = 'PartitionName=expert AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=YES QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=n[1-4] PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=8 TotalNodes=4 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED TRES=cpu=8,mem=4M,node=4,billing=8';

test('submit checks: a partition with fewer nodes (or a lower MaxNodes) than -N, or none of that name, is refused saying what it has', () => {
  const small = PARTITION_LINE.replace('PartitionName=expert', 'PartitionName=small').replace('Default=YES', 'Default=NO').replace('MaxNodes=UNLIMITED', 'MaxNodes=1').replace('Nodes=n[1-4]', 'Nodes=n[1-2]').replace('TotalNodes=4', 'TotalNodes=2');
  const parts = parsePartitions(`${PARTITION_LINE}\n${small}\n`);
  assert.deepEqual(parts, [
    { name: 'expert', totalNodes: 4, nodes: 'n[1-4]', maxNodes: undefined, isDefault: true },
    { name: 'small', totalNodes: 2, nodes: 'n[1-2]', maxNodes: 1, isDefault: false },
  ]);
  assert.equal(partitionProblem(parts, undefined, 4), undefined);
  assert.match(String(partitionProblem(parts, undefined, 5)), /^-N 5: the default partition expert has 4 nodes \(n\[1-4\]\); .*PartitionConfig.*at most 4/);
  assert.match(String(partitionProblem(parts, 'small', 3)), /^-N 3: partition small has 2 nodes \(n\[1-2\]\)/);
  assert.match(String(partitionProblem(parts, 'small', 2)), /^-N 2: partition small takes at most 1 node per job \(MaxNodes\)/);
  assert.match(String(partitionProblem(parts, 'nope', 1)), /^--partition nope: Slurm has no partition of that name \(it has expert, small\)/);
});

test("submit checks: machines: slurm, slurm: or srun nodes are the job's; host: local only is its first node; SSH maps and the testbed are elsewhere", () => {
  assert.equal(machineMapPlace('slurm'), 'allocation');
  assert.equal(machineMapPlace({ slurm: { vms: 'discover' } }), 'allocation');
  assert.equal(machineMapPlace({ slurm: true, launcher: 'ssh' }), 'allocation');
  assert.equal(machineMapPlace({ nodes: [{ name: 'a', host: 'h' }, { name: 'n1', launcher: 'srun' }] }), 'allocation');
  assert.equal(machineMapPlace({ nodes: [{ name: 'a', host: 'local' }] }), 'this-node');
  assert.equal(machineMapPlace({ nodes: [{ name: 'a', host: '10.0.0.1' }] }), 'elsewhere');
  const dir = mkdtempSync(join(tmpdir(), 'expert-submit-'));
  try {
    const env = { EXPERT_TESTBED_DIR: join(dir, 'tb') };
    const batch = (machines: string) => `name: x\n${machines}\ntests:\n  - {name: t, on: nodes, command: 'true'}\n`;
    assert.throws(() => batchMachines(batch('machines: testbed'), 'b.yaml', [], dir, env), /^ConfigError: b\.yaml:2:11: .*cannot read the machine map .*tb\/machines\.yaml, which does not exist: run `expert testbed up` first/);
    mkdirSync(join(dir, 'tb'));
    writeFileSync(join(dir, 'tb', 'machines.yaml'), 'nodes:\n  - {name: node1, host: 127.0.0.1, port: 2201}\n');
    const testbed = batchMachines(batch('machines: testbed'), 'b.yaml', [], dir, env);
    assert.deepEqual([testbed.place, testbed.at?.line, testbed.at?.column], ['elsewhere', 2, 11]);
    assert.match(otherMachinesError(testbed).message, /^b\.yaml:2:11: `machines: testbed` .*outside the job's allocation.*--allow-other-machines/);
    assert.equal(batchMachines(batch('machines: testbed'), 'b.yaml', ['machines=slurm'], dir, env).place, 'allocation');
    assert.equal(batchMachines(batch('machines: slurm'), 'b.yaml', ['machines=testbed'], dir, env).place, 'elsewhere');
    assert.equal(batchMachines(batch(''), 'b.yaml', [], dir, env).place, 'this-node');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `testbed up --slurm` for real: two TCG guests on two nodes, a slurmctld and
 * a slurmd inside each node's PID namespace (real Slurm, real munge), an
 * allocation of both nodes (tests/slurm/harness.ts), Tune's discovery through
 * srun seeing on each node only that node's guest, a pin through srun that
 * changes the guest's real affinity and a restore that gives it back, a batch
 * whose node processes are job steps, a batch on `slurm: {vms: discover}`
 * (guests found through srun on each node), and `down` leaving no slurmd,
 * slurmctld, QEMU or sshd behind. Heavy: run under the shared lock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { testbedDown, testbedStatus, testbedUp, type TestbedStatus } from '../../src/testbed/index.js';
import { testbedFiles } from '../../src/testbed/paths.js';
import { readState } from '../../src/testbed/state.js';
import { slurmCluster } from '../../src/testbed/slurm.js';
import { canIsolateNodes } from '../../src/testbed/node.js';
import { openStore } from '../../src/store/store.js';
import type { LocalCluster } from '../../src/slurm/local-cluster.js';
import { allocate, steps, type TestAllocation } from '../slurm/harness.js';
import { processesMentioning } from '../helpers/processes.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..', '..');
const env = { ...process.env };
delete env.EXPERT_TESTBED_DIR;
delete env.SLURM_CONF;
const skip = canIsolateNodes() ? false : 'needs root and unshare (each node in its own PID namespace)';
let cwd = '';
let status: TestbedStatus;
let cluster: LocalCluster;
let alloc: TestAllocation | undefined;
let upStderr = '';

/** Every live process whose command line mentions `text`. */

function cli(args: string[], runEnv: NodeJS.ProcessEnv) {
  return run(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), ...args], { cwd, env: runEnv, timeout: 180_000 });
}

/** The guest's vCPU thread as the host sees it: its TID and affinity. */
function vcpuAffinity(pid: number): { tid: number; cpus: string } {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== 'CPU 0/TCG') continue;
    const line = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'))!;
    return { tid: Number(tid), cpus: line.split(/\s+/)[1]! };
  }
  throw new Error(`QEMU ${pid} has no thread named CPU 0/TCG`);
}

/** The PID (or a thread's TID) of a host process inside its own (innermost) PID namespace. */
function nsPid(pid: number, tid = pid): number {
  const line = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'))!;
  return Number(line.trim().split(/\s+/).at(-1));
}

before(async () => {
  if (skip) return;
  cwd = await mkdtemp(join(tmpdir(), 'expert-testbed-slurm-'));
  // The smallest testbed with several nodes (as testbed-live.test.ts): one guest per node; through the CLI, for what it prints.
  const up = await run(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), 'testbed', 'up', '--vms', '1', '--nodes', '2', '--accel', 'tcg', '--memory', '192', '--disk', '128', '--slurm'], { cwd, env, timeout: 600_000 });
  upStderr = up.stderr;
  status = (await testbedStatus({ cwd, env }))!;
  const state = await readState(testbedFiles(join(cwd, '.expert', 'testbed')).state);
  cluster = slurmCluster(state!.slurm!);
});

after(async () => {
  if (!cwd) return;
  alloc?.release();
  try { await testbedDown({ cwd, env }); } finally {
    for (const line of processesMentioning(cwd)) try { process.kill(Number(line.split(':')[0]), 'SIGKILL'); } catch { /* gone */ }
    await rm(cwd, { recursive: true, force: true });
  }
});

test('up --slurm: a slurmctld and, in each node\'s PID namespace, a slurmd; Slurm has node1 and node2 idle', { skip }, () => {
  assert.equal(status.complete, true, status.problems.join('; '));
  const slurm = status.slurm!;
  assert.equal(slurm.controllerRunning, true);
  assert.deepEqual(slurm.nodes.map((n) => [n.name, n.running, n.inNodeNamespace, n.state]), [['node1', true, true, 'idle'], ['node2', true, true, 'idle']]);
  for (const [i, n] of slurm.nodes.entries()) {
    assert.equal(readlinkSync(`/proc/${n.slurmdPid}/ns/pid`), readlinkSync(`/proc/${status.guests[i]!.pid}/ns/pid`), `${n.name}'s slurmd shares its guest's PID namespace`);
    assert.notEqual(readlinkSync(`/proc/${n.slurmdPid}/ns/pid`), readlinkSync('/proc/self/ns/pid'));
  }
  const sinfo = execFileSync('sinfo', ['-h', '-N', '-o', '%N %P %t'], { env: cluster.env, encoding: 'utf8' });
  assert.deepEqual(sinfo.trim().split('\n').map((l) => l.trim()), ['node1 testbed* idle', 'node2 testbed* idle']);
  // What to export and the nodes' states, said once, after `up:` (it was also said before it).
  assert.equal(upStderr.split('SLURM_CONF=').length - 1, 1, upStderr);
  assert.match(upStderr, /testbed: up: 2 guests on 2 nodes.*\ntestbed: slurm: node1 idle, node2 idle in partition testbed; Slurm's commands need:\ntestbed:   export SLURM_CONF=/);
});

test('a second up --slurm reuses what runs (same slurmd PIDs), and `testbed status` shows the Slurm', { skip }, async () => {
  const again = await testbedUp({ cwd, env, vms: 1, nodes: 2, accel: 'tcg', memoryMb: 192, slurm: true });
  assert.equal(again.alreadyUp, true);
  assert.deepEqual(again.differences, []);
  assert.deepEqual(again.status.slurm!.nodes.map((n) => n.slurmdPid), status.slurm!.nodes.map((n) => n.slurmdPid));
  assert.equal(again.status.slurm!.controllerPid, status.slurm!.controllerPid);
  const { stderr } = await cli(['testbed', 'status', '--format', 'table'], env);
  assert.match(stderr, new RegExp(`slurm: slurmctld pid ${status.slurm!.controllerPid}; node1=slurmd pid ${status.slurm!.nodes[0]!.slurmdPid} idle, node2=slurmd pid ${status.slurm!.nodes[1]!.slurmdPid} idle; partition testbed; SLURM_CONF=`));
  // csv and json say the same, as columns of each guest's row (its node's slurmd).
  const json = JSON.parse((await cli(['testbed', 'status', '--format', 'json'], env)).stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(json.map((r) => [r.node, r.guest, r.slurm_state, r.slurmd_pid, r.slurmd_in_node_ns, r.slurmctld_pid, r.slurm_partition, r.slurm_conf]),
    status.slurm!.nodes.map((n, i) => [n.name, status.guests[i]!.name, 'idle', n.slurmdPid, true, status.slurm!.controllerPid, 'testbed', status.slurm!.conf]));
  const csv = (await cli(['testbed', 'status', '--format', 'csv'], env)).stdout.trim().split('\n');
  assert.match(csv[0]!, /,slurm_state,slurmd_pid,slurmd_in_node_ns,slurmctld_pid,slurm_partition,slurm_conf$/);
  assert.equal(csv[1]!.split(',').slice(-6).join(','), `idle,${status.slurm!.nodes[0]!.slurmdPid},true,${status.slurm!.controllerPid},testbed,${status.slurm!.conf}`);
});

test('inside salloc -N 2, Tune\'s discovery through srun sees on each node only that node\'s guest', { skip }, async () => {
  alloc = allocate(cluster, 2);
  const { stdout } = await cli(['tune', 'discover', '--machines', 'slurm', '--format', 'json'], alloc.env);
  const found = JSON.parse(stdout) as Array<{ node: string; guests: Array<{ name: string; pid: number }> }>;
  const byNode = Object.fromEntries(found.map((d) => [d.node, d.guests.map((g) => `${g.name}:${g.pid}`)]));
  // The PIDs are those of each node's namespace, as on a real node: the guest's PID inside it.
  assert.deepEqual(byNode, Object.fromEntries(status.guests.map((g) => [g.node, [`${g.name}:${nsPid(g.pid)}`]])));
  assert.deepEqual(steps(cluster, alloc.jobId), []);
});

test('Tune through srun: a pin of vm2\'s vCPU changes its real affinity, and restore gives it back', { skip }, async () => {
  const vm2 = status.guests.find((g) => g.name === 'vm2')!;
  const vm1 = status.guests.find((g) => g.name === 'vm1')!;
  const before = vcpuAffinity(vm2.pid);
  const vm1Before = vcpuAffinity(vm1.pid).cpus;
  const target = before.cpus.endsWith('1') && before.cpus !== '1' ? 1 : 0;
  await writeFile(join(cwd, 'pin.yaml'), `name: pin-vm2\nidentify: {vms: [vm2]}\npin: {cpus: [${target}], threads: vcpu}\n`);
  const applied = await cli(['tune', 'apply', 'pin.yaml', '--machines', 'slurm', '--store', 'tune.duckdb', '--format', 'json'], alloc!.env);
  const rows = JSON.parse(applied.stdout) as Array<{ node: string; guest: string; tid: number; verified: boolean }>;
  // Tune ran in node2's namespace: it names the thread by its TID there.
  assert.deepEqual(rows.map((r) => [r.node, r.guest, r.tid, r.verified]), [['node2', 'vm2', nsPid(vm2.pid, before.tid), true]]);
  assert.equal(vcpuAffinity(vm2.pid).cpus, String(target), 'the host sees the pin');
  assert.equal(vcpuAffinity(vm1.pid).cpus, vm1Before, 'node1\'s guest is untouched');
  const restored = await cli(['tune', 'restore', '--store', 'tune.duckdb'], alloc!.env);
  assert.match(restored.stdout + restored.stderr, /vm2/);
  assert.equal(vcpuAffinity(vm2.pid).cpus, before.cpus, 'restored');
  assert.deepEqual(steps(cluster, alloc!.jobId), []);
});

test('a batch on the slurm machine map: node processes are job steps on their node (its guest only), guests over SSH', { skip }, async () => {
  await writeFile(join(cwd, 'batch.yaml'), [
    'name: testbed-slurm',
    'machines: ./.expert/testbed/slurm-machines.yaml',
    'tests:',
    `  - {name: guests, on: nodes, command: ${JSON.stringify("ps -e -o args= | grep -o '^qemu-system-x86_64 -name guest=[^,]*' | sed \"s/^/$SLURMD_NODENAME step $SLURM_STEP_ID: /\"")}}`,
    '  - {name: hostname, on: vms, command: hostname}',
    '',
  ].join('\n'));
  const { stdout } = await cli(['run', 'batch.yaml', '--store', 'batch.duckdb', '--format', 'json'], alloc!.env);
  const rows = JSON.parse(stdout) as Array<{ label: string; status: string; exit_code: number }>;
  assert.deepEqual(rows.map((r) => `${r.label}:${r.status}:${r.exit_code}`).sort(), [
    'guests baseline #1 @node1:exited:0', 'guests baseline #1 @node2:exited:0',
    'hostname baseline #1 @node1/vm1:exited:0', 'hostname baseline #1 @node2/vm2:exited:0',
  ]);
  const store = await openStore(join(cwd, 'batch.duckdb'), { readOnly: true });
  try {
    const lines = (await store.query('SELECT text FROM line ORDER BY text')).rows.map((r) => String(r[0]));
    assert.equal(lines.length, 4, lines.join('|'));
    assert.match(lines[0]!, /^node1 step \d+: qemu-system-x86_64 -name guest=vm1$/);
    assert.match(lines[1]!, /^node2 step \d+: qemu-system-x86_64 -name guest=vm2$/);
    assert.deepEqual(lines.slice(2), ['vm1', 'vm2']);
  } finally {
    await store.close();
  }
  assert.deepEqual(steps(cluster, alloc!.jobId), []);
});

test('machines: {slurm: {vms: discover}}: each node\'s guests found through srun there, every guest\'s lines stored (no slurm-machines.yaml)', { skip }, async () => {
  await writeFile(join(cwd, 'discover.yaml'), [
    'name: testbed-slurm-discover',
    'machines:',
    '  slurm: {vms: discover}',
    'tests:',
    `  - {name: lines, on: vms, command: ${JSON.stringify('for i in 1 2 3; do echo "$(hostname) line $i"; done')}}`,
    '',
  ].join('\n'));
  const { stdout } = await cli(['run', 'discover.yaml', '--store', 'discover.duckdb', '--format', 'json'], alloc!.env);
  const rows = JSON.parse(stdout) as Array<{ label: string; status: string; exit_code: number }>;
  assert.deepEqual(rows.map((r) => `${r.label}:${r.status}:${r.exit_code}`).sort(), status.guests.map((g) => `lines baseline #1 @${g.node}/${g.name}:exited:0`).sort());
  const store = await openStore(join(cwd, 'discover.duckdb'), { readOnly: true });
  try {
    const lines = (await store.query("SELECT p.host || ' ' || p.vm || ': ' || l.text FROM line l JOIN process p USING (process_id) ORDER BY p.vm, l.seq")).rows.map((r) => String(r[0]));
    assert.deepEqual(lines, status.guests.flatMap((g) => [1, 2, 3].map((i) => `${g.node} ${g.name}: ${g.name} line ${i}`)));
    // The map the batch ran on: each guest where its QEMU forwards SSH, logged into with the testbed's key; its facts in provenance.
    const [config, provenance] = (await store.query('SELECT config, provenance FROM batch')).rows[0]!.map((v) => JSON.parse(String(v)));
    assert.deepEqual(config.machines.nodes.map((n: { name: string; vms: unknown[] }) => [n.name, n.vms]), status.guests.map((g) => [g.node, [{ name: g.name, host: g.sshHost, port: g.sshPort, user: 'root' }]]));
    assert.equal(config.machines.ssh.identityFile, join(cwd, '.expert', 'testbed', 'id_ed25519'));
    assert.equal(provenance.testbed.accel, status.accel, 'the testbed\'s facts are in provenance, as with machines: testbed');
  } finally {
    await store.close();
  }
  assert.deepEqual(steps(cluster, alloc!.jobId), []);
});

test('--resume of a batch on slurm: {vms: discover} with launcher: srun plans srun -w NODE again, and outside an allocation is exit 2', { skip }, async () => {
  await writeFile(join(cwd, 'resume.yaml'), [
    'name: testbed-slurm-resume',
    'machines:',
    '  slurm: {vms: discover}',
    '  launcher: srun',
    'tests:',
    '  - {name: fails, on: nodes, command: "exit 3"}',
    '  - {name: hostname, on: vms, command: hostname}',
    '',
  ].join('\n'));
  await assert.rejects(cli(['run', 'resume.yaml', '--store', 'resume.duckdb'], alloc!.env), (e: Error & { code?: number }) => e.code === 1);
  const { stdout } = await cli(['run', '--resume', '1', '--store', 'resume.duckdb', '--dry-run', '--format', 'json'], alloc!.env);
  const rows = JSON.parse(stdout) as Array<{ target: string; launcher: string }>;
  assert.deepEqual(rows.map((r) => `${r.target} ${r.launcher}`), ['node1 srun -w node1', 'node2 srun -w node2'], 'the failed node runs again through srun, not ssh');
  const { SLURM_JOB_ID: _a, SLURM_JOBID: _b, SLURM_JOB_NODELIST: _c, SLURM_NODELIST: _d, ...outside } = alloc!.env;
  await assert.rejects(cli(['run', '--resume', '1', '--store', 'resume.duckdb', '--dry-run'], outside), (e: Error & { code?: number; stderr?: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr!, /--resume 1: the batch ran on node1, node2 as Slurm job steps \(launcher: srun\), and this shell is not in a Slurm allocation/);
    return true;
  });
  assert.deepEqual(steps(cluster, alloc!.jobId), []);
});

test('vms: discover and a QEMU without an SSH forward on node1: exit 2 at the config\'s line, naming node and guest', { skip }, async () => {
  const state = (await readState(testbedFiles(join(cwd, '.expert', 'testbed')).state))!;
  const pidFile = join(cwd, 'nonet.pid');
  // A real QEMU in node1's namespace, with no network at all (so no hostfwd to read).
  execFileSync('nsenter', ['--target', String(state.nodes[0]!.nsInit), '--pid', '--mount', '--', 'qemu-system-x86_64', '-name', 'guest=nonet,debug-threads=on',
    '-machine', 'none', '-display', 'none', '-nodefaults', '-monitor', 'none', '-pidfile', pidFile, '-daemonize']);
  try {
    await assert.rejects(cli(['run', 'discover.yaml', '--store', 'discover.duckdb'], alloc!.env), (e: Error & { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr!, /discover\.yaml:3:\d+: machines\.slurm\.vms: discover: guest nonet \(QEMU pid \d+ there\) found on node node1 has no user-net forward to its port 22/);
      return true;
    });
  } finally {
    for (const line of processesMentioning(pidFile)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
  }
  // SIGKILL is delivered at once; the exit (and its reaping by node1's init) a moment later.
  for (let i = 0; i < 50 && processesMentioning(pidFile).length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(processesMentioning(pidFile), []);
  assert.deepEqual(steps(cluster, alloc!.jobId), []);
});

test('down stops slurmctld, every slurmd, guest and node sshd: nothing of the testbed is left', { skip }, async () => {
  alloc?.release();
  alloc = undefined;
  const daemons = [status.slurm!.controllerPid!, ...status.slurm!.nodes.map((n) => n.slurmdPid!)];
  const result = await testbedDown({ cwd, env });
  assert.equal(result.wasUp, true);
  assert.equal(result.stoppedSlurm, true);
  assert.deepEqual(result.stoppedGuests, ['vm1', 'vm2']);
  assert.deepEqual(processesMentioning(cwd), []);
  for (const pid of [...daemons, ...status.guests.map((g) => g.pid)]) {
    let argv = '';
    try { argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { /* gone */ }
    assert.ok(!/slurm|qemu/.test(argv), `${pid} is gone (${argv})`);
  }
  assert.equal(await testbedStatus({ cwd, env }), undefined);
  assert.match(readFileSync(join(cwd, '.expert', 'testbed', 'slurm', 'log', 'slurmctld.log'), 'utf8'), /slurmctld version/, 'Slurm\'s logs stay for a post-mortem');
});

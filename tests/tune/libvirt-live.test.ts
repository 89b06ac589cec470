/**
 * Tune on guests managed by a REAL libvirtd, as a user runs it (heavy: run
 * under the shared lock): `expert testbed up --manager libvirt` (one TCG
 * domain, 2 vCPUs pinned by <vcpupin> in its XML, an IOThread), then
 * - `expert tune discover` says libvirt manages it (domain, UUID, cgroups, the
 *   vCPU threads libvirt's QMP names);
 * - `expert tune apply` pinning everything to CPU 0 (plus nice and cputune)
 *   verifies every thread, `expert tune restore` returns libvirt's live
 *   pinning, schedinfo, every affinity and nice exactly, and the persistent
 *   XML (`virsh dumpxml --inactive`) never changes;
 * - a batch of 3 policies leaves no thread pinned and no cgroup changed;
 * - `kill -9` of a run with a policy applied, then `expert tune restore`;
 * - a plain QEMU started by hand in a cpuset cgroup limited to CPU 1: pinning
 *   it to CPU 0 exits non-zero before any change, naming the cgroup.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { testbedDown, testbedUp } from '../../src/testbed/index.js';
import { canIsolateNodes } from '../../src/testbed/node.js';
import { inNode, libvirtSetupProblem } from '../../src/testbed/libvirt.js';
import { readState, type NodeState } from '../../src/testbed/state.js';
import { testbedFiles } from '../../src/testbed/paths.js';

const repo = resolve(import.meta.dirname, '..', '..');
const skip = !canIsolateNodes() ? 'needs root and unshare' : libvirtSetupProblem();
let cwd = '';
let node: NodeState;
let machines = '';
const env = { ...process.env };
delete env.EXPERT_TESTBED_DIR;

function expert(args: string[], options: { detached?: boolean } = {}): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; pid: number } {
  const child = spawn(process.execPath, ['--import', join(repo, 'node_modules/tsx/dist/esm/index.mjs'), join(repo, 'src/cli/main.ts'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  return { pid: child.pid!, done: new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr }))) };
}
const cli = (...args: string[]) => expert(args).done;

const virsh = (args: string) => inNode(node, `virsh -q -c qemu:///system ${args}`);

/** Everything Tune may change, as the node sees it: each thread's affinity and nice, libvirt's live view, the domain's cgroup files. */
async function snapshot(): Promise<Record<string, string>> {
  const threads = await inNode(node, 'p=$(cat /run/libvirt/qemu/vm1.pid); for t in /proc/$p/task/*; do echo "${t##*/} $(cat $t/comm) $(grep Cpus_allowed_list $t/status | cut -f2) $(sed "s/.*) //" $t/stat | cut -d" " -f17)"; done');
  const cgroups = await inNode(node, 'for f in /sys/fs/cgroup/cpuset/machine/qemu-*-vm1.libvirt-qemu/*/cpuset.cpus /sys/fs/cgroup/cpu/machine/qemu-*-vm1.libvirt-qemu/*/cpu.cfs_quota_us /sys/fs/cgroup/cpu/machine/qemu-*-vm1.libvirt-qemu/cpu.shares; do echo "$f $(cat $f)"; done');
  return {
    threads,
    cgroups,
    vcpupin: await virsh('vcpupin vm1 --live'),
    emulatorpin: await virsh('emulatorpin vm1 --live'),
    iothreadpin: await virsh('iothreadinfo vm1 --live'),
    schedinfo: await virsh('schedinfo vm1 --live'),
    vcpuinfo: (await virsh('vcpuinfo vm1')).split('\n').filter((l) => /^(VCPU|CPU Affinity)/.test(l)).join('\n'),
  };
}

/**
 * The same state: everything equal, threads compared where both snapshots
 * have them (QEMU's thread-pool `worker`s come and go on their own; every
 * other thread must be in both).
 */
function assertSameState(after: Record<string, string>, before: Record<string, string>): void {
  const rows = (text: string) => new Map(text.trim().split('\n').map((l) => [l.split(' ')[0]!, l]));
  const [a, b] = [rows(after.threads!), rows(before.threads!)];
  for (const [tid, line] of b) if (!line.includes(' worker ')) assert.ok(a.has(tid), `thread ${line} still there`);
  for (const [tid, line] of b) if (a.has(tid)) assert.equal(a.get(tid), line);
  assert.deepEqual({ ...after, threads: '' }, { ...before, threads: '' });
}

before(async () => {
  if (skip) return;
  cwd = await mkdtemp(join(tmpdir(), 'expert-libvirt-'));
  const result = await testbedUp({ cwd, env, manager: 'libvirt', vcpupin: true, vms: 1, nodes: 1, cpus: 2, iothread: true, accel: 'tcg', memoryMb: 192, diskMb: 64 });
  assert.equal(result.status.manager, 'libvirt');
  node = (await readState(testbedFiles(join(cwd, '.expert', 'testbed')).state))!.nodes[0]!;
  machines = result.status.machinesFile;
});

after(async () => {
  if (!cwd) return;
  const down = await testbedDown({ cwd, env });
  assert.ok(down.wasUp);
  // libvirt removed the domain's cgroups, and nothing of the testbed runs any more.
  const machine = '/sys/fs/cgroup/cpuset/machine';
  assert.deepEqual(existsSync(machine) ? readdirSync(machine).filter((e) => e.endsWith('-vm1.libvirt-qemu')) : [], []);
  const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(cwd); } catch { return false; } });
  assert.deepEqual(left, []);
  await rm(cwd, { recursive: true, force: true });
});

test('discovery says libvirt runs the guest: domain, UUID, libvirt\'s vCPU threads, cgroups and their CPUs', { skip }, async () => {
  const r = await cli('tune', 'discover', '--machines', machines, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  const g = (JSON.parse(r.stdout) as Array<{ guests: Array<Record<string, any>> }>)[0]!.guests.find((x) => x.name === 'vm1')!;
  assert.equal(g.manager, 'libvirt');
  assert.equal(g.libvirt.domain, 'vm1');
  assert.equal(g.libvirt.uuid, (await virsh('domuuid vm1')).trim());
  // libvirt's thread map agrees with what QEMU itself reports over QMP.
  const qmp = JSON.parse(await inNode(node, `virsh -c qemu:///system qemu-monitor-command vm1 '{"execute":"query-cpus-fast"}'`)) as { return: Array<{ 'cpu-index': number; 'thread-id': number }> };
  assert.deepEqual(Object.fromEntries(qmp.return.map((c) => [String(c['cpu-index']), c['thread-id']])), g.libvirt.vcpuThreads);
  assert.deepEqual(g.libvirt.cputune.vcpupin, { 0: '0', 1: '1' });
  for (const t of g.threads) {
    const line = (await inNode(node, `grep cpuset: /proc/${g.pid}/task/${t.tid}/cgroup`)).trim();
    assert.equal(t.cgroup, line.split(':')[2]);
    assert.equal(t.allowedCpus, (await inNode(node, `cat /sys/fs/cgroup/cpuset${t.cgroup}/cpuset.effective_cpus`)).trim());
  }
  const table = await cli('tune', 'discover', '--machines', machines, '--format', 'csv');
  assert.match(table.stdout.split('\n')[0]!, /,manager,domain,cgroup,allowed_cpus$/);
});

test('apply pins every thread to CPU 0 through libvirt, verified; restore returns libvirt and every thread exactly; the persistent XML never changes', { skip }, async () => {
  const inactive = await virsh('dumpxml --inactive vm1');
  assert.match(inactive, /<vcpupin vcpu='0' cpuset='0'\/>/);
  const before = await snapshot();
  writeFileSync(join(cwd, 'pin0.yaml'), 'name: pin0\nidentify: {vms: all}\npin: {cpus: [0]}\nnice: 2\ncputune: {vcpu_quota: 50000, cpu_shares: 512}\n');
  const applied = await cli('tune', 'apply', 'pin0.yaml', '--machines', machines, '--format', 'json');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const rows = JSON.parse(applied.stdout) as Array<{ kind: string; action: string; verified: boolean }>;
  assert.ok(rows.length >= 10 && rows.every((r) => r.verified), applied.stdout);
  assert.ok(rows.some((r) => r.action === 'cputune'));
  const during = await snapshot();
  for (const line of during.threads.trim().split('\n')) assert.match(line, / 0 2$/, `every thread on CPU 0 with nice 2: ${line}`);
  assert.match(during.vcpuinfo, /CPU Affinity:\s+y-\n.*\nCPU Affinity:\s+y-/);
  assert.deepEqual(during.vcpupin.trim().split('\n').map((l) => l.trim().split(/\s+/)[1]), ['0', '0']);
  assert.equal(during.emulatorpin.trim(), '0');
  assert.match(during.schedinfo, /vcpu_quota\s*:\s*50000/);
  assert.equal(await virsh('dumpxml --inactive vm1'), inactive);

  const restored = await cli('tune', 'restore', '--format', 'json');
  assert.equal(restored.code, 0, restored.stderr + restored.stdout);
  assertSameState(await snapshot(), before);
  assert.equal(await virsh('dumpxml --inactive vm1'), inactive);
});

test('a batch of 3 policies leaves no thread pinned and no cgroup changed', { skip }, async () => {
  const before = await snapshot();
  writeFileSync(join(cwd, 'batch.yaml'), [
    'name: libvirt-policies',
    `machines: ${machines}`,
    'tests:',
    '  - name: touch',
    '    on: vms',
    '    command: dd if=/dev/zero of=/tmp/x bs=64k count=16 conv=fsync',
    'policies:',
    '  - name: baseline',
    '  - name: all-on-0',
    '    identify: {vms: all}',
    '    pin: {cpus: [0]}',
    '  - name: vcpus-on-1',
    '    identify: {vms: [vm1]}',
    '    pin: {cpus: [1], threads: vcpu}',
    '    nice: 3',
    '    cputune: {vcpu_quota: 60000}',
    '',
  ].join('\n'));
  const r = await cli('run', 'batch.yaml', '--store', 'batch.duckdb');
  assert.equal(r.code, 0, r.stderr);
  const rows = await cli('mine', 'sql', "SELECT policy, action, count(*) AS n, bool_and(verified) AS verified, count(restored_at) AS restored FROM tuning GROUP BY ALL ORDER BY ALL", '--store', 'batch.duckdb', '--format', 'json');
  const tuning = JSON.parse(rows.stdout) as Array<{ policy: string; action: string; n: number; verified: boolean; restored: number }>;
  assert.deepEqual(tuning.map((t) => `${t.policy}:${t.action}`), ['all-on-0:pin', 'vcpus-on-1:cputune', 'vcpus-on-1:nice', 'vcpus-on-1:pin']);
  assert.ok(tuning.every((t) => t.verified && t.restored === t.n), rows.stdout);
  assertSameState(await snapshot(), before);
  assert.deepEqual(JSON.parse(readFileSync(join(cwd, '.expert', 'tune', 'journal.json'), 'utf8')).entries, []);
});

test('kill -9 of a run with a policy applied: `expert tune restore` returns libvirt and every thread exactly', { skip }, async () => {
  const before = await snapshot();
  writeFileSync(join(cwd, 'long.yaml'), ['name: killed', `machines: ${machines}`, 'tests:', '  - name: wait', '    on: vms', '    command: sleep 60', 'policies:', '  - name: all-on-1', '    identify: {vms: all}', '    pin: {cpus: [1]}', '    cputune: {emulator_quota: 40000}', ''].join('\n'));
  const run = expert(['run', 'long.yaml', '--store', 'killed.duckdb'], { detached: true });
  const journal = join(cwd, '.expert', 'tune', 'journal.json');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(existsSync(journal) && (JSON.parse(readFileSync(journal, 'utf8')) as { entries: unknown[] }).entries.length > 0 && (await virsh('emulatorpin vm1 --live')).trim() === '1')) await delay(200);
  await delay(500);
  process.kill(-run.pid, 'SIGKILL');
  await run.done;
  const left = await snapshot();
  assert.notDeepEqual(left, before, 'the killed run left its tuning behind');
  assert.equal(left.emulatorpin.trim(), '1');
  const restored = await cli('tune', 'restore', '--store', 'killed.duckdb', '--format', 'json');
  assert.equal(restored.code, 0, restored.stderr + restored.stdout);
  assertSameState(await snapshot(), before);
});

test('a plain QEMU in a cpuset cgroup limited to CPU 1: pinning it to CPU 0 is refused before any change, naming the cgroup', { skip: skip ?? (existsSync('/sys/fs/cgroup/cpuset/cpuset.cpus') ? undefined : 'no cgroup v1 cpuset here') }, async () => {
  const cgroup = `/expert-test-${process.pid}`;
  const path = `/sys/fs/cgroup/cpuset${cgroup}`;
  mkdirSync(path);
  writeFileSync(`${path}/cpuset.cpus`, '1');
  writeFileSync(`${path}/cpuset.mems`, readFileSync('/sys/fs/cgroup/cpuset/cpuset.mems', 'utf8').trim());
  const pidFile = join(cwd, 'cg.pid');
  const name = `cg-vm-${process.pid}`;
  const started = spawn('sh', ['-c', `echo $$ > ${path}/tasks && exec qemu-system-x86_64 -name guest=${name},debug-threads=on -machine q35,accel=tcg -m 64 -smp 1 -nodefaults -display none -S -daemonize -pidfile ${pidFile}`], { stdio: 'inherit' });
  await new Promise((res) => started.on('close', res));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const affinities = () => readdirSync(`/proc/${pid}/task`).map((t) => `${t} ${readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)![1]}`).join('\n');
  try {
    const before = affinities();
    assert.match(before, / 1$/m);
    writeFileSync(join(cwd, 'cg0.yaml'), `name: cg0\nidentify: {vms: [${name}]}\npin: {cpus: [0]}\n`);
    const r = await cli('tune', 'apply', 'cg0.yaml', '--host', 'local', '--store', 'cg.duckdb', '--journal', 'cg-journal.json');
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`cgroup ${cgroup} allows CPUs 1`), r.stderr);
    assert.match(r.stderr, /refused before any change/);
    assert.equal(affinities(), before);
    assert.ok(!existsSync(join(cwd, 'cg-journal.json')) || JSON.parse(readFileSync(join(cwd, 'cg-journal.json'), 'utf8')).entries.length === 0);
    // Inside the allowed set it works and verifies.
    writeFileSync(join(cwd, 'cg1.yaml'), `name: cg1\nidentify: {vms: [${name}]}\npin: {cpus: [1]}\nnice: 1\n`);
    const ok = await cli('tune', 'apply', 'cg1.yaml', '--host', 'local', '--store', 'cg.duckdb', '--journal', 'cg-journal.json', '--format', 'json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await cli('tune', 'restore', '--store', 'cg.duckdb', '--journal', 'cg-journal.json')).code, 0);
    assert.equal(affinities(), before);
  } finally {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await delay(50);
    rmdirSync(path);
  }
});

/**
 * The real testbed: two TCG guests booted from the Debian image, reached over
 * SSH with the files `up` wrote (OpenSSH client, strict host key checking),
 * iozone and fio writing to the virtio data disk, a batch through `expert run`
 * storing every line, then `down` leaving no QEMU or sshd behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { testbedDown, testbedStatus, testbedUp, type TestbedStatus } from '../../src/testbed/index.js';
import { UserError } from '../../src/errors.js';
import { canIsolateNodes } from '../../src/testbed/node.js';
import { processesMentioning } from '../helpers/processes.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..', '..');
let cwd = '';
let status: TestbedStatus;
const env = { ...process.env, EXPERT_TESTBED_DIR: '' };
delete env.EXPERT_TESTBED_DIR;

/** Every process whose command line mentions `text` (our temp folder): what must be gone after `down`. */

function killMentioning(text: string): void {
  for (const line of processesMentioning(text)) {
    try { process.kill(Number(line.split(':')[0]), 'SIGKILL'); } catch { /* gone */ }
  }
}

function sshArgs(port: number, dir: string): string[] {
  return ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o', 'ConnectTimeout=20', '-i', join(dir, 'id_ed25519'), '-p', String(port)];
}

before(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'expert-testbed-'));
  // Two nodes with one guest each: the smallest testbed that still has several nodes.
  const result = await testbedUp({ cwd, env, vms: 1, nodes: 2, accel: 'tcg', memoryMb: 192, diskMb: 128 });
  assert.equal(result.alreadyUp, false);
  status = result.status;
});

after(async () => {
  if (!cwd) return;
  try { await testbedDown({ cwd, env }); } finally {
    killMentioning(cwd);
    await rm(cwd, { recursive: true, force: true });
  }
});

test('up boots two named TCG guests on two nodes and reports their QEMU threads', () => {
  assert.equal(status.accel, 'tcg');
  assert.equal(status.complete, true, status.problems.join('; '));
  assert.deepEqual(status.guests.map((g) => [g.node, g.name, g.running]), [['node1', 'vm1', true], ['node2', 'vm2', true]]);
  for (const g of status.guests) {
    const argv = readFileSync(`/proc/${g.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes(`guest=${g.name},debug-threads=on`), `QEMU ${g.pid} is named ${g.name}`);
    assert.ok(g.threads.some((t) => t.name === 'CPU 0/TCG'), `vCPU thread named: ${g.threads.map((t) => t.name).join(', ')}`);
    assert.ok(g.threads.some((t) => t.tid === g.pid));
  }
  assert.deepEqual(status.nodes.map((n) => [n.name, n.running]), [['node1', true], ['node2', true]]);
});

test('up when already up does nothing and says so', async () => {
  const again = await testbedUp({ cwd, env, vms: 1, nodes: 2, accel: 'tcg', memoryMb: 192 });
  assert.equal(again.alreadyUp, true);
  assert.deepEqual(again.status.guests.map((g) => g.pid), status.guests.map((g) => g.pid));
  assert.deepEqual(again.differences, []);
  const other = await testbedUp({ cwd, env, vms: 3, nodes: 2, accel: 'tcg', memoryMb: 192, iothread: true });
  assert.equal(other.alreadyUp, true);
  assert.deepEqual(other.differences, ['--vms 1 (asked 3)', '--iothread off (asked on)']);
});

test('`expert testbed status --format json` lists guests with PID, ports, accel and named threads', async () => {
  const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), 'testbed', 'status', '--format', 'json'], { cwd, env, timeout: 60_000 });
  const rows = JSON.parse(stdout) as Array<{ node: string; guest: string; pid: number; running: boolean; ssh_port: number; accel: string; threads: Array<{ tid: number; name: string }> }>;
  assert.deepEqual(rows.map((r) => [r.node, r.guest, r.pid, r.running, r.ssh_port, r.accel]), status.guests.map((g) => [g.node, g.name, g.pid, true, g.sshPort, 'tcg']));
  for (const r of rows) assert.ok(r.threads.some((t) => t.name === 'CPU 0/TCG'));
});

test('each guest runs iozone, fio and dd on its virtio data disk over SSH, checked against the written known_hosts', async () => {
  const dir = join(cwd, '.expert', 'testbed');
  await Promise.all(status.guests.map(async (g) => {
    const script = 'hostname; df -P /tmp | tail -1; iozone -i 0 -s 1m -r 64k -f /tmp/iozone.tmp; fio --name=w --rw=write --bs=64k --size=1m --filename=/tmp/fio.tmp --output-format=terse; dd if=/dev/zero of=/tmp/dd.tmp bs=64k count=8 conv=fsync';
    const { stdout, stderr } = await run('ssh', [...sshArgs(g.sshPort, dir), 'root@127.0.0.1', script], { timeout: 120_000 });
    const lines = stdout.split('\n');
    assert.equal(lines[0], g.name);
    assert.match(lines[1]!, /^\/dev\/vdb\s/, 'the data disk holds /tmp');
    assert.match(stdout, /iozone test complete/);
    assert.match(stdout, /^3;fio-3\.\d+;w;/m, 'fio terse v3 line');
    assert.match(stderr, /524288 bytes \(524 kB, 512 KiB\) copied/);
  }));
});

test('each node answers SSH (monitors and Tune run there) and, isolated, sees only its own guest', async () => {
  const dir = join(cwd, '.expert', 'testbed');
  await Promise.all(status.nodes.map(async (node, i) => {
    const { stdout } = await run('ssh', [...sshArgs(node.port!, dir), `${node.user}@127.0.0.1`, 'echo node-ok; for p in /proc/[0-9]*; do tr "\\0" " " <$p/cmdline; echo; done | grep -o "^qemu-system-x86_64 -name guest=[^,]*" || true'], { timeout: 30_000 });
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'node-ok');
    if (canIsolateNodes()) assert.deepEqual(lines.slice(1), [`qemu-system-x86_64 -name guest=vm${i + 1}`], `${node.name} sees its guest only`);
  }));
});

test('`expert run` on `machines: testbed` stores every line of iozone and fio in both guests and vmstat on the node', async () => {
  await writeFile(join(cwd, 'batch.yaml'), [
    'name: testbed-e2e',
    'machines: testbed',
    'monitors:',
    '  - {name: vmstat, on: nodes, command: vmstat -n 1}',
    'tests:',
    '  - {name: iozone-write, on: vms, command: iozone -i 0 -s 1m -r 64k -f /tmp/iozone.tmp}',
    '  - {name: fio-write, on: vms, command: fio --name=w --rw=write --bs=64k --size=1m --filename=/tmp/fio.tmp --output-format=json}',
    '',
  ].join('\n'));
  const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), 'run', 'batch.yaml', '--store', 'e2e.duckdb', '--format', 'json'], { cwd, env, timeout: 180_000 });
  // With --format the rows are the whole of stdout (the batch id goes to stderr).
  const rows = JSON.parse(stdout) as Array<Record<string, unknown>>;
  const workloads = rows.filter((r) => r.role === 'workload');
  assert.deepEqual(workloads.map((r) => `${r.label}:${r.status}:${r.exit_code}`).sort(), [
    'fio-write baseline #1 @node1/vm1:exited:0', 'fio-write baseline #1 @node2/vm2:exited:0',
    'iozone-write baseline #1 @node1/vm1:exited:0', 'iozone-write baseline #1 @node2/vm2:exited:0',
  ]);
  for (const r of rows) assert.ok(Number(r.lines) > 0, `${r.label} stored lines`);
  assert.deepEqual([...new Set(rows.filter((r) => r.role === 'monitor').map((r) => String(r.label).split('@')[1]))].sort(), ['node1', 'node2'], 'vmstat ran on each node');
});

test('down stops every guest and node sshd and removes the state; console logs stay', async () => {
  const dir = join(cwd, '.expert', 'testbed');
  const pids = status.guests.map((g) => g.pid);
  const result = await testbedDown({ cwd, env });
  assert.equal(result.wasUp, true);
  assert.deepEqual(result.stoppedGuests, ['vm1', 'vm2']);
  assert.deepEqual(result.stoppedNodes, ['node1', 'node2']);
  assert.deepEqual(processesMentioning(cwd), []);
  for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '', `QEMU ${pid} is gone`);
  for (const f of ['state.json', 'machines.yaml', 'known_hosts', 'run']) assert.ok(!existsSync(join(dir, f)), `${f} removed`);
  assert.match(readFileSync(join(dir, 'logs', 'vm1.console.log'), 'utf8'), /EXPERT-READY/);
  assert.equal(await testbedStatus({ cwd, env }), undefined);
  assert.equal((await testbedDown({ cwd, env })).wasUp, false);
});

test('a guest that does not come up in time is reported with its console log, and nothing is left running', async () => {
  await assert.rejects(
    testbedUp({ cwd, env, vms: 1, accel: 'tcg', memoryMb: 128, diskMb: 64, bootTimeoutMs: 300 }),
    (e: unknown) => e instanceof UserError && /guest vm1 did not answer SSH/.test(e.message) && /console log/.test(e.message),
  );
  assert.deepEqual(processesMentioning(cwd), []);
  assert.equal(await testbedStatus({ cwd, env }), undefined);
});

test('Ctrl-C during `expert testbed up` tears down what was started and exits 130', async () => {
  const child = execFile(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), 'testbed', 'up', '--vms', '2', '--accel', 'tcg', '--memory', '128', '--disk', '64'], { cwd, env });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/waiting for SSH/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(stderr, /waiting for SSH/);
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.deepEqual(processesMentioning(cwd), []);
  assert.equal(await testbedStatus({ cwd, env }), undefined);
});

test('down also stops processes of the testbed that state.json no longer names (a lost or stale state file)', async () => {
  const runDir = join(cwd, '.expert', 'testbed', 'run');
  // A process that mentions this testbed's run folder (as its QEMU and sshd do), and nothing else.
  const stray = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', `${runDir}/vm9.img`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => stray.once('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(processesMentioning(runDir).length, 1);
  const result = await testbedDown({ cwd, env });
  assert.equal(result.wasUp, false);
  await exited;
  assert.deepEqual(processesMentioning(runDir), []);
});

/**
 * The testbed's pure planning: guest names per node, QEMU's command line,
 * the machine map it writes (read back through the real batch config loader).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { planLayout, parseIntFlag, machineMapYaml, knownHostsLines, slurmMachineMapYaml } from '../../src/testbed/layout.js';
import { parseSinfoStates } from '../../src/testbed/slurm.js';
import { slurmConf } from '../../src/slurm/local-cluster.js';
import { qemuArgs, type GuestLaunch } from '../../src/testbed/qemu-args.js';
import { parseAccelRequest } from '../../src/testbed/accel.js';
import { parseQemuVersion } from '../../src/testbed/procs.js';
import type { TestbedState } from '../../src/testbed/state.js';
import { parseBatchConfigText } from '../../src/batch/config/load.js';
import { UserError } from '../../src/errors.js';

test('guest names are unique across nodes and --vms counts per node (4 × 5 is Mach4)', () => {
  const layout = planLayout(5, 4);
  assert.deepEqual(layout.map((n) => n.node), ['node1', 'node2', 'node3', 'node4']);
  assert.deepEqual(layout[1]!.guests, ['vm6', 'vm7', 'vm8', 'vm9', 'vm10']);
  assert.equal(new Set(layout.flatMap((n) => n.guests)).size, 20);
  assert.deepEqual(planLayout(2, 1), [{ node: 'node1', guests: ['vm1', 'vm2'] }]);
});

test('bad counts and flags are user errors that name the flag', () => {
  assert.throws(() => planLayout(0, 1), (e: unknown) => e instanceof UserError && /--vms/.test(e.message));
  assert.throws(() => planLayout(2, 99), (e: unknown) => e instanceof UserError && /--nodes: expected a whole number from 1 to 16, got 99/.test(e.message));
  assert.throws(() => parseIntFlag('--memory', '256M', 256, 64, 65536), /--memory: expected a whole number, got '256M'/);
  assert.throws(() => parseIntFlag('--memory', '32', 256, 64, 65536), /--memory: expected a whole number from 64/);
  assert.equal(parseIntFlag('--cpus', undefined, 1, 1, 64), 1);
  assert.equal(parseIntFlag('--cpus', '2', 1, 1, 64), 2);
  assert.throws(() => parseAccelRequest('xen'), /--accel: expected auto, kvm or tcg, got 'xen'/);
  assert.equal(parseAccelRequest(undefined), 'auto');
});

function launch(overrides: Partial<GuestLaunch> = {}): GuestLaunch {
  return {
    name: 'vm3', accel: 'tcg', memoryMb: 256, cpus: 2, iothread: false,
    kernel: '/c/vmlinux', initrd: '/c/initrd.img', rootDisk: '/c/root.img', dataDisk: '/t/run/vm3.img',
    sshPort: 40022, authorizedKey: 'ssh-ed25519:AAAAC3Nz', qmpSocket: '/t/run/vm3.qmp', consoleLog: '/t/logs/vm3.console.log', pidFile: '/t/run/vm3.pid',
    ...overrides,
  };
}

function valueOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test('QEMU runs like a libvirt guest: named threads, virtio data disk, SSH forwarded on loopback only', () => {
  const args = qemuArgs(launch());
  assert.deepEqual(valueOf(args, '-name'), ['guest=vm3,debug-threads=on']);
  assert.deepEqual(valueOf(args, '-machine'), ['q35,accel=tcg']);
  assert.deepEqual(valueOf(args, '-smp'), ['2']);
  assert.deepEqual(valueOf(args, '-m'), ['256']);
  assert.ok(valueOf(args, '-netdev')[0]!.includes('hostfwd=tcp:127.0.0.1:40022-:22'));
  assert.ok(valueOf(args, '-drive').some((d) => d.startsWith('file=/c/root.img,') && d.includes('readonly=on')), 'the shared root disk is read-only');
  assert.ok(valueOf(args, '-drive').some((d) => d.startsWith('file=/t/run/vm3.img,') && !d.includes('readonly')));
  assert.ok(valueOf(args, '-device').includes('virtio-blk-pci,drive=data'));
  assert.ok(!args.includes('-object'), 'no IOThread unless asked');
  const append = valueOf(args, '-append')[0]!;
  assert.match(append, /(^| )expert\.key=ssh-ed25519:AAAAC3Nz( |$)/);
  assert.match(append, /console=ttyS0/);
  assert.ok(args.includes('-daemonize'));
  assert.deepEqual(valueOf(args, '-qmp'), ['unix:/t/run/vm3.qmp,server=on,wait=off']);
});

test('--iothread gives the data disk a dedicated IOThread; kvm uses the host CPU model', () => {
  const args = qemuArgs(launch({ iothread: true, accel: 'kvm' }));
  assert.deepEqual(valueOf(args, '-object'), ['iothread,id=io1']);
  assert.ok(valueOf(args, '-device').includes('virtio-blk-pci,drive=data,iothread=io1'));
  assert.deepEqual(valueOf(args, '-machine'), ['q35,accel=kvm']);
  assert.deepEqual(valueOf(args, '-cpu'), ['host']);
});

test('QEMU version lines are read as QEMU prints them', () => {
  assert.equal(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022'), '7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
  assert.equal(parseQemuVersion('QEMU emulator version 8.2.0\n'), '8.2.0');
});

function sampleState(dir: string): TestbedState {
  return {
    version: 1, dir, startedAt: '2026-01-01T00:00:00.000Z', accel: 'tcg', accelReason: 'requested', qemuVersion: '7.2.22',
    image: { hash: 'abc123', dir: '/cache/guest/abc123', kernelPackage: 'linux-image-6.1.0-56-amd64 6.1.192-2' },
    options: { vmsPerNode: 2, nodes: 2, memoryMb: 256, cpus: 1, iothread: true, diskMb: 512 },
    identityFile: join(dir, 'id_ed25519'), knownHosts: join(dir, 'known_hosts'),
    nodes: [1, 2].map((n) => ({
      name: `node${n}`, host: '127.0.0.1', port: 2200 + n, user: 'root', sshdPid: 100 + n, sshdDir: join(dir, 'run', `node${n}-sshd`),
      guests: [1, 2].map((v) => {
        const name = `vm${(n - 1) * 2 + v}`;
        return { name, pid: 1000 + n * 10 + v, sshPort: 3000 + n * 10 + v, qmpSocket: `${dir}/run/${name}.qmp`, consoleLog: `${dir}/logs/${name}.console.log`, dataDisk: `${dir}/run/${name}.img` };
      }),
    })),
  };
}

test('the machine map is what `machines: testbed` loads: nodes, guests, ssh files, and the testbed facts for provenance', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'expert-testbed-layout-'));
  try {
    const dir = join(cwd, '.expert', 'testbed');
    await mkdir(dir, { recursive: true });
    const state = sampleState(dir);
    const text = machineMapYaml(state);
    const raw = parse(text) as Record<string, unknown>;
    assert.deepEqual(raw.testbed, { accel: 'tcg', accelReason: 'requested', qemu: '7.2.22', image: 'abc123', kernel: 'linux-image-6.1.0-56-amd64 6.1.192-2', memoryMb: 256, cpus: 1, iothread: true, manager: 'qemu', startedAt: '2026-01-01T00:00:00.000Z' });
    await writeFile(join(dir, 'machines.yaml'), text);
    const config = await parseBatchConfigText('name: t\nmachines: testbed\ntests:\n  - {name: w, on: vms, command: "true"}\n', { cwd, env: {} });
    assert.deepEqual(config.machines.nodes.map((n) => [n.name, n.host, n.port, n.user, n.vms?.map((v) => `${v.name}@${v.host}:${v.port}`)]), [
      ['node1', '127.0.0.1', 2201, 'root', ['vm1@127.0.0.1:3011', 'vm2@127.0.0.1:3012']],
      ['node2', '127.0.0.1', 2202, 'root', ['vm3@127.0.0.1:3021', 'vm4@127.0.0.1:3022']],
    ]);
    assert.equal(config.machines.ssh?.identityFile, join(dir, 'id_ed25519'));
    assert.equal(config.machines.ssh?.knownHosts, join(dir, 'known_hosts'));

    const lines = knownHostsLines(state, 'ssh-ed25519 GUESTKEY', new Map([['node1', 'ssh-ed25519 NODE1'], ['node2', 'ssh-ed25519 NODE2']])).trim().split('\n');
    assert.equal(lines.length, 6);
    assert.ok(lines.includes('[127.0.0.1]:2202 ssh-ed25519 NODE2'));
    assert.ok(lines.includes('[127.0.0.1]:3021 ssh-ed25519 GUESTKEY'));
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('--slurm: the slurm machine map names the testbed\'s nodes and guests, takes the nodes from the allocation, and is refused outside one', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'expert-testbed-layout-'));
  try {
    const dir = join(cwd, '.expert', 'testbed');
    await mkdir(dir, { recursive: true });
    const state = { ...sampleState(dir), slurm: { dir: join(dir, 'slurm'), conf: join(dir, 'slurm', 'slurm.conf'), partition: 'testbed', controllerPort: 17100, slurmdPort: 17101, nodes: ['node1', 'node2'] } };
    const text = slurmMachineMapYaml(state);
    assert.match(text, new RegExp(`SLURM_CONF=${join(dir, 'slurm', 'slurm.conf')}`));
    const raw = parse(text) as { slurm: unknown; launcher: string; ssh: unknown; testbed: unknown; nodes: Array<{ name: string; host: string; port?: number; vms: Array<{ name: string; port: number }> }> };
    assert.equal(raw.slurm, true);
    assert.equal(raw.launcher, 'srun');
    assert.deepEqual(raw.ssh, { identityFile: join(dir, 'id_ed25519'), knownHosts: join(dir, 'known_hosts') });
    assert.deepEqual(raw.nodes.map((n) => [n.name, n.host, n.port, n.vms.map((v) => `${v.name}:${v.port}`)]), [
      ['node1', '127.0.0.1', undefined, ['vm1:3011', 'vm2:3012']],
      ['node2', '127.0.0.1', undefined, ['vm3:3021', 'vm4:3022']],
    ]);
    await writeFile(join(dir, 'slurm-machines.yaml'), text);
    await assert.rejects(
      parseBatchConfigText('name: t\nmachines: ./.expert/testbed/slurm-machines.yaml\ntests:\n  - {name: w, on: vms, command: "true"}\n', { cwd, env: {}, path: join(cwd, 'b.yaml') }),
      /needs a Slurm allocation/,
    );
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('--slurm: slurm.conf names the nodes as the testbed does (node[1-N]) on consecutive ports; sinfo lines are read per node', () => {
  const conf = slurmConf({ dir: '/t/slurm', nodes: 2, controllerPort: 17100, slurmdPort: 17101, partition: 'testbed', namePrefix: 'node', cpus: 2, host: 'h' });
  assert.match(conf, /^NodeName=node\[1-2\] NodeHostname=h NodeAddr=127\.0\.0\.1 Port=\[17101-17102\] CPUs=2 State=UNKNOWN$/m);
  assert.match(conf, /^SlurmctldPort=17100$/m);
  assert.match(conf, /^PartitionName=testbed Nodes=ALL Default=YES/m);
  assert.deepEqual([...parseSinfoStates('node1 idle\nnode2 alloc\n\nnode2 idle\n')], [['node1', 'idle'], ['node2', 'alloc']]);
});

test('notebooks/mach4.yaml, the reference cluster, is a valid machine map of 4 nodes × 5 guests', async () => {
  const repo = join(import.meta.dirname, '..', '..');
  const config = await parseBatchConfigText('name: t\nmachines: ./notebooks/mach4.yaml\ntests:\n  - {name: w, on: vms, command: "true"}\n', { cwd: repo, env: {}, path: join(repo, 'mach4-check.yaml') });
  const nodes = config.machines.nodes;
  assert.deepEqual(nodes.map((n) => n.name), ['node1', 'node2', 'node3', 'node4']);
  assert.deepEqual(nodes.map((n) => n.vms?.length), [5, 5, 5, 5]);
  assert.deepEqual(nodes.flatMap((n) => n.vms!.map((v) => v.name)), planLayout(5, 4).flatMap((n) => n.guests), 'the same guest names as `testbed up --nodes 4 --vms 5`');
  assert.ok(nodes.every((n) => n.host !== 'local' && n.host.includes('.')));
});

/**
 * `slurm: {vms: discover}` without Slurm: the SSH address of a guest read
 * from QEMU command lines captured from the real testbed (/proc/PID/cmdline
 * of a running `expert testbed up` guest, and the libvirt testbed's discovery
 * output), the guests as machine map entries (testbed credentials, NodeAddr
 * for a forward binding every address), the clear errors naming node and
 * guest, and the config spelling checked before any allocation is asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestNameFromArgv, hostForwardsFromArgv, parseHostForward, sshForwardFromArgv } from '../../src/tune/qemu-cmdline.js';
import { parseDiscovery } from '../../src/tune/discover-parse.js';
import { GuestAddressError, vmsFromDiscovery } from '../../src/slurm/discovered-guests.js';
import { allocationNodes, discoveryOptions } from '../../src/slurm/machine-map.js';
import { parseBatchConfigText } from '../../src/batch/config/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tune');
/** Captured with `cp /proc/PID/cmdline` from a running testbed guest; the truth from its state.json at the same moment. */
const argv = readFileSync(join(FIXTURES, 'qemu-cmdline', 'testbed-qemu.cmdline'), 'latin1').split('\0').slice(0, -1);
const truth = JSON.parse(readFileSync(join(FIXTURES, 'qemu-cmdline', 'testbed-qemu.truth.json'), 'utf8')) as { run: string; name: string; sshPort: number; sshHost: string };
const NODE = { name: 'node1', addr: '10.1.2.3', hostname: 'node1' };
const ACCESS = { run: truth.run, user: 'root', ssh: { identityFile: '/tb/id_ed25519', knownHosts: '/tb/known_hosts' }, facts: { accel: 'tcg' } };

/** The captured command line with its `-netdev` value changed by `edit` (the rest stays as QEMU had it). */
function withNetdev(edit: (value: string) => string, option = '-netdev'): string[] {
  const i = argv.indexOf('-netdev');
  assert.ok(i > 0, 'the captured command line has a -netdev');
  return [...argv.slice(0, i), option, edit(argv[i + 1]!), ...argv.slice(i + 2)];
}

test('the real testbed guest: its name and its SSH forward (host address and port) as its state says', () => {
  assert.equal(guestNameFromArgv(argv), truth.name);
  const forward = sshForwardFromArgv(argv)!;
  assert.deepEqual([forward.protocol, forward.hostAddr, forward.hostPort, forward.guestAddr, forward.guestPort], ['tcp', truth.sshHost, truth.sshPort, '', 22]);
  assert.equal(hostForwardsFromArgv(argv).length, 1);
});

test('the libvirt testbed (discovery output captured in the node): the forward on the command line libvirt started', () => {
  const found = parseDiscovery('node1', readFileSync(join(FIXTURES, 'libvirt', 'discovery.out'), 'utf8'));
  assert.equal(found.guests.length, 1);
  const guest = found.guests[0]!;
  const netdev = guest.argv[guest.argv.indexOf('-netdev') + 1]!;
  const port = Number(/hostfwd=tcp:127\.0\.0\.1:(\d+)-:22/.exec(netdev)?.[1]);
  const { vms } = vmsFromDiscovery(NODE, [guest]);
  assert.deepEqual(vms, [{ name: guest.name, host: '127.0.0.1', port }]);
});

test('discovered testbed guests log in as the testbed\'s machine map says; a user option wins; others get no user', () => {
  const guest = { name: truth.name, pid: 9, argv };
  assert.deepEqual(vmsFromDiscovery(NODE, [guest], {}, ACCESS), { vms: [{ name: truth.name, host: truth.sshHost, port: truth.sshPort, user: 'root' }], testbed: true });
  assert.deepEqual(vmsFromDiscovery(NODE, [guest], { user: 'alice' }, ACCESS).vms[0]!.user, 'alice');
  const elsewhere = { ...ACCESS, run: '/some/other/testbed/run' };
  assert.deepEqual(vmsFromDiscovery(NODE, [guest], {}, elsewhere), { vms: [{ name: truth.name, host: truth.sshHost, port: truth.sshPort }], testbed: false });
});

test('a forward binding every address is reached at the node\'s NodeAddr; one binding all is preferred over loopback', () => {
  const port = truth.sshPort;
  for (const bind of ['', '0.0.0.0']) {
    const all = withNetdev((v) => v.replace(`hostfwd=tcp:127.0.0.1:${port}-:22`, `hostfwd=tcp:${bind}:${port}-:22`));
    assert.deepEqual(vmsFromDiscovery(NODE, [{ name: 'g', pid: 1, argv: all }]).vms, [{ name: 'g', host: NODE.addr, port }]);
  }
  const both = withNetdev((v) => `${v},hostfwd=tcp::2200-:22,hostfwd=udp::53-:53`);
  assert.equal(hostForwardsFromArgv(both).length, 3);
  assert.deepEqual(vmsFromDiscovery(NODE, [{ name: 'g', pid: 1, argv: both }]).vms[0], { name: 'g', host: NODE.addr, port: 2200 });
});

test('the other spellings of a user-net backend: -nic, -netdev type=user, -netdev as JSON; other backends are not read', () => {
  const port = truth.sshPort;
  assert.equal(sshForwardFromArgv(withNetdev((v) => v.replace('id=net0,', ''), '-nic'))?.hostPort, port);
  assert.equal(sshForwardFromArgv(withNetdev((v) => v.replace(/^user,/, 'id=n,type=user,')))?.hostPort, port);
  const json = withNetdev((v) => JSON.stringify({ type: 'user', id: 'net0', hostfwd: [{ str: /hostfwd=([^,]*)/.exec(v)![1] }] }));
  assert.deepEqual(sshForwardFromArgv(json)?.hostPort, port);
  assert.equal(sshForwardFromArgv(withNetdev((v) => v.replace(/^user,/, 'tap,'))), undefined);
  assert.deepEqual(parseHostForward('tcp:[::1]:2222-:22').hostAddr, '::1');
  assert.deepEqual(parseHostForward(':127.0.0.1:2222-10.0.2.15:22').protocol, 'tcp');
});

test('a guest whose SSH address cannot be read: an error naming node and guest, and what to do', () => {
  const noNet = argv.filter((_, i) => !['-netdev', '-device'].includes(argv[i]!) && !['-netdev'].includes(argv[i - 1]!));
  assert.throws(() => vmsFromDiscovery(NODE, [{ name: 'vm7', pid: 77, argv: noNet }]), (e: Error) => {
    assert.ok(e instanceof GuestAddressError);
    assert.match(e.message, /^guest vm7 \(QEMU pid 77 there\) found on node node1 has no user-net forward to its port 22 .*hostfwd=tcp:\[ADDR\]:PORT-:22.*slurm\.vms: \{count, host, port\}/);
    return true;
  });
  const bad = withNetdev((v) => v.replace(/hostfwd=[^,]*/, 'hostfwd=tcp:127.0.0.1:99999-:22'));
  assert.throws(() => vmsFromDiscovery(NODE, [{ name: 'vm8', pid: 8, argv: bad }]), /guest vm8 .* on node node1 has a user-net forward QEMU's syntax does not allow: hostfwd=tcp:127\.0\.0\.1:99999-:22 has port 99999/);
});

test('discovered guests fill nodes without a nodes: entry of their own', () => {
  const nodes = allocationNodes([NODE, { name: 'node2', addr: '10.1.2.4', hostname: 'node2' }], { vms: 'discover' }, [{ name: 'node2', host: 'n2', vms: [{ name: 'fixed' }] }],
    new Map([['node1', [{ name: 'vm1', host: '127.0.0.1', port: 2 }]], ['node2', [{ name: 'ignored' }]]]));
  assert.deepEqual(nodes, [{ name: 'node1', host: '10.1.2.3', vms: [{ name: 'vm1', host: '127.0.0.1', port: 2 }] }, { name: 'node2', host: 'n2', vms: [{ name: 'fixed' }] }]);
});

test('the config spelling: vms: discover or {discover: true, user, identityFile}; wrong mixes are bad input at their key', async () => {
  assert.deepEqual(discoveryOptions({ vms: 'discover' }), {});
  assert.deepEqual(discoveryOptions({ vms: { discover: true, user: 'root', identityFile: 'k' } }), { user: 'root', identityFile: 'k' });
  assert.equal(discoveryOptions({ vms: { count: 2 } }), undefined);
  assert.equal(discoveryOptions(true), undefined);
  const env = { PATH: process.env.PATH };
  const text = (slurm: string) => `name: x\nmachines:\n  slurm:\n${slurm}\ntests:\n  - {name: t, on: vms, command: 'true'}\n`;
  const bad: Array<[string, RegExp]> = [
    ['    vms: {discover: true, count: 2}', /^b\.yaml:4:\d+: machines\.slurm\.vms\.\w+: count does not apply with `discover: true`/],
    ['    vms: {count: 2, identityFile: k}', /^b\.yaml:4:\d+: machines\.slurm\.vms\.\w+: identityFile applies with `discover: true`/],
    ['    vms: {user: root}', /^b\.yaml:4:\d+: machines\.slurm\.vms\.\w+: count is missing: give `count` .* or `discover: true`/],
    ['    vms: discovr', /^b\.yaml:4:\d+: machines\.slurm\.vms: expected `discover`, got 'discovr'; did you mean `discover`/],
    ['    vms: 3', /^b\.yaml:4:\d+: machines\.slurm\.vms: expected `discover`, a template/],
  ];
  for (const [slurm, message] of bad) await assert.rejects(parseBatchConfigText(text(slurm), { file: 'b.yaml', env }), (e: Error & { exitCode?: number }) => (assert.equal(e.exitCode, 2), assert.match(e.message, message), true));
  // Well spelled, it asks for an allocation (and says so at its line) before running discovery.
  await assert.rejects(parseBatchConfigText(text('    vms: discover'), { file: 'b.yaml', env }), /b\.yaml:3:\d+: .*needs a Slurm allocation/);
});

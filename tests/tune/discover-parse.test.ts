/**
 * The discovery parser against output captured from real paused QEMU guests
 * (scripts/capture-tune-fixtures.ts), checked against what Node read from
 * /proc at the same moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { classifyThread, parseDiscovery } from '../../src/tune/discover-parse.js';
import { guestNameFromArgv, splitQemuOpts } from '../../src/tune/qemu-cmdline.js';
import { formatCpuList, parseCpuList, sameCpuSet } from '../../src/tune/cpu-list.js';

const dir = 'tests/fixtures/tune';
const truth = JSON.parse(readFileSync(`${dir}/truth.json`, 'utf8')) as { nproc: number; guests: Array<{ name: string; pid: number; threads: Array<{ tid: number; comm: string }> }> };

for (const variant of ['sh', 'busybox']) {
  test(`parses captured discovery (${variant} sh): every guest and thread with its kind`, () => {
    const d = parseDiscovery('n1', readFileSync(`${dir}/discovery.${variant}.out`, 'utf8'));
    assert.equal(d.topology.cpus.length, truth.nproc);
    assert.ok(d.topology.cores >= 1 && d.topology.sockets >= 1);
    assert.equal(d.tools.taskset, true);
    for (const expected of truth.guests) {
      const guest = d.guests.find((g) => g.pid === expected.pid);
      assert.ok(guest, `guest ${expected.name} found`);
      assert.equal(guest.name, expected.name);
      assert.deepEqual(guest.threads.map((t) => t.tid).sort(), expected.threads.map((t) => t.tid).sort());
      for (const t of guest.threads) {
        const comm = expected.threads.find((e) => e.tid === t.tid)!.comm;
        assert.equal(t.comm, comm);
        const kind = t.tid === expected.pid ? 'emulator' : /^CPU \d+\//.test(comm) ? 'vcpu' : /^IO /.test(comm) && comm !== 'IO mon_iothread' ? 'iothread' : 'other';
        assert.equal(t.kind, kind, `${comm} (tid ${t.tid})`);
        assert.equal(t.state.nice, 0);
        assert.equal(parseCpuList(t.state.cpus).length, truth.nproc);
        assert.ok(t.startTime > 0);
      }
    }
    const plain = d.guests.find((g) => g.name === 'fixture-plain');
    assert.ok(d.warnings.some((w) => w.includes('fixture-plain')), 'a guest without debug-threads is reported');
    assert.ok(plain!.threads.every((t) => t.kind !== 'vcpu'));
    const vm1 = d.guests.find((g) => g.name === 'fixture-vm1')!;
    assert.deepEqual(vm1.threads.filter((t) => t.kind === 'vcpu').map((t) => t.vcpu), [0, 1]);
    assert.deepEqual(vm1.threads.filter((t) => t.kind === 'iothread').map((t) => t.iothread), ['io1', 'io2']);
  });
}

test('thread kinds from names', () => {
  assert.deepEqual(classifyThread(10, 10, 'qemu-system-x86'), { kind: 'emulator' });
  assert.deepEqual(classifyThread(10, 11, 'CPU 3/KVM'), { kind: 'vcpu', vcpu: 3 });
  assert.deepEqual(classifyThread(10, 11, 'CPU 0/TCG'), { kind: 'vcpu', vcpu: 0 });
  assert.deepEqual(classifyThread(10, 11, 'IO iothread0'), { kind: 'iothread', iothread: 'iothread0' });
  assert.equal(classifyThread(10, 11, 'worker').kind, 'worker');
  assert.equal(classifyThread(10, 11, 'qemu_worker').kind, 'worker');
  assert.equal(classifyThread(10, 11, 'vhost-10').kind, 'vhost');
  assert.equal(classifyThread(10, 11, 'call_rcu').kind, 'other');
});

test('guest names as libvirt and people write them', () => {
  assert.equal(guestNameFromArgv(['qemu-system-x86_64', '-name', 'guest=vm1,debug-threads=on']), 'vm1');
  assert.equal(guestNameFromArgv(['qemu-kvm', '-name', 'vm2']), 'vm2');
  assert.equal(guestNameFromArgv(['qemu-kvm', '-name', 'vm3,process=q3']), 'vm3');
  assert.equal(guestNameFromArgv(['qemu-kvm', '-name', 'debug-threads=on,guest=a,,b']), 'a,b');
  assert.equal(guestNameFromArgv(['qemu-kvm', '-m', '64']), undefined);
  assert.deepEqual(splitQemuOpts('a,,b,c'), ['a,b', 'c']);
});

test('CPU lists', () => {
  assert.deepEqual(parseCpuList('0-3,6'), [0, 1, 2, 3, 6]);
  assert.equal(formatCpuList([3, 0, 1, 2, 6]), '0-3,6');
  assert.ok(sameCpuSet('0,1', '0-1'));
  assert.throws(() => parseCpuList('x'), /not a CPU list/);
});

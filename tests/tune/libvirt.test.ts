/**
 * libvirt guests, the pure parts, on output captured from a real libvirt
 * testbed (tests/tune/capture-libvirt-fixtures.ts: one TCG domain, 2 vCPUs
 * with <vcpupin>, an IOThread): discovery finds the domain, its UUID, the
 * thread ↔ vCPU/IOThread/emulator map and each thread's cgroup and cpuset,
 * checked against /proc and the cgroup files read at the same moment; virsh's
 * answers parse; a pin is planned through libvirt for whole cgroups; a pin
 * outside a cpuset is refused naming the cgroup; the apply script is valid sh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseDiscovery } from '../../src/tune/discover-parse.js';
import { parseStatusExtract, parseVirshQueries, unitFromCgroup } from '../../src/tune/libvirt-view.js';
import { planPolicy } from '../../src/tune/planner.js';
import { buildApplyScript } from '../../src/tune/apply-script.js';
import { scriptDomainOf } from '../../src/tune/apply-libvirt.js';
import { clipExplanation } from '../../src/tune/cpuset-check.js';
import { UserError } from '../../src/errors.js';

const dir = 'tests/fixtures/tune/libvirt';
const fixture = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
const truth = JSON.parse(fixture('truth.json')) as { domain: string; uuid: string; pid: number; threads: Array<{ tid: number; comm: string; cpus: string; cgroup: string; allowed: string }> };
const lines = (query: string, text: string) => text.split('\n').map((t) => ({ query, text: t }));

test('discovery of a libvirt guest: manager, domain, UUID, cgroups and cpusets as /proc and the cgroup files said', () => {
  const d = parseDiscovery('node1', fixture('discovery.out'));
  const g = d.guests.find((x) => x.pid === truth.pid)!;
  assert.equal(g.manager, 'libvirt');
  assert.equal(g.libvirt?.domain, truth.domain);
  assert.equal(g.libvirt?.uuid, truth.uuid);
  assert.deepEqual(g.threads.map((t) => t.tid).sort(), truth.threads.map((t) => t.tid).sort());
  for (const t of truth.threads) {
    const seen = g.threads.find((x) => x.tid === t.tid)!;
    assert.equal(seen.cgroup, t.cgroup, `tid ${t.tid} cgroup`);
    assert.equal(seen.cgroupVersion, 'v1');
    assert.equal(seen.allowedCpus, t.allowed, `tid ${t.tid} allowed CPUs`);
    assert.equal(seen.state.cpus, t.cpus);
    assert.equal(seen.libvirtUnit, unitFromCgroup(t.cgroup), `tid ${t.tid} unit follows its cgroup`);
  }
  // libvirt's own vCPU map (status XML) names the `CPU n/TCG` threads.
  for (const [vcpu, tid] of Object.entries(g.libvirt!.vcpuThreads)) assert.equal(g.threads.find((t) => t.tid === tid)?.comm, `CPU ${vcpu}/TCG`);
  // The live <cputune> is the <vcpupin> the testbed wrote, and it is what virsh reports.
  const virsh = parseVirshQueries(lines('vcpupin', fixture('virsh-vcpupin.out')));
  assert.deepEqual(g.libvirt!.cputune.vcpupin, virsh.vcpupin);
  assert.deepEqual(parseStatusExtract(fixture('status.xml')).cputune.vcpupin, virsh.vcpupin);
});

test('virsh -q answers parse; emulatorpin with and without -q agree', () => {
  const tune = parseVirshQueries([
    ...lines('vcpupin', fixture('virsh-vcpupin.out')),
    ...lines('emulatorpin', fixture('virsh-emulatorpin.out')),
    ...lines('iothreadinfo', fixture('virsh-iothreadinfo.out')),
    ...lines('schedinfo', fixture('virsh-schedinfo.out')),
  ]);
  assert.equal(Object.keys(tune.vcpupin).length, 2);
  assert.ok(tune.emulatorpin);
  assert.equal(parseVirshQueries(lines('emulatorpin', fixture('virsh-emulatorpin-noquiet.out'))).emulatorpin, tune.emulatorpin);
  assert.deepEqual(Object.keys(tune.iothreadpin), ['1']);
  assert.equal(tune.sched.cpu_shares, Number(/cpu_shares\s*:\s*(\d+)/.exec(fixture('virsh-schedinfo.out'))![1]));
  assert.equal(tune.sched.vcpu_quota, -1);
});

test('a pin of a libvirt guest goes through libvirt, whole cgroups at a time', () => {
  const d = parseDiscovery('node1', fixture('discovery.out'));
  const g = d.guests.find((x) => x.pid === truth.pid)!;
  const plan = planPolicy(d, { name: 'vcpus', identify: { vms: [g.name] }, pin: { cpus: [0], threads: 'vcpu' }, cputune: { vcpu_quota: 50000 } });
  assert.deepEqual(plan.domains.map((x) => x.pins.map((p) => p.unit)), [['vcpu:0', 'vcpu:1']]);
  assert.deepEqual(plan.domains[0]!.sched, { vcpu_quota: 50000 });
  assert.ok(plan.threads.filter((t) => t.actions.some((a) => a.kind === 'pin')).every((t) => t.libvirt && t.threadKind === 'vcpu'));
  const all = planPolicy(d, { name: 'all', identify: { vms: 'all' }, pin: { cpus: [0], threads: 'emulator' } });
  // Pinning the emulator moves every thread of the emulator cgroup (workers, call_rcu, the monitor IOThread).
  const inEmulatorCgroup = truth.threads.filter((t) => t.cgroup.endsWith('/emulator')).map((t) => t.tid).sort();
  assert.deepEqual(all.threads.map((t) => t.tid).sort(), inEmulatorCgroup);
  assert.deepEqual(all.domains[0]!.pins, [{ unit: 'emulator', cpus: '0' }]);
  // The script is valid sh and calls virsh live only, never --config.
  const script = buildApplyScript(all.threads, all.domains.map(scriptDomainOf));
  execFileSync('sh', ['-n'], { input: script });
  assert.match(script, /lvrun '?[0-9a-f-]+'? emulator emulatorpin '?[0-9a-f-]+'? 0 --live/);
  assert.doesNotMatch(script, /--config/);
});

test('without libvirt (status XML unreadable) a pin outside the cpuset is refused, naming the cgroup', () => {
  const output = fixture('discovery.out').split('\n').filter((l) => !l.startsWith('D\t')).join('\n');
  const d = parseDiscovery('node1', output);
  const g = d.guests.find((x) => x.pid === truth.pid)!;
  assert.ok(d.warnings.some((w) => w.includes('status XML')));
  const vcpu0 = truth.threads.find((t) => t.comm === 'CPU 0/TCG')!;
  const other = [0, 1].find((c) => !vcpu0.allowed.split(',').includes(String(c)))!;
  assert.throws(
    () => planPolicy(d, { name: 'away', identify: { vms: [g.name] }, pin: { cpus: [other], threads: 'vcpu' } }),
    (error: unknown) => error instanceof UserError && error.message.includes(vcpu0.cgroup) && error.message.includes(`allows CPUs ${vcpu0.allowed}`) && /before any change/.test(error.message),
  );
  // cputune needs libvirt: refused too.
  assert.throws(() => planPolicy(d, { name: 'bw', identify: { vms: [g.name] }, cputune: { cpu_shares: 512 } }), /not run by a libvirtd/);
});

test('a read-back that is the request clipped to the cpuset is explained as such', () => {
  const vcpu0 = truth.threads.find((t) => t.comm === 'CPU 0/TCG')!;
  assert.equal(clipExplanation({ cgroup: vcpu0.cgroup, allowedCpus: vcpu0.allowed }, '0-1', vcpu0.allowed), `the kernel clipped the affinity to ${vcpu0.allowed}: cgroup ${vcpu0.cgroup} allows only CPUs ${vcpu0.allowed}`);
  assert.equal(clipExplanation({ cgroup: vcpu0.cgroup, allowedCpus: '0-1' }, '0-1', '0'), undefined);
});

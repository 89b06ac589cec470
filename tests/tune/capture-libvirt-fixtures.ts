/**
 * Captures libvirt fixtures from a REAL libvirt testbed (`expert testbed up
 * --manager libvirt --cpus 2 --iothread --vcpupin`, one guest), inside node1's
 * namespaces as a session on the node sees them: the discovery script's
 * output, `virsh -q vcpupin|emulatorpin|iothreadinfo|schedinfo --live` and
 * the status XML's extract, plus /proc and cgroup files read at the same
 * moment (the truth). Run: EXPERT_TESTBED_DIR=... npx tsx tests/tune/capture-libvirt-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { DISCOVERY_SCRIPT } from '../../src/tune/discover-script.js';
import { testbedDir, testbedFiles } from '../../src/testbed/paths.js';

const out = 'tests/fixtures/tune/libvirt';
const state = JSON.parse(readFileSync(testbedFiles(testbedDir()).state, 'utf8')) as { nodes: Array<{ nsInit: number; guests: Array<{ name: string }> }> };
const node = state.nodes[0]!;
const inNode = (script: string) => execFileSync('nsenter', ['--target', String(node.nsInit), '--pid', '--mount', '--', 'sh', '-c', script]).toString();
const name = node.guests[0]!.name;
writeFileSync(`${out}/discovery.out`, execFileSync('nsenter', ['--target', String(node.nsInit), '--pid', '--mount', '--', 'sh', '-s'], { input: DISCOVERY_SCRIPT }));
for (const q of ['vcpupin', 'emulatorpin', 'iothreadinfo', 'schedinfo']) writeFileSync(`${out}/virsh-${q}.out`, inNode(`virsh -q -c qemu:///system ${q} ${name} --live`));
writeFileSync(`${out}/virsh-emulatorpin-noquiet.out`, inNode(`virsh -c qemu:///system emulatorpin ${name} --live`));
writeFileSync(`${out}/status.xml`, inNode(`cat /run/libvirt/qemu/${name}.xml`));
// The truth: every thread's comm, affinity, cgroup line and its cpuset's CPUs.
const truth = JSON.parse(inNode(`p=$(cat /run/libvirt/qemu/${name}.pid); printf '{"pid":%s,"threads":[' "$p"; sep=; for t in /proc/$p/task/*; do c=$(grep cpuset: $t/cgroup | cut -d: -f3); printf '%s{"tid":%s,"comm":"%s","cpus":"%s","cgroup":"%s","allowed":"%s"}' "$sep" "\${t##*/}" "$(cat $t/comm)" "$(grep Cpus_allowed_list $t/status | cut -f2)" "$c" "$(cat /sys/fs/cgroup/cpuset$c/cpuset.effective_cpus)"; sep=,; done; echo ']}'`));
writeFileSync(`${out}/truth.json`, JSON.stringify({ domain: name, uuid: inNode(`virsh -q -c qemu:///system domuuid ${name}`).trim(), ...truth }, null, 1) + '\n');
console.log(`captured libvirt fixtures of ${name} into ${out}`);

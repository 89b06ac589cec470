/**
 * `expert testbed up|down|status`: the local testbed (QEMU guests behind
 * loopback-sshd nodes) that `machines: testbed` runs on. Progress goes to
 * stderr; `status` prints data in --format table|csv|json.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { parseAccelRequest } from '../testbed/accel.js';
import { LIMITS, parseIntFlag } from '../testbed/layout.js';
import { testbedDown, testbedStatus, testbedUp, type TestbedStatus } from '../testbed/index.js';
import { formatRows, resolveFormat, type OutputFormat } from './format.js';

interface UpFlags { vms?: string; nodes?: string; accel?: string; memory?: string; cpus?: string; iothread?: boolean; disk?: string; bootTimeout?: string; format?: string; manager?: string; vcpupin?: boolean; slurm?: boolean }

export function registerTestbed(program: Command): void {
  const testbed = program.command('testbed').description('the local testbed: real QEMU guests with fio/iozone over SSH, behind loopback "nodes" (machines: testbed)');

  testbed
    .command('up')
    .description('build/find the guest image, boot the guests, return when every guest answers SSH; writes .expert/testbed/machines.yaml')
    .option('--vms <n>', 'guests per node', '2')
    .option('--nodes <n>', 'nodes (each a loopback sshd owning its guests)', '1')
    .option('--accel <mode>', 'auto|kvm|tcg (auto: KVM when a probe guest boots quickly, else TCG)', 'auto')
    .option('--memory <MiB>', 'memory per guest', '256')
    .option('--cpus <n>', 'vCPUs per guest', '1')
    .option('--iothread', 'give each guest\'s data disk a dedicated IOThread (thread "IO io1")')
    .option('--disk <MiB>', 'size of each guest\'s data disk (sparse; mounted at /data and /tmp)', '512')
    .option('--boot-timeout <s>', 'seconds to wait for every guest to answer SSH (default grows with the number of guests)')
    .option('--manager <manager>', 'qemu (QEMU started by hand) or libvirt (a libvirtd per node runs each guest as a domain; needs root)', 'qemu')
    .option('--vcpupin', 'with --manager libvirt: pin each guest\'s vCPUs in its domain XML (<vcpupin>, spread over the host CPUs)')
    .option('--slurm', 'make every node a Slurm node: a slurmctld of the testbed\'s and a slurmd in each node\'s PID namespace (needs root); then salloc/srun with SLURM_CONF as printed')
    .option('--format <format>', 'table|csv|json for the guest list printed at the end')
    .action(async (flags: UpFlags) => {
      const format = resolveFormat(flags.format);
      if (flags.manager !== 'qemu' && flags.manager !== 'libvirt') throw new UserError(`--manager: expected qemu or libvirt, got '${flags.manager}'`);
      const abort = new AbortController();
      const onSignal = () => { process.stderr.write('expert: interrupted, tearing the testbed down\n'); abort.abort(); };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await testbedUp({
          vms: parseIntFlag('--vms', flags.vms, 2, 1, LIMITS.vms),
          nodes: parseIntFlag('--nodes', flags.nodes, 1, 1, LIMITS.nodes),
          accel: parseAccelRequest(flags.accel),
          memoryMb: parseIntFlag('--memory', flags.memory, 256, LIMITS.memoryMb[0], LIMITS.memoryMb[1]),
          cpus: parseIntFlag('--cpus', flags.cpus, 1, LIMITS.cpus[0], LIMITS.cpus[1]),
          iothread: Boolean(flags.iothread),
          diskMb: parseIntFlag('--disk', flags.disk, 512, LIMITS.diskMb[0], LIMITS.diskMb[1]),
          manager: flags.manager,
          vcpupin: Boolean(flags.vcpupin),
          slurm: Boolean(flags.slurm),
          bootTimeoutMs: flags.bootTimeout === undefined ? undefined : parseIntFlag('--boot-timeout', flags.bootTimeout, 0, 1, 3600) * 1000,
          onProgress: (line) => process.stderr.write(`testbed: ${line}\n`),
          signal: abort.signal,
        });
        if (abort.signal.aborted) { process.exitCode = 130; return; }
        const s = result.status;
        process.stderr.write(result.alreadyUp
          ? `testbed: already up (${s.guests.length} guests, accel ${s.accel}, since ${s.startedAt}); nothing to do${result.differences?.length ? `\ntestbed: note: it runs with ${result.differences.join(', ')}: \`expert testbed down\` first to change it` : ''}\n`
          : `testbed: up: ${s.guests.length} guests on ${s.nodes.length} node${s.nodes.length > 1 ? 's' : ''}, accel ${s.accel}${s.manager === 'libvirt' ? ', managed by libvirt' : ''}${result.bootMs ? `, booted in ${(result.bootMs / 1000).toFixed(1)} s` : ''}; machine map ${s.machinesFile}\n`);
        if (s.slurm) process.stderr.write(slurmHint(s.slurm, s.machinesFile.replace(/machines\.yaml$/, 'slurm-machines.yaml')));
        process.stdout.write(guestTable(s, format));
      } catch (error) {
        if (abort.signal.aborted) { process.exitCode = 130; return; }
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  testbed
    .command('down')
    .description('stop every guest and node sshd (QMP quit, SIGTERM, SIGKILL) and remove the testbed state; console logs stay')
    .action(async () => {
      const result = await testbedDown();
      process.stderr.write(result.wasUp
        ? `testbed: down: stopped ${result.stoppedGuests.length} guests (${result.stoppedGuests.join(', ')}) and ${result.stoppedNodes.length} node sshd${result.stoppedNodes.length > 1 ? 's' : ''}${result.stoppedSlurm ? ', and the testbed\'s Slurm (slurmctld and each node\'s slurmd)' : ''}\n`
        : 'testbed: was not up; nothing to do\n');
    });

  testbed
    .command('status')
    .description('guests with QEMU PID, thread ids and names, SSH ports, accelerator')
    .option('--threads', 'one row per QEMU thread (tid and name) instead of one per guest')
    .option('--format <format>', 'table|csv|json')
    .action(async (flags: { threads?: boolean; format?: string }) => {
      const format = resolveFormat(flags.format);
      const status = await testbedStatus();
      if (!status) throw new UserError('testbed: not up (no .expert/testbed/state.json here): run `expert testbed up`', { exitCode: 1 });
      if (format === 'table') {
        process.stderr.write(`testbed: manager ${status.manager}; accel ${status.accel} (${status.accelReason}); QEMU ${status.qemuVersion}; image ${status.imageHash}; nodes ${status.nodes.map((n) => `${n.name}=${n.host}:${n.port ?? ''}${n.running ? '' : ' (down)'}`).join(' ')}\n`);
        if (status.slurm) process.stderr.write(`testbed: slurm: slurmctld ${status.slurm.controllerRunning ? `pid ${status.slurm.controllerPid}` : 'not running'}; ${status.slurm.nodes.map((n) => `${n.name}=${n.running ? `slurmd pid ${n.slurmdPid}${n.inNodeNamespace ? '' : ' (outside its node\'s namespace)'}` : 'no slurmd'} ${n.state ?? '?'}`).join(', ')}; partition ${status.slurm.partition}; SLURM_CONF=${status.slurm.conf}\n`);
        for (const p of status.problems) process.stderr.write(`testbed: problem: ${p}\n`);
      }
      process.stdout.write(flags.threads ? threadTable(status, format) : guestTable(status, format));
      if (!status.complete) process.exitCode = 1;
    });
}

/** What a user types next to use the testbed's Slurm. */
function slurmHint(slurm: NonNullable<TestbedStatus['slurm']>, slurmMachines: string): string {
  return [
    `testbed: slurm: ${slurm.nodes.map((n) => `${n.name} ${n.state ?? '?'}`).join(', ')} in partition ${slurm.partition}; Slurm's commands need:`,
    `testbed:   export SLURM_CONF=${slurm.conf}`,
    `testbed: then e.g. \`salloc -N ${slurm.nodes.length}\` and, inside it, \`expert tune discover --machines slurm\` or a batch with \`machines: slurm\` (nodes only) or \`machines: {slurm: {vms: discover}}\` (with each node's guests, found there; ${slurmMachines} says the same)`,
    '',
  ].join('\n');
}

function guestTable(s: TestbedStatus, format: OutputFormat): string {
  const columns = ['node', 'guest', 'pid', 'running', 'ssh_host', 'ssh_port', 'accel', 'memory_mb', 'cpus', 'threads'];
  const rows: unknown[][] = s.guests.map((g) => [g.node, g.name, g.pid, g.running, g.sshHost, g.sshPort, s.accel, s.memoryMb, s.cpus,
    format === 'json' ? g.threads : g.threads.map((t) => `${t.tid}:${t.name}`).join(' ')]);
  // With --slurm, what the table format prints on stderr, per guest's node (csv/json print data only on stdout).
  if (s.slurm) {
    const slurm = s.slurm;
    columns.push('slurm_state', 'slurmd_pid', 'slurmd_in_node_ns', 'slurmctld_pid', 'slurm_partition', 'slurm_conf');
    s.guests.forEach((g, i) => {
      const n = slurm.nodes.find((node) => node.name === g.node);
      rows[i]!.push(n?.state ?? null, n?.running ? n.slurmdPid ?? null : null, n?.inNodeNamespace ?? false, slurm.controllerRunning ? slurm.controllerPid ?? null : null, slurm.partition, slurm.conf);
    });
  }
  return formatRows(columns, rows, format);
}

function threadTable(s: TestbedStatus, format: OutputFormat): string {
  const rows = s.guests.flatMap((g) => g.threads.map((t) => [g.node, g.name, g.pid, t.tid, t.name]));
  return formatRows(['node', 'guest', 'pid', 'tid', 'thread'], rows, format);
}

/**
 * `slurm: {vms: discover}` (pure): the guests Tune's discovery found on a
 * node, as machine map entries. A guest's name is QEMU's `-name`; its SSH
 * address is its user-net forward to port 22 as the node sees it, with the
 * node's NodeAddr when the forward binds every address. Guests of the local
 * testbed (their QEMU files lie in its run folder) log in as the testbed's
 * machine map says; others as `slurm.vms.user`, else as ~/.ssh/config says.
 */
import type { SshSettings, VmSpec } from '../batch/config/types.js';
import { bindsAllAddresses, HostForwardError, sshForwardFromArgv } from '../tune/qemu-cmdline.js';
import type { SlurmNode } from './allocation.js';

/** What discovery says about one guest (a GuestInfo's fields). */
export interface DiscoveredGuest {
  name: string;
  pid: number;
  argv: readonly string[];
}

/** How the local testbed's guests are logged into (from its state: see testbed/layout.ts). */
export interface TestbedGuestAccess {
  /** The testbed's run folder: a QEMU whose command line names files in it is the testbed's. */
  run: string;
  user: string;
  ssh: SshSettings;
  /** The testbed's facts, copied into provenance as for `machines: testbed`. */
  facts: Record<string, unknown>;
}

/** A guest whose SSH address cannot be read from its command line. */
export class GuestAddressError extends Error {
  constructor(
    readonly node: string,
    readonly guest: string,
    reason: string,
  ) {
    super(`guest ${guest} found on node ${node} ${reason}`);
    this.name = 'GuestAddressError';
  }
}

export interface DiscoveredVms {
  vms: VmSpec[];
  /** Some guest is the testbed's (its SSH settings apply). */
  testbed: boolean;
}

export function vmsFromDiscovery(node: SlurmNode, guests: readonly DiscoveredGuest[], options: { user?: string } = {}, testbed?: TestbedGuestAccess): DiscoveredVms {
  let fromTestbed = false;
  const vms = guests.map((guest) => {
    const shown = `${guest.name} (QEMU pid ${guest.pid} there)`;
    let forward;
    try {
      forward = sshForwardFromArgv(guest.argv);
    } catch (e) {
      if (e instanceof HostForwardError) throw new GuestAddressError(node.name, shown, `has a user-net forward QEMU's syntax does not allow: ${e.message}`);
      throw e;
    }
    if (!forward) {
      throw new GuestAddressError(node.name, shown, 'has no user-net forward to its port 22 on its QEMU command line (hostfwd=tcp:[ADDR]:PORT-:22), so its SSH address cannot be read: give the guests of this node under `nodes:` or with a template (slurm.vms: {count, host, port})');
    }
    const ours = testbed !== undefined && guest.argv.some((arg) => arg.includes(`${testbed.run}/`));
    fromTestbed ||= ours;
    const vm: VmSpec = { name: guest.name, host: bindsAllAddresses(forward) ? node.addr : forward.hostAddr, port: forward.hostPort };
    const user = options.user ?? (ours ? testbed!.user : undefined);
    if (user !== undefined) vm.user = user;
    return vm;
  });
  return { vms, testbed: fromTestbed };
}

/**
 * The QEMU command line of one testbed guest (pure). Shaped like what libvirt
 * starts on a real node, so Tune finds the same things: `-name guest=X,debug-threads=on`
 * names the vCPU (`CPU 0/TCG`, `CPU 0/KVM`) and I/O (`IO io1`) threads.
 */

export type Accel = 'kvm' | 'tcg';

export interface GuestLaunch {
  name: string;
  accel: Accel;
  memoryMb: number;
  cpus: number;
  /** A dedicated IOThread for the data disk (`-object iothread`). */
  iothread: boolean;
  kernel: string;
  initrd: string;
  /** Shared, read-only root disk of the image. */
  rootDisk: string;
  /** This guest's own data disk (raw, ext4), mounted at /data and /tmp in the guest. */
  dataDisk: string;
  /** Loopback port forwarded to the guest's port 22. */
  sshPort: number;
  /** `TYPE:BASE64` of the key allowed to log in as root. */
  authorizedKey: string;
  qmpSocket: string;
  consoleLog: string;
  pidFile: string;
}

/** The guest kernel's command line (shared with the libvirt domain XML). */
export function kernelAppend(g: Pick<GuestLaunch, 'name' | 'authorizedKey'>): string {
  return [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    // Faster boots, above all under TCG: no legacy keyboard probing, no TSC
    // and timer checks, no crypto self-tests, no W+X scan, no mitigations.
    'mitigations=off',
    'nowatchdog',
    'i8042.noaux', 'i8042.nokbd', 'i8042.nopnp',
    'tsc=reliable', 'no_timer_check',
    'cryptomgr.notests',
    '8250.nr_uarts=1',
    'random.trust_cpu=on',
    'rodata=off',
    // Two slow initcalls nothing here needs (kprobe tracing, a KDF self-test): ~0.3 s under TCG.
    'initcall_blacklist=init_kprobe_trace,crypto_kdf108_init',
    `expert.hostname=${g.name}`,
    `expert.key=${g.authorizedKey}`,
  ].join(' ');
}

export function qemuArgs(g: GuestLaunch): string[] {
  const append = kernelAppend(g);
  const args = [
    '-name', `guest=${g.name},debug-threads=on`,
    '-machine', g.accel === 'kvm' ? 'q35,accel=kvm' : 'q35,accel=tcg',
    '-cpu', g.accel === 'kvm' ? 'host' : 'max',
    '-m', String(g.memoryMb),
    '-smp', String(g.cpus),
    '-kernel', g.kernel,
    '-initrd', g.initrd,
    '-append', append,
    '-drive', `file=${g.rootDisk},if=none,id=root,format=raw,readonly=on`,
    '-device', 'virtio-blk-pci,drive=root',
    '-drive', `file=${g.dataDisk},if=none,id=data,format=raw`,
  ];
  if (g.iothread) args.push('-object', 'iothread,id=io1', '-device', 'virtio-blk-pci,drive=data,iothread=io1');
  else args.push('-device', 'virtio-blk-pci,drive=data');
  args.push(
    '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${g.sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=net0',
    '-device', 'virtio-rng-pci',
    '-qmp', `unix:${g.qmpSocket},server=on,wait=off`,
    '-serial', `file:${g.consoleLog}`,
    '-display', 'none',
    '-monitor', 'none',
    '-nodefaults',
    '-no-reboot',
    '-pidfile', g.pidFile,
    '-daemonize',
  );
  return args;
}

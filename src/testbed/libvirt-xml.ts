/**
 * The libvirt domain XML of one testbed guest (pure): the same guest as
 * qemu-args.ts starts by hand (image, disks, kernel command line, SSH port
 * forward), as a real libvirt host would define it. `type='kvm'` when the
 * accelerator is KVM, else `type='qemu'` (TCG). User-mode networking with a
 * host port forward is passed on QEMU's command line (libvirt's own
 * `<portForward>` needs passt, which Debian 12's libvirt does not pull in).
 */
import { kernelAppend, type GuestLaunch } from './qemu-args.js';

export interface DomainLaunch extends GuestLaunch {
  /** `<vcpupin>` per vCPU (vCPU index → host CPU list), as hosts with dedicated CPUs have them. */
  vcpupin?: Record<number, string>;
}

const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

export function domainXml(g: DomainLaunch): string {
  const pins = Object.entries(g.vcpupin ?? {});
  const lines = [
    `<domain type='${g.accel === 'kvm' ? 'kvm' : 'qemu'}' xmlns:qemu='${QEMU_NS}'>`,
    `  <name>${esc(g.name)}</name>`,
    `  <memory unit='MiB'>${g.memoryMb}</memory>`,
    `  <vcpu placement='static'>${g.cpus}</vcpu>`,
    ...(g.iothread ? ['  <iothreads>1</iothreads>'] : []),
    ...(pins.length ? ['  <cputune>', ...pins.map(([v, cpus]) => `    <vcpupin vcpu='${v}' cpuset='${esc(cpus)}'/>`), '  </cputune>'] : []),
    '  <os>',
    "    <type arch='x86_64' machine='q35'>hvm</type>",
    `    <kernel>${esc(g.kernel)}</kernel>`,
    `    <initrd>${esc(g.initrd)}</initrd>`,
    `    <cmdline>${esc(kernelAppend(g))}</cmdline>`,
    '  </os>',
    g.accel === 'kvm' ? "  <cpu mode='host-passthrough'/>" : "  <cpu mode='maximum'/>",
    '  <on_poweroff>destroy</on_poweroff>',
    '  <on_reboot>destroy</on_reboot>',
    '  <on_crash>destroy</on_crash>',
    '  <devices>',
    '    <emulator>/usr/bin/qemu-system-x86_64</emulator>',
    "    <disk type='file' device='disk'>",
    "      <driver name='qemu' type='raw'/>",
    `      <source file='${esc(g.rootDisk)}'/>`,
    "      <target dev='vda' bus='virtio'/>",
    '      <readonly/>',
    '    </disk>',
    "    <disk type='file' device='disk'>",
    `      <driver name='qemu' type='raw'${g.iothread ? " iothread='1'" : ''}/>`,
    `      <source file='${esc(g.dataDisk)}'/>`,
    "      <target dev='vdb' bus='virtio'/>",
    '    </disk>',
    "    <controller type='usb' model='none'/>",
    "    <serial type='file'>",
    `      <source path='${esc(g.consoleLog)}'/>`,
    "      <target port='0'/>",
    '    </serial>',
    "    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    "    <memballoon model='none'/>",
    '  </devices>',
    '  <qemu:commandline>',
    ...['-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${g.sshPort}-:22`, '-device', 'virtio-net-pci,netdev=net0,bus=pcie.0,addr=0x10'].map((a) => `    <qemu:arg value='${esc(a)}'/>`),
    '  </qemu:commandline>',
    '</domain>',
    '',
  ];
  return lines.join('\n');
}

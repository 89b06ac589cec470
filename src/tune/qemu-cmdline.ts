/**
 * What a QEMU command line says about its guest: whether it is QEMU at all,
 * and the guest's name (`-name guest=X,debug-threads=on` as libvirt writes
 * it, or `-name X`), following QEMU's option syntax (`,,` is a literal comma).
 */

export function isQemuArgv(argv: readonly string[]): boolean {
  const program = (argv[0] ?? '').split('/').pop() ?? '';
  return program.startsWith('qemu-system') || program.startsWith('qemu-kvm');
}

/** Splits a QEMU option value at single commas; `,,` stands for one comma. */
export function splitQemuOpts(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === ',') {
      if (value[i + 1] === ',') {
        current += ',';
        i++;
      } else {
        parts.push(current);
        current = '';
      }
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** The guest name, or undefined when QEMU was started without `-name`. */
export function guestNameFromArgv(argv: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((arg === '-name' || arg === '--name') && i + 1 < argv.length) value = argv[++i];
    else if (arg.startsWith('-name=') || arg.startsWith('--name=')) value = arg.slice(arg.indexOf('=') + 1);
  }
  if (value === undefined) return undefined;
  const parts = splitQemuOpts(value);
  let name: string | undefined;
  parts.forEach((part, index) => {
    const eq = part.indexOf('=');
    // The first part may be the implied key (`-name X`); QEMU only knows a few keys here.
    const key = eq < 0 ? undefined : part.slice(0, eq);
    if (key === 'guest') name = part.slice(eq + 1);
    else if (index === 0 && (key === undefined || !['process', 'debug-threads'].includes(key))) name = part;
  });
  return name;
}

/** `debug-threads=on` names QEMU's threads (`CPU 0/KVM`, `IO io1`, `worker`); without it every thread is `qemu-system-*`. */
export function hasDebugThreads(argv: readonly string[]): boolean {
  return argv.some((arg) => /(^|,)debug-threads=(on|yes|true)(,|$)/.test(arg));
}

/**
 * What provenance asks a host, as one short shell script (the same over SSH
 * and locally), and how to read its answer. Pure: builds text, parses text.
 */

/** Programs whose version is worth recording, and the cheap command that prints it. */
export const VERSION_COMMANDS: Record<string, string> = {
  iozone: "iozone -v 2>&1 | grep -m1 -i 'version'",
  fio: 'fio --version 2>&1 | head -n1',
  vmstat: 'vmstat -V 2>&1 | head -n1',
  perf: 'perf --version 2>&1 | head -n1',
  sar: 'sar -V 2>&1 | head -n1',
  sadf: 'sadf -V 2>&1 | head -n1',
  iostat: 'iostat -V 2>&1 | head -n1',
  mpstat: 'mpstat -V 2>&1 | head -n1',
  pidstat: 'pidstat -V 2>&1 | head -n1',
  dd: 'dd --version 2>&1 | head -n1',
  'stress-ng': 'stress-ng --version 2>&1 | head -n1',
};

export interface HostFacts {
  kernel?: string;
  cpu_model?: string;
  cores?: number;
  memory_kb?: number;
  /** Program name → its version line. */
  programs: Record<string, string>;
}

/** The program a command line runs: its first word, skipping `env X=Y`, `sudo`, `nice -n N`, `timeout N`. */
export function programOf(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  let i = 0;
  const skipWithArgs: Record<string, number> = { nice: 0, timeout: 1, taskset: 1, ionice: 0, chrt: 1 };
  while (i < words.length) {
    const word = words[i]!.replace(/^['"]|['"]$/g, '');
    if (word === 'env' || word === 'sudo' || word === 'exec' || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      i++;
      continue;
    }
    if (word in skipWithArgs) {
      i++;
      while (i < words.length && words[i]!.startsWith('-')) i += words[i] === '-n' || words[i] === '-c' ? 2 : 1;
      i += skipWithArgs[word]!;
      continue;
    }
    return word.split('/').pop() || undefined;
  }
  return undefined;
}

export function hostFactsScript(programs: readonly string[]): string {
  const lines = [
    'echo "kernel=$(uname -r)"',
    'echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
    `echo "cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"`,
    `echo "memory_kb=$(awk '/^MemTotal:/{print $2}' /proc/meminfo)"`,
  ];
  for (const program of programs) {
    const versionCommand = VERSION_COMMANDS[program];
    if (!versionCommand) continue;
    lines.push(`command -v ${program} >/dev/null 2>&1 && echo "version.${program}=$(${versionCommand} | tr -d '\\n')"`);
  }
  lines.push('true');
  return lines.join('\n');
}

export function parseHostFacts(output: string): HostFacts {
  const facts: HostFacts = { programs: {} };
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (value === '') continue;
    if (key.startsWith('version.')) facts.programs[key.slice('version.'.length)] = value;
    else if (key === 'kernel' || key === 'cpu_model') facts[key] = value;
    else if ((key === 'cores' || key === 'memory_kb') && /^\d+$/.test(value)) facts[key] = Number(value);
  }
  return facts;
}

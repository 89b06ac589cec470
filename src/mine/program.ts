/**
 * Which program a command line runs, looking through the wrappers a batch
 * puts in front of it (env assignments, sudo, taskset, nice, timeout, ...).
 * Pure: used to pick a parser when `process.parser` is empty.
 */
import { shellWords } from '../shell.js';

const WRAPPERS: Record<string, { withValue: readonly string[]; positional: number }> = {
  sudo: { withValue: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U'], positional: 0 },
  env: { withValue: ['-u', '-C', '-S'], positional: 0 },
  nice: { withValue: ['-n'], positional: 0 },
  ionice: { withValue: ['-c', '-n', '-p', '-P', '-u'], positional: 0 },
  taskset: { withValue: [], positional: 1 },
  timeout: { withValue: ['-s', '-k', '--signal', '--kill-after'], positional: 1 },
  stdbuf: { withValue: ['-i', '-o', '-e'], positional: 0 },
  chrt: { withValue: [], positional: 1 },
  numactl: { withValue: ['-C', '-N', '-m', '-p', '-i'], positional: 0 },
  exec: { withValue: [], positional: 0 },
  command: { withValue: [], positional: 0 },
  time: { withValue: ['-f', '-o'], positional: 0 },
  nohup: { withValue: [], positional: 0 },
};

/** The words of the real program's invocation: program basename first, then its arguments. */
export function programWords(command: string): string[] {
  let words = shellWords(command, { firstCommand: true });
  for (;;) {
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words = words.slice(1);
    if (words.length === 0) return [];
    const program = basename(words[0]!);
    // `sh -c 'vmstat 1'`: the program is the first one of the inner command.
    if (['sh', 'bash', 'dash', 'zsh'].includes(program) && words[1] === '-c' && words[2] !== undefined) return programWords(words[2]);
    const wrapper = WRAPPERS[program];
    if (!wrapper) return [program, ...words.slice(1)];
    let i = 1;
    while (i < words.length && words[i]!.startsWith('-') && words[i] !== '--') {
      const option = words[i]!;
      i += wrapper.withValue.includes(option) ? 2 : 1;
    }
    if (words[i] === '--') i++;
    // env's own assignments after options
    while (program === 'env' && i < words.length && words[i]!.includes('=')) i++;
    i += wrapper.positional;
    // nice -5 / -n 5 forms
    words = words.slice(i);
  }
}

export function programOf(command: string): string {
  return programWords(command)[0] ?? '';
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}

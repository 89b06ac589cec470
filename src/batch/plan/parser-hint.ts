/**
 * The parser a process's output is meant for, when the config names none:
 * inferred from the program the command starts (after `sudo`, `env`, `VAR=x`).
 * Only a hint stored in `process.parser`; Mine decides what to do with it.
 */
const KNOWN = new Set(['iozone', 'fio', 'vmstat', 'sar', 'sadf', 'iostat', 'mpstat', 'pidstat', 'dd']);

export function inferParser(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  let i = 0;
  while (i < words.length && (words[i] === 'sudo' || words[i] === 'env' || words[i] === 'exec' || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))) i++;
  const program = (words[i] ?? '').split('/').pop()!;
  if (program === 'perf' && words[i + 1] === 'stat') return 'perf-stat';
  if (program === 'iozone3') return 'iozone';
  return KNOWN.has(program) ? program : undefined;
}

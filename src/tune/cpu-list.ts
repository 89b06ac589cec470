/**
 * Linux CPU lists (`0-3,6`), as /proc, /sys and taskset print and take them.
 * Verification compares sets, since taskset may print `0,1` for `0-1`.
 */
import { UserError } from '../errors.js';

export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    const range = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!range) throw new UserError(`not a CPU list: '${text}' (expected e.g. 0-3,6)`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    const stride = range[3] === undefined ? 1 : Number(range[3]);
    if (to < from || stride < 1) throw new UserError(`not a CPU list: '${text}' (range ${part} is empty)`);
    for (let cpu = from; cpu <= to; cpu += stride) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The shortest list form: `0-3,6`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function sameCpuSet(a: string, b: string): boolean {
  return formatCpuList(parseCpuList(a)) === formatCpuList(parseCpuList(b));
}

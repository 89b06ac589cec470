/**
 * The magic table: every magic has a name, where it may stand (line, cell or
 * both), one line of summary and its usage. `%lsmagic`, `%name?` and
 * completion are all read from here, so a magic documents itself once.
 */
import type { KernelContext } from '../context.js';
import type { MagicSegment } from './parse.js';

export interface Magic {
  name: string;
  kind: 'line' | 'cell' | 'both';
  summary: string;
  usage: string;
  run(context: KernelContext, call: MagicSegment): Promise<void>;
}

export class MagicRegistry {
  private readonly magics = new Map<string, Magic>();

  add(...magics: Magic[]): this {
    for (const magic of magics) this.magics.set(magic.name, magic);
    return this;
  }

  get(name: string): Magic | undefined {
    return this.magics.get(name);
  }

  list(): Magic[] {
    return [...this.magics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Names a user may mean by `prefix` (with its `%`/`%%`), for tab completion. */
  complete(prefix: string): string[] {
    const cell = prefix.startsWith('%%');
    const stem = prefix.replace(/^%{1,2}/, '');
    return this.list()
      .filter((m) => m.name.startsWith(stem) && (cell ? m.kind !== 'line' : m.kind !== 'cell'))
      .map((m) => (cell ? '%%' : '%') + m.name);
  }

  helpText(magic: Magic): string {
    const forms = magic.kind === 'both' ? `%${magic.name} / %%${magic.name}` : magic.kind === 'cell' ? `%%${magic.name}` : `%${magic.name}`;
    return `${forms}: ${magic.summary}\n\n${magic.usage.trim()}\n`;
  }
}

/** Suggests the closest known name for a typo (edit distance at most 2). */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

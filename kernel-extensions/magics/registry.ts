/**
 * The magic table: every magic has a name, where it may stand (line, cell or
 * both), one line of summary and its usage. `%lsmagic`, `%name?` and
 * completion are all read from here, so a magic documents itself once.
 */
import type { KernelContext } from '../context.js';
import type { MagicSegment } from './parse.js';

export { closest } from '../../src/closest.js';

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

/**
 * The restore journal on disk: written BEFORE a thread is changed (write-ahead),
 * so `expert tune restore` can undo what a crashed run left. One JSON file,
 * replaced atomically (write + rename); entries leave it once restored.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Target } from '../batch/config/types.js';
import { UserError } from '../errors.js';
import type { ActionKind, DomainActionKind } from './actions.js';
import type { LibvirtTune, LibvirtUnit, ThreadKind, ThreadState } from './types.js';

/**
 * A libvirt domain's part of an entry: which backend changed what. Its live
 * pinning of `units` and its schedinfo `sched` keys are put back to `before`
 * (libvirt's own view, read just before the first change) through virsh.
 */
export interface DomainJournal {
  domain: string;
  uuid: string;
  before: LibvirtTune;
  units: LibvirtUnit[];
  sched: string[];
}

export interface JournalEntry {
  /** Node name (the `host` column of `tuning`). */
  node: string;
  /** How to reach the node again. */
  target: Target;
  batchId: number | null;
  run?: number;
  policy: string;
  guest: string;
  pid: number;
  tid: number;
  startTime: number;
  threadKind: ThreadKind;
  /** What was changed: only these are put back. */
  kinds: Array<ActionKind | DomainActionKind>;
  /** The state to return to: the thread's state before the FIRST change. */
  before: ThreadState;
  appliedAt: number;
  /** The process that made the change (a restore from elsewhere is a crash recovery). */
  owner: { pid: number };
  /** The store the change was recorded in, for markRestored. */
  store?: string;
  /** The thread's pin went through libvirt (this libvirt unit): restored after its domain's entry, with taskset to the exact affinity. */
  via?: { backend: 'libvirt'; uuid: string; unit: LibvirtUnit };
  /** Set on a domain entry (one per libvirt domain, `tid` is its QEMU PID): what libvirt must be given back. */
  domain?: DomainJournal;
}

interface JournalFile {
  version: 1;
  entries: JournalEntry[];
}

export function defaultJournalPath(storePath = './expert.duckdb'): string {
  return join(dirname(resolve(storePath)), '.expert', 'tune', 'journal.json');
}

export const entryKey = (e: Pick<JournalEntry, 'node' | 'tid' | 'startTime'> & { domain?: unknown }) => `${e.node}|${e.tid}|${e.startTime}${e.domain ? '|libvirt' : ''}`;

export class Journal {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly path: string) {}

  async entries(): Promise<JournalEntry[]> {
    await this.queue;
    return (await this.read()).entries;
  }

  /** Adds entries; an entry for a thread already journaled keeps its first before-state and gains the new kinds. Returns the keys that were new. */
  async add(entries: readonly JournalEntry[]): Promise<Set<string>> {
    const added = new Set<string>();
    await this.update((file) => {
      const byKey = new Map(file.entries.map((e) => [entryKey(e), e]));
      for (const entry of entries) {
        const existing = byKey.get(entryKey(entry));
        if (existing) {
          existing.kinds = [...new Set([...existing.kinds, ...entry.kinds])];
          if (existing.domain && entry.domain) {
            // The first snapshot stays (it is what libvirt said before the first change); what is put back grows.
            existing.domain.units = [...new Set([...existing.domain.units, ...entry.domain.units])];
            existing.domain.sched = [...new Set([...existing.domain.sched, ...entry.domain.sched])];
          }
          if (!existing.via && entry.via) existing.via = entry.via;
          for (const kind of entry.kinds) if (kind === 'ionice' && !existing.before.ionice && entry.before.ionice) existing.before.ionice = entry.before.ionice;
        } else {
          byKey.set(entryKey(entry), structuredClone(entry));
          added.add(entryKey(entry));
        }
      }
      file.entries = [...byKey.values()];
    });
    return added;
  }

  /** Replaces the before-state of a journaled thread (the exact state read just before the first change). */
  refineBefore(key: string, before: ThreadState): Promise<void> {
    return this.update((file) => {
      const entry = file.entries.find((e) => entryKey(e) === key);
      if (entry) entry.before = before;
    });
  }

  remove(keys: readonly string[]): Promise<void> {
    const drop = new Set(keys);
    return this.update((file) => {
      file.entries = file.entries.filter((e) => !drop.has(entryKey(e)));
    });
  }

  private update(change: (file: JournalFile) => void): Promise<void> {
    const next = this.queue.then(async () => {
      const file = await this.read();
      change(file);
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(file, null, 1));
      await rename(tmp, this.path);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<JournalFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: [] };
      throw error;
    }
    try {
      const file = JSON.parse(text) as JournalFile;
      if (!Array.isArray(file.entries)) throw new Error('no entries list');
      return file;
    } catch (error) {
      throw new UserError(`tune journal ${this.path} is damaged (${(error as Error).message}); move it away to continue, and check the threads it names by hand`);
    }
  }
}

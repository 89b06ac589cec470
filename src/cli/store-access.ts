/**
 * How verbs open the store. Only `expert run` creates one. Every other verb
 * opens an existing store read-only, so any number of them run side by side;
 * when the work must write (a parse that is not cached yet), the store is
 * reopened for writing once. Both wait a bounded time for another process's
 * lock, saying so, instead of failing at once.
 */
import { ReadOnlyStoreError } from '../errors.js';
import type { StoreLockedError } from '../store/open-errors.js';
import type { ExpertStore } from '../store/types.js';

/** How long a verb waits for another process's lock on the store. */
export const LOCK_WAIT_MS = Number(process.env.EXPERT_LOCK_WAIT_MS ?? 30_000);

function sayWaiting(error: StoreLockedError): void {
  process.stderr.write(`expert: ${error.path} is locked by ${error.holder}; waiting up to ${Math.round(LOCK_WAIT_MS / 1000)} s for it…\n`);
}

async function open(path: string, readOnly: boolean): Promise<ExpertStore> {
  const { openStore } = await import('../store/store.js');
  // A verb that writes only to cache a parse is over in moments: it does not serve live readers.
  return openStore(path, { readOnly, create: false, serve: false, lockWaitMs: LOCK_WAIT_MS, onLockWait: sayWaiting });
}

/**
 * Runs `work` on the existing store at `path`, read-only; if `work` finds it
 * must write (ReadOnlyStoreError), once more on the store opened for writing.
 */
export async function withExistingStore<T>(path: string, work: (store: ExpertStore) => Promise<T>): Promise<T> {
  try {
    return await withOpen(path, true, work);
  } catch (error) {
    if (!(error instanceof ReadOnlyStoreError)) throw error;
    return withOpen(path, false, work);
  }
}

async function withOpen<T>(path: string, readOnly: boolean, work: (store: ExpertStore) => Promise<T>): Promise<T> {
  const store = await open(path, readOnly);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

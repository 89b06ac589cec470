/**
 * Puts journaled threads back EXACTLY into their recorded before-state
 * (affinity list, nice, and ionice/chrt where those were changed), checks it
 * by reading /proc, marks `restored_at` in the store and drops the entries.
 * A thread that no longer exists (guest stopped, TID reused) has nothing left
 * to restore and leaves the journal too (its rows get restored_at: its
 * change ended with it). QEMU workers started while their guest was tuned
 * are then set like the guest's main thread (inherited-workers.ts). On each node, libvirt domains come
 * first (virsh puts their live pinning and schedinfo back, which also resets
 * their cgroups' cpusets), then every thread is set to its exact affinity.
 */
import type { Target } from '../batch/config/types.js';
import type { Executor } from '../batch/executor.js';
import type { ExpertStore } from '../store/types.js';
import { restoreActions, type ActionKind } from './actions.js';
import { runThreadScript } from './apply.js';
import type { ThreadOutcome } from './apply-script.js';
import { domainRestoreProblems, restoreDomainScript } from './restore-libvirt.js';
import { entryKey, type Journal, type JournalEntry } from './journal.js';
import { actionReached } from './verify.js';
import { resetInheritedWorkers } from './inherited-workers.js';

export interface RestoreResult {
  node: string;
  guest: string;
  tid: number;
  threadKind: string;
  outcome: 'restored' | 'gone' | 'failed';
  error?: string;
}

export interface RestoreContext {
  executorFor(target: Target): Promise<Executor>;
  journal?: Journal;
  /** Store(s) to mark restored_at in, by store path (an entry names the store it was recorded in). */
  storeFor?(entry: JournalEntry): ExpertStore | undefined;
  timeoutMs?: number;
}

export async function restoreEntries(entries: readonly JournalEntry[], context: RestoreContext): Promise<RestoreResult[]> {
  const byNode = new Map<string, JournalEntry[]>();
  for (const entry of entries) byNode.set(entry.node, [...(byNode.get(entry.node) ?? []), entry]);
  const results: RestoreResult[] = [];
  await Promise.all(
    [...byNode.values()].map(async (nodeEntries) => {
      const first = nodeEntries[0]!;
      let executor: Executor;
      try {
        executor = await context.executorFor(first.target);
      } catch (error) {
        for (const e of nodeEntries) results.push({ node: e.node, guest: e.guest, tid: e.tid, threadKind: e.threadKind, outcome: 'failed', error: `cannot reach ${e.node}: ${(error as Error).message}` });
        return;
      }
      const domainEntries = nodeEntries.filter((e) => e.domain);
      const threadEntries = nodeEntries.filter((e) => !e.domain);
      const done: string[] = [];
      const restoredThreads: JournalEntry[] = [];
      const restoredAt = Date.now();
      const markRestored = async (entry: JournalEntry) => {
        const store = context.storeFor?.(entry);
        if (store && !store.readOnly) await store.markRestored(entry.batchId, entry.node, entry.tid, restoredAt);
      };
      if (domainEntries.length) {
        const { domains, error: scriptError } = await runThreadScript(executor, [], context.timeoutMs, domainEntries.map(restoreDomainScript));
        for (const entry of domainEntries) {
          const base = { node: entry.node, guest: entry.guest, tid: entry.tid, threadKind: 'domain' };
          const outcome = domains.get(entry.domain!.uuid);
          if (!outcome) results.push({ ...base, outcome: 'failed', error: scriptError ?? 'no answer from libvirt' });
          else if (outcome.gone) { results.push({ ...base, outcome: 'gone' }); done.push(entryKey(entry)); }
          else {
            const problems = domainRestoreProblems(entry, outcome);
            if (problems.length) results.push({ ...base, outcome: 'failed', error: `domain ${entry.domain!.domain}: ${problems.join('; ')}` });
            else {
              results.push({ ...base, outcome: 'restored' });
              done.push(entryKey(entry));
              await markRestored(entry);
            }
          }
        }
      }
      const threads = threadEntries.map((e) => ({ pid: e.pid, tid: e.tid, startTime: e.startTime, actions: restoreActions(e.before, e.kinds.filter((k): k is ActionKind => k === 'pin' || k === 'nice' || k === 'ionice' || k === 'chrt')) }));
      const { outcomes, error: scriptError } = threads.length ? await runThreadScript(executor, threads, context.timeoutMs) : { outcomes: new Map<number, ThreadOutcome>(), error: undefined as string | undefined };
      for (const [index, entry] of threadEntries.entries()) {
        const outcome = outcomes.get(entry.tid);
        const base = { node: entry.node, guest: entry.guest, tid: entry.tid, threadKind: entry.threadKind };
        if (!outcome) {
          results.push({ ...base, outcome: 'failed', error: scriptError ?? 'no answer from the restore script' });
          continue;
        }
        if (outcome.gone && !outcome.before) {
          results.push({ ...base, outcome: 'gone' });
          done.push(entryKey(entry));
          // Its change ended with it: nothing of it is left in force.
          await markRestored(entry);
          continue;
        }
        const missed = threads[index]!.actions.filter((a) => !outcome.after || !actionReached(a, outcome.after));
        if (outcome.errors.length || missed.length) {
          const error = [...outcome.errors.map((e) => `${e.action}: ${e.message}`), ...missed.map((a) => `${a.kind} not back to ${JSON.stringify(a)}`)].join('; ');
          results.push({ ...base, outcome: 'failed', error });
          continue;
        }
        results.push({ ...base, outcome: 'restored' });
        done.push(entryKey(entry));
        restoredThreads.push(entry);
        await markRestored(entry);
      }
      // Workers QEMU started while the guest was tuned carry the tuning and no journal entry.
      for (const w of await resetInheritedWorkers(executor, first.node, restoredThreads, context.timeoutMs)) {
        if (w.outcome !== 'gone') results.push({ node: first.node, guest: w.guest, tid: w.tid, threadKind: 'worker', outcome: w.outcome, ...(w.error ? { error: w.error } : {}) });
      }
      if (context.journal && done.length) await context.journal.remove(done);
    }),
  );
  return results;
}

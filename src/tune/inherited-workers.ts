/**
 * QEMU's thread pool starts `worker` threads as I/O needs them and ends them
 * when idle. A worker starts with the affinity and nice of the thread that
 * created it: while a guest is tuned, the tuned ones. Such a worker has no
 * journal entry (it did not exist when the policy was applied) and would keep
 * the pin after the restore, until QEMU ends it; a policy applied again while
 * it lives would even record the inherited pin as its "before". So once a
 * guest's journaled threads are back, each worker of that QEMU whose affinity
 * or nice differs from the main thread's (now untuned) state is set to it.
 */
import type { Executor } from '../batch/executor.js';
import { restoreActions } from './actions.js';
import { runThreadScript } from './apply.js';
import type { ScriptThread } from './apply-script.js';
import { discoverNode } from './discover.js';
import type { JournalEntry } from './journal.js';
import type { ThreadInfo } from './types.js';

export interface WorkerReset {
  guest: string;
  tid: number;
  outcome: 'restored' | 'gone' | 'failed';
  error?: string;
}

/** The workers to reset (pure): of the processes `restored` tuned by pin or nice, the untracked workers not like their main thread. */
export function inheritedWorkers(restored: readonly JournalEntry[], threads: readonly ThreadInfo[]): Array<{ guest: string; main: ThreadInfo; worker: ThreadInfo }> {
  const tracked = new Set(restored.map((e) => `${e.pid}:${e.tid}`));
  const guests = new Map<number, string>();
  for (const e of restored) if (e.kinds.includes('pin') || e.kinds.includes('nice')) guests.set(e.pid, e.guest);
  const out: Array<{ guest: string; main: ThreadInfo; worker: ThreadInfo }> = [];
  for (const [pid, guest] of guests) {
    const main = threads.find((t) => t.pid === pid && t.tid === pid);
    if (!main) continue; // the guest is gone
    for (const t of threads) {
      if (t.pid !== pid || t.kind !== 'worker' || tracked.has(`${t.pid}:${t.tid}`)) continue;
      if (t.state.cpus !== main.state.cpus || t.state.nice !== main.state.nice) out.push({ guest, main, worker: t });
    }
  }
  return out;
}

/** Discovers the node again and sets each inherited worker to its main thread's affinity and nice; what it did, per worker. */
export async function resetInheritedWorkers(executor: Executor, node: string, restored: readonly JournalEntry[], timeoutMs?: number): Promise<WorkerReset[]> {
  if (!restored.some((e) => e.kinds.includes('pin') || e.kinds.includes('nice'))) return [];
  let threads: ThreadInfo[];
  try {
    threads = (await discoverNode(executor, node)).guests.flatMap((g) => g.threads);
  } catch {
    return []; // the restore itself succeeded; a node that cannot be looked at again has nothing more to say
  }
  const found = inheritedWorkers(restored, threads);
  if (found.length === 0) return [];
  const script: ScriptThread[] = found.map(({ main, worker }) => ({ pid: worker.pid, tid: worker.tid, startTime: worker.startTime, actions: restoreActions(main.state, ['pin', 'nice']) }));
  const { outcomes, error } = await runThreadScript(executor, script, timeoutMs);
  return found.map(({ guest, worker }) => {
    const o = outcomes.get(worker.tid);
    if (!o) return { guest, tid: worker.tid, outcome: 'failed', error: error ?? 'no answer from the restore script' };
    if (o.gone && !o.before) return { guest, tid: worker.tid, outcome: 'gone' };
    if (o.errors.length) return { guest, tid: worker.tid, outcome: 'failed', error: o.errors.map((e) => `${e.action}: ${e.message}`).join('; ') };
    return { guest, tid: worker.tid, outcome: 'restored' };
  });
}

/**
 * Applies a placement's policy parts before each run of it. Runs after Tune's
 * own hook in the same batch (which discovers, hands out `{guest_pids}`, and
 * after the run restores every thread journaled for the run, these too):
 * the parts are recorded under the run's batch, run and the placement's name.
 */
import type { PolicySpec } from '../../batch/config/types.js';
import type { RunHook } from '../../batch/hooks.js';
import { parseWindow, runNodeTargets } from '../hook.js';
import { defaultJournalPath, Journal } from '../journal.js';
import { applyPolicy } from '../session.js';

export function placementHook(partsByName: ReadonlyMap<string, readonly PolicySpec[]>, journalPath?: string): RunHook {
  return {
    async beforeRun(context) {
      const parts = partsByName.get(context.policy.name);
      if (!parts || parts.length === 0) return;
      const journal = new Journal(journalPath ?? defaultJournalPath(context.store.path));
      const nodes = await Promise.all(runNodeTargets(context).map(async (target) => ({ node: target.node, target, executor: await context.executors.get(target) })));
      const session = { store: context.store, batchId: context.batchId, run: context.run.index, journal, signal: context.signal };
      for (const part of parts) await applyPolicy(nodes, part, session, parseWindow);
    },
  };
}

/**
 * Pure checks: did a thread end up in the state an action asked for? And the
 * slice of a thread's state an action touches (what `tuning.before/after` hold).
 */
import { sameCpuSet } from './cpu-list.js';
import { SCHED_POLICY_NAME, SCHED_POLICY_NUMBER, type ActionKind, type ThreadAction } from './actions.js';
import type { ThreadState } from './types.js';

export function actionReached(action: ThreadAction, state: ThreadState): boolean {
  switch (action.kind) {
    case 'pin':
      return sameCpuSet(state.cpus, action.cpus);
    case 'nice':
      return state.nice === action.nice;
    case 'ionice': {
      if (!state.ionice || state.ionice.class !== action.class) {
        // Linux reports an unset class as `none` and derives best-effort from nice: accept none ⇄ none only.
        return false;
      }
      return action.class === 'idle' || action.class === 'none' || state.ionice.level === action.level;
    }
    case 'chrt':
      return state.schedPolicy === SCHED_POLICY_NUMBER[action.policy] && state.rtPriority === action.priority;
  }
}

export function stateSlice(kind: ActionKind, state: ThreadState | undefined): Record<string, unknown> | null {
  if (!state) return null;
  switch (kind) {
    case 'pin':
      return { cpus: state.cpus };
    case 'nice':
      return { nice: state.nice };
    case 'ionice':
      return state.ionice ? { class: state.ionice.class, level: state.ionice.level } : { class: 'unknown' };
    case 'chrt':
      return { policy: SCHED_POLICY_NAME[state.schedPolicy] ?? String(state.schedPolicy), priority: state.rtPriority };
  }
}

/**
 * The hooks `expert run` (and the kernel's %batch) put around every run.
 * Tune plugs in here: when it exports its RunHook, add it to the list for
 * plans whose policies change anything (the baseline-only plan needs none).
 */
import type { Plan } from '../config/types.js';
import type { RunHook } from '../hooks.js';

export function defaultHooks(_plan: Plan): RunHook[] {
  return [];
}
